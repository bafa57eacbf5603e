"""The traffic every source produces and every forecaster consumes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from coldbrew.errors import TrafficDataError


@dataclass(frozen=True)
class TrafficSeries:
    """Invocation counts in fixed-width bins for one function.

    ``counts[i]`` is the number of invocations that started in
    ``[start + i*step_s, start + (i+1)*step_s)``. ``filled`` lists the bins a
    source had no data for and filled (with the method in ``fill_note``), so a
    gap is reported, never silently zeroed.
    """

    name: str
    start: datetime
    step_s: int
    counts: tuple[float, ...]
    memory_mb: int | None = None
    timeout_s: int | None = None
    #: Per-invocation durations in ms when the source has them (Azure 2021).
    durations_ms: tuple[float, ...] | None = None
    filled: tuple[int, ...] = ()
    fill_note: str = ""
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.step_s <= 0:
            raise TrafficDataError(f"{self.name}: bin width must be positive, got {self.step_s}")
        if self.start.tzinfo is None:
            raise TrafficDataError(f"{self.name}: start must be timezone-aware (UTC)")
        if any(c < 0 for c in self.counts):
            raise TrafficDataError(f"{self.name}: counts must not be negative")

    @property
    def end(self) -> datetime:
        """The end of the last bin."""
        return self.start + timedelta(seconds=self.step_s * len(self.counts))

    def bin_start(self, index: int) -> datetime:
        """When bin ``index`` starts (UTC)."""
        return (self.start + timedelta(seconds=self.step_s * index)).astimezone(UTC)

    def split(self, at: int) -> tuple[TrafficSeries, TrafficSeries]:
        """(bins before ``at``, bins from ``at``): train on one, evaluate on the other."""
        head = replace(
            self, counts=self.counts[:at], filled=tuple(i for i in self.filled if i < at)
        )
        tail = replace(
            self,
            start=self.start + timedelta(seconds=self.step_s * at),
            counts=self.counts[at:],
            filled=tuple(i - at for i in self.filled if i >= at),
        )
        return head, tail

    def mean_concurrency(self, duration_s: float) -> float:
        """Mean concurrency at a given mean duration (Little's law: rate x duration)."""
        if not self.counts:
            return 0.0
        return sum(self.counts) / (len(self.counts) * self.step_s) * duration_s
