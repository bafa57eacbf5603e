"""Summaries of timing samples: min, median, p90, p99, max.

Percentiles interpolate linearly between the two nearest ranks (numpy's
default, and ``statistics.quantiles(method="inclusive")``), so the median of
an even count is the mean of the middle two and p90 of 10 samples lies
between the 9th and 10th. With so few samples a tail percentile is close to
the maximum; the raw samples are always kept beside the summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``; NaN when there are none."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


@dataclass(frozen=True)
class Summary:
    """Order statistics of one figure's samples (NaN throughout when empty)."""

    count: int
    min: float
    median: float
    p90: float
    p99: float
    max: float
    mean: float

    def to_json(self) -> dict[str, float | int | None]:
        """A JSON-ready dict; NaN (no samples) becomes null."""
        return {k: None if _is_nan(v) else v for k, v in asdict(self).items()}


def summarize(values: Sequence[float]) -> Summary:
    """Summarize ``values`` (milliseconds, requests/s, whatever they are)."""
    if not values:
        nan = math.nan
        return Summary(0, nan, nan, nan, nan, nan, nan)
    return Summary(
        count=len(values),
        min=float(min(values)),
        median=percentile(values, 50),
        p90=percentile(values, 90),
        p99=percentile(values, 99),
        max=float(max(values)),
        mean=math.fsum(values) / len(values),
    )


def _is_nan(value: float | int) -> bool:
    return isinstance(value, float) and math.isnan(value)
