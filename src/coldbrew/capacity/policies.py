"""Provisioned-concurrency policies: how many environments are provisioned, minute by minute.

A :class:`Policy` is an immutable description; :meth:`Policy.start` gives a
:class:`PolicyRun` for one replay. The simulator asks the run for the levels
of the next minutes (:meth:`PolicyRun.next_levels`), replays them, and tells
it what the metrics showed (:meth:`PolicyRun.observe`). An open-loop policy
(static, scheduled, oracle) answers the whole replay at once; a closed-loop one
(target tracking) answers one minute at a time and sees only the past.

Each minute has two levels: ``billed`` (configured, paid for) and ``ready``
(allocated, able to serve). Increases become ready only after an allocation
delay; decreases take effect at once. Only :class:`Oracle` reads the future,
from :attr:`PolicyContext.future_peak_concurrency`.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from coldbrew.errors import ConfigurationError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MINUTE_S = 60
#: Default allocation delay: provisioned environments are initialised before they serve;
#: AWS quotes "a few minutes" at most, and about a minute is typical for a small function.
#: An assumption, a parameter of every policy that changes its level.
ALLOCATION_DELAY_S = 60


@dataclass(frozen=True)
class PolicyContext:
    """What a policy is told when a replay starts."""

    start: datetime
    minutes: int
    #: Peak concurrency of the replayed requests in each minute: for :class:`Oracle` only.
    future_peak_concurrency: IntArray | None = None


@dataclass(frozen=True)
class Levels:
    """Provisioned levels for consecutive minutes: configured (billed) and ready to serve."""

    billed: IntArray
    ready: IntArray

    def __post_init__(self) -> None:
        if self.billed.shape != self.ready.shape or self.billed.ndim != 1 or not len(self.billed):
            raise ConfigurationError("levels: billed and ready must be equal, non-empty 1-D arrays")


@dataclass(frozen=True)
class Observation:
    """ProvisionedConcurrencyUtilization for each minute just replayed (NaN: nothing ready)."""

    average: FloatArray
    maximum: FloatArray


class PolicyRun(Protocol):
    """One replay's worth of decisions."""

    def next_levels(self) -> Levels:
        """The levels of the next one or more minutes."""
        ...

    def observe(self, observation: Observation) -> None:
        """The metrics of the minutes :meth:`next_levels` returned, once replayed."""
        ...


class Policy(Protocol):
    """A provisioned-concurrency policy."""

    @property
    def name(self) -> str:
        """A short label for reports."""
        ...

    @property
    def assumptions(self) -> str:
        """The numbers this policy assumes, in words."""
        ...

    @property
    def clairvoyant(self) -> bool:
        """Whether it needs :attr:`PolicyContext.future_peak_concurrency`."""
        ...

    def start(self, context: PolicyContext) -> PolicyRun:
        """A fresh run for one replay."""
        ...


def delay_minutes(delay_s: float) -> int:
    """An allocation delay in whole minutes (levels change per minute), rounded up."""
    if delay_s < 0:
        raise ConfigurationError(f"allocation delay must not be negative, got {delay_s} s")
    return math.ceil(delay_s / MINUTE_S)


def ready_levels(billed: IntArray, delay_min: int) -> IntArray:
    """Ready level per minute: an increase serves ``delay_min`` minutes later, a decrease at once.

    The level before the first minute counts as already ready.
    """
    if delay_min == 0 or not len(billed):
        return billed.copy()
    padded = np.concatenate([np.full(delay_min, billed[0]), billed])
    windows = np.lib.stride_tricks.sliding_window_view(padded, delay_min + 1)
    return np.asarray(windows.min(axis=1), dtype=np.int64)


@dataclass
class _FixedRun:
    """An open-loop run: every level known at the start."""

    levels: Levels

    def next_levels(self) -> Levels:
        return self.levels

    def observe(self, observation: Observation) -> None:
        """Open loop: the metrics change nothing."""


def _check_level(level: int, what: str) -> None:
    if level < 0:
        raise ConfigurationError(f"{what} must not be negative, got {level}")


@dataclass(frozen=True)
class OnDemandOnly:
    """No provisioned concurrency: every environment is on demand."""

    name: str = "on-demand"
    assumptions: str = "no provisioned concurrency"
    clairvoyant: bool = False

    def start(self, context: PolicyContext) -> PolicyRun:
        """Level 0 throughout."""
        zeros = np.zeros(context.minutes, dtype=np.int64)
        return _FixedRun(Levels(zeros, zeros))


@dataclass(frozen=True)
class StaticLevel:
    """A constant provisioned level, enabled (and ready) for the whole replay."""

    level: int
    clairvoyant: bool = False

    def __post_init__(self) -> None:
        _check_level(self.level, "static level")

    @property
    def name(self) -> str:
        """``static-N``."""
        return f"static-{self.level}"

    @property
    def assumptions(self) -> str:
        """The level, ready from the first minute."""
        return f"{self.level} provisioned, ready from the start"

    def start(self, context: PolicyContext) -> PolicyRun:
        """The level for every minute."""
        levels = np.full(context.minutes, self.level, dtype=np.int64)
        return _FixedRun(Levels(levels, levels))


@dataclass(frozen=True)
class ScheduleBlock:
    """Provision ``level`` from ``start`` (inclusive) to ``end`` (exclusive), UTC."""

    start: datetime
    end: datetime
    level: int

    def __post_init__(self) -> None:
        _check_level(self.level, "scheduled level")
        if self.end <= self.start:
            raise ConfigurationError(f"schedule block ends ({self.end}) before it starts")


@dataclass(frozen=True)
class Scheduled:
    """Levels by time block (what the tuner produces from forecasts); ``default`` elsewhere.

    A minute takes the level of the block its start falls in. As with
    Application Auto Scaling's scheduled actions, a raised level is billed
    from the block's start but serves only after ``allocation_delay_s`` (so a
    tuner should start blocks early).
    """

    blocks: tuple[ScheduleBlock, ...]
    default: int = 0
    allocation_delay_s: float = ALLOCATION_DELAY_S
    name: str = "scheduled"
    clairvoyant: bool = False

    def __post_init__(self) -> None:
        _check_level(self.default, "default level")
        ordered = sorted(self.blocks, key=lambda b: b.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise ConfigurationError(f"schedule blocks overlap at {after.start}")
        delay_minutes(self.allocation_delay_s)

    @property
    def assumptions(self) -> str:
        """Block count and the allocation delay."""
        return (
            f"{len(self.blocks)} scheduled blocks, level {self.default} elsewhere; increases "
            f"ready {self.allocation_delay_s:g} s after the block starts (billed from its start)"
        )

    def start(self, context: PolicyContext) -> PolicyRun:
        """Each minute's level from its block."""
        billed = np.full(context.minutes, self.default, dtype=np.int64)
        for block in self.blocks:
            first = math.ceil((block.start - context.start) / timedelta(minutes=1))
            last = math.ceil((block.end - context.start) / timedelta(minutes=1))
            billed[max(first, 0) : max(min(last, context.minutes), 0)] = block.level
        ready = ready_levels(billed, delay_minutes(self.allocation_delay_s))
        return _FixedRun(Levels(billed, ready))


@dataclass(frozen=True)
class Oracle:
    """The limit: each minute, exactly the peak concurrency that minute will have.

    It knows the replayed requests (arrival and duration), so nothing spills to
    on demand: no cold starts, at the least provisioned level a per-minute
    policy can have. No allocation delay: it is a bound, not a controller.
    ``fraction`` < 1 provisions that share of each minute's peak (rounded up),
    trading cold starts for cost: the oracle's frontier.
    """

    fraction: float = 1.0
    name: str = "oracle"
    assumptions: str = "knows each minute's peak concurrency in advance; no allocation delay"
    clairvoyant: bool = True

    def start(self, context: PolicyContext) -> PolicyRun:
        """The future peaks, as given by the simulator."""
        peaks = context.future_peak_concurrency
        if peaks is None or len(peaks) != context.minutes:
            raise ConfigurationError("the oracle needs the future peak concurrency of every minute")
        if not 0.0 <= self.fraction <= 1.0:
            raise ConfigurationError(f"oracle fraction must be in [0, 1], got {self.fraction}")
        levels = np.ceil(np.asarray(peaks, dtype=np.float64) * self.fraction).astype(np.int64)
        return _FixedRun(Levels(levels, levels))


@dataclass(frozen=True)
class TargetTracking:
    """Application Auto Scaling target tracking on ``ProvisionedConcurrencyUtilization``.

    Modelled on the two CloudWatch alarms target tracking creates (assumptions,
    each a parameter):

    - one datapoint per minute (1-minute metric period), the ``Average``
      statistic by default (AWS's default; ``"maximum"`` reacts to bursts),
      available at the end of its minute (no CloudWatch publication lag);
    - scale out when ``scale_out_datapoints`` (3) consecutive datapoints are
      above ``target`` (0.7); scale in when ``scale_in_datapoints`` (15) are
      below ``target * scale_in_fraction`` (1.0; the low alarm AAS creates is
      reportedly at 90% of the target: pass 0.9 for that);
    - the new level is ``ceil(ready * utilisation / target)`` within
      ``[min_level, max_level]``, configured (billed) from the next minute and
      ready ``allocation_delay_s`` (60 s) later; no further action while an
      increase is still allocating, and each action needs fresh datapoints;
    - a minute with nothing ready has no datapoint (a level of 0 cannot scale
      out, as in AWS), hence ``min_level`` 1.
    """

    target: float = 0.7
    min_level: int = 1
    max_level: int = 1000
    initial_level: int | None = None
    scale_out_datapoints: int = 3
    scale_in_datapoints: int = 15
    scale_in_fraction: float = 1.0
    allocation_delay_s: float = ALLOCATION_DELAY_S
    statistic: str = "average"
    name: str = "target-tracking"
    clairvoyant: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.target <= 1.0:
            raise ConfigurationError(f"target utilisation must be in (0, 1], got {self.target}")
        _check_level(self.min_level, "min level")
        if self.max_level < self.min_level:
            raise ConfigurationError("max level is below min level")
        if self.scale_out_datapoints < 1 or self.scale_in_datapoints < 1:
            raise ConfigurationError("alarm datapoints must be at least 1")
        if self.statistic not in ("average", "maximum"):
            raise ConfigurationError(f"statistic must be average or maximum: {self.statistic!r}")
        if not 0.0 < self.scale_in_fraction <= 1.0:
            raise ConfigurationError("scale_in_fraction must be in (0, 1]")
        delay_minutes(self.allocation_delay_s)

    @property
    def assumptions(self) -> str:
        """Every number of the model above."""
        return (
            f"target {self.target:g} on the per-minute {self.statistic} of "
            f"ProvisionedConcurrencyUtilization; out after {self.scale_out_datapoints} "
            f"datapoints above, in after {self.scale_in_datapoints} below "
            f"{self.target * self.scale_in_fraction:g}; "
            f"level in [{self.min_level}, {self.max_level}]; new environments ready "
            f"{self.allocation_delay_s:g} s after the decision"
        )

    def start(self, context: PolicyContext) -> PolicyRun:
        """A closed-loop run, one minute at a time."""
        first = self.min_level if self.initial_level is None else self.initial_level
        return _TargetTrackingRun(self, level=min(max(first, self.min_level), self.max_level))


@dataclass
class _TargetTrackingRun:
    policy: TargetTracking
    level: int
    above: int = 0
    below: int = 0
    #: Configured levels of the last ``delay + 1`` minutes: the ready level is their minimum.
    recent: deque[int] = field(default_factory=deque)

    def __post_init__(self) -> None:
        depth = delay_minutes(self.policy.allocation_delay_s) + 1
        self.recent = deque([self.level] * depth, maxlen=depth)

    def next_levels(self) -> Levels:
        self.recent.append(self.level)
        return Levels(
            np.array([self.level], dtype=np.int64), np.array([min(self.recent)], dtype=np.int64)
        )

    def observe(self, observation: Observation) -> None:
        p = self.policy
        series = observation.average if p.statistic == "average" else observation.maximum
        ready = min(self.recent)
        for value in series.tolist():
            if math.isnan(value):
                self.above = self.below = 0
                continue
            self.above = self.above + 1 if value > p.target else 0
            self.below = self.below + 1 if value < p.target * p.scale_in_fraction else 0
            if ready < self.level:
                continue  # a scale-out is still allocating
            # The tolerance keeps float noise (0.7 / 0.7 = 1.0000000001) from adding a unit.
            needed = math.ceil(ready * value / p.target - 1e-9)
            wanted = min(max(needed, p.min_level), p.max_level)
            if (self.above >= p.scale_out_datapoints and wanted > self.level) or (
                self.below >= p.scale_in_datapoints and wanted < self.level
            ):
                self.level = wanted
                self.above = self.below = 0
