"""Ratios of coldbrew to each baseline, and the targets the project must meet.

A ratio is coldbrew's figure divided by the baseline's, both measured in the
same run, so lower is better for every figure here (time, bytes). The
acceptance targets concern the cold-start median only; the other ratios are
printed for information. Meeting a target is information too, never an exit
code: one run on a noisy machine is evidence, not a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

COLD_MEDIAN = "cold start median"
COLD_P90 = "cold start p90"
WARM_P50 = "warm p50, batch 1"
UNZIPPED = "size unzipped"
ZIPPED = "size zipped"
#: The figures a ratio is given for, in table order.
RATIO_FIGURES = (COLD_MEDIAN, COLD_P90, WARM_P50, UNZIPPED, ZIPPED)

#: Acceptance targets: coldbrew / baseline must be at most this.
TARGETS: Mapping[tuple[str, str], Fraction] = {
    (COLD_MEDIAN, "a"): Fraction(1, 2),
    (COLD_MEDIAN, "b"): Fraction(1, 25),
    (COLD_MEDIAN, "c"): Fraction(115, 100),
}


@dataclass(frozen=True)
class Ratio:
    """coldbrew's ``figure`` over ``baseline``'s, with its target if it has one."""

    figure: str
    baseline: str
    coldbrew: float
    other: float
    target: Fraction | None = None

    @property
    def value(self) -> float:
        """coldbrew / baseline; NaN when either figure is missing or the baseline is 0."""
        if not (math.isfinite(self.coldbrew) and math.isfinite(self.other)) or self.other == 0:
            return math.nan
        return self.coldbrew / self.other

    @property
    def met(self) -> bool | None:
        """Whether the target is met; None without a target or a ratio."""
        if self.target is None or math.isnan(self.value):
            return None
        return self.value <= float(self.target)

    @property
    def target_text(self) -> str:
        """``<= 0.5x``, ``<= 1/25x``; empty without a target."""
        if self.target is None:
            return ""
        if self.target.numerator == 1 and self.target.denominator > 2:
            return f"<= 1/{self.target.denominator}x"
        return f"<= {float(self.target):g}x"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "figure": self.figure,
            "baseline": self.baseline,
            "coldbrew": _finite(self.coldbrew),
            "baseline_value": _finite(self.other),
            "ratio": _finite(self.value),
            "target": None if self.target is None else float(self.target),
            "target_text": self.target_text or None,
            "met": self.met,
        }


def compute_ratios(
    coldbrew: Mapping[str, float | None], baselines: Mapping[str, Mapping[str, float | None]]
) -> list[Ratio]:
    """One :class:`Ratio` per figure both sides have, for each baseline in order.

    ``coldbrew`` and each baseline map figure names (:data:`RATIO_FIGURES`)
    to values; a missing or None value (the floor's warm latency, a
    directory's zipped size) gives no ratio, unless the figure has a target,
    which is always listed (as NaN, unmet) so a missing measurement shows.
    """
    ratios: list[Ratio] = []
    for key, figures in baselines.items():
        for figure in RATIO_FIGURES:
            target = TARGETS.get((figure, key))
            mine, theirs = coldbrew.get(figure), figures.get(figure)
            if (mine is None or theirs is None) and target is None:
                continue
            ratios.append(Ratio(figure, key, _num(mine), _num(theirs), target))
    return ratios


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
