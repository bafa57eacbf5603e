"""coldbrew's policy over an evaluation window: forecast each day, tune it, schedule it.

Every night of the evaluation window the day ahead is forecast from the data
before it (the forecaster chosen by backtest on the trailing training days),
tuned block by block (:func:`~coldbrew.capacity.tuner.tune`) and appended to
one :class:`~coldbrew.capacity.policies.Scheduled` policy. Nothing of a day
is seen before that day is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from coldbrew.capacity.day_forecast import forecast_day
from coldbrew.capacity.forecast import bins_per_day
from coldbrew.capacity.policies import ScheduleBlock, Scheduled
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.tuner import TunerSettings, tune
from coldbrew.errors import ConfigurationError

SECONDS_PER_DAY = 86_400
#: Size blocks from their busiest bin (see :func:`~coldbrew.capacity.day_forecast.forecast_day`).
PEAK_SIZING = False


@dataclass(frozen=True)
class DayPlan:
    """One evaluation day: which model forecast it and whether it beat seasonal naive."""

    day: str
    forecaster: str
    beats_naive: bool
    reason: str
    levels: tuple[int, ...]


@dataclass(frozen=True)
class RollingSchedule:
    """The policy to replay, and how each day of it was made."""

    policy: Scheduled
    days: tuple[DayPlan, ...]


def split_days(series: TrafficSeries, train_days: int) -> tuple[TrafficSeries, TrafficSeries]:
    """(the first ``train_days`` days, the rest): the train/evaluate split."""
    cut = train_days * bins_per_day(series.step_s)
    if cut >= len(series.counts):
        raise ConfigurationError(
            f"{series.name}: {len(series.counts) // bins_per_day(series.step_s)} days of data, "
            f"nothing left to evaluate after {train_days} train days"
        )
    return series.split(cut)


def schedule_blocks(
    starts: Sequence[datetime], levels: Sequence[int], *, end: datetime, lead_s: int
) -> tuple[ScheduleBlock, ...]:
    """Consecutive blocks (``starts[i]`` to the next start, the last to ``end``) at ``levels``.

    A block whose level is higher than the one before (level 0 before the
    first) starts ``lead_s`` early, so that much of the previous block pays
    for the new level while it is allocated; a lower level starts on time.
    Blocks at level 0 are left out (0 is the schedule's default).
    """
    if len(starts) != len(levels):
        raise ConfigurationError(f"{len(starts)} block starts for {len(levels)} levels")
    if lead_s < 0:
        raise ConfigurationError(f"allocation lead must be >= 0 s, got {lead_s}")
    early = timedelta(seconds=lead_s)
    moved = [
        start - early if level > previous else start
        for start, level, previous in zip(starts, levels, [0, *levels[:-1]], strict=True)
    ]
    return tuple(
        ScheduleBlock(start=start, end=stop, level=level)
        for start, stop, level in zip(moved, [*moved[1:], end], levels, strict=True)
        if level and stop > start
    )


def rolling_schedule(
    series: TrafficSeries,
    *,
    train_days: int,
    quantile: float,
    settings: TunerSettings,
    allocation_lead_s: int = 0,
    peak_sizing: bool = PEAK_SIZING,
) -> RollingSchedule:
    """Schedule every day after the first ``train_days`` from forecasts made the night before.

    ``allocation_lead_s`` starts each *increase* that early, so capacity is
    ready when the block begins (provisioning takes about a minute); a
    decrease waits for its block, since lowering early only spills the end of
    the busier block to on demand. ``peak_sizing`` forecasts each block's
    busiest bin rather than its total (see :func:`forecast_day`).
    """
    per_day = bins_per_day(series.step_s)
    total_days = len(series.counts) // per_day
    starts: list[datetime] = []
    levels: list[int] = []
    days: list[DayPlan] = []
    for day in range(train_days, total_days):
        history, _ = series.split(day * per_day)
        forecast = forecast_day(
            history,
            quantile=quantile,
            block_s=settings.block_s,
            train_days=train_days,
            peak=peak_sizing,
        )
        tuning = tune(forecast.counts, settings)
        starts += [forecast.day_start + timedelta(seconds=p.start_s) for p in tuning.blocks]
        levels += [plan.level for plan in tuning.blocks]
        days.append(
            DayPlan(
                day=forecast.day_start.date().isoformat(),
                forecaster=forecast.fitted_name,
                beats_naive=forecast.selection.beats_naive,
                reason=forecast.selection.reason,
                levels=tuple(plan.level for plan in tuning.blocks),
            )
        )
    end = starts[-1] + timedelta(seconds=settings.block_s) if starts else series.start
    blocks = schedule_blocks(starts, levels, end=end, lead_s=allocation_lead_s)
    name = f"coldbrew (q={quantile:g})"
    return RollingSchedule(Scheduled(blocks=blocks, name=name), tuple(days))
