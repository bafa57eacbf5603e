"""coldbrew's policy over an evaluation window: forecast each day, tune it, schedule it.

Every night of the evaluation window the day ahead is forecast from the data
before it (the forecaster chosen by backtest on the trailing training days),
tuned block by block (:func:`~coldbrew.capacity.tuner.tune`) and appended to
one :class:`~coldbrew.capacity.policies.Scheduled` policy. Nothing of a day
is seen before that day is replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from coldbrew.capacity.day_forecast import forecast_day
from coldbrew.capacity.forecast import bins_per_day
from coldbrew.capacity.policies import ScheduleBlock, Scheduled
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.tuner import TunerSettings, tune
from coldbrew.errors import ConfigurationError

SECONDS_PER_DAY = 86_400


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


def rolling_schedule(
    series: TrafficSeries,
    *,
    train_days: int,
    quantile: float,
    settings: TunerSettings,
    allocation_lead_s: int = 0,
) -> RollingSchedule:
    """Schedule every day after the first ``train_days`` from forecasts made the night before.

    ``allocation_lead_s`` starts each block that early, so capacity is ready
    when the block begins (provisioning takes about a minute).
    """
    per_day = bins_per_day(series.step_s)
    total_days = len(series.counts) // per_day
    blocks: list[ScheduleBlock] = []
    days: list[DayPlan] = []
    for day in range(train_days, total_days):
        history, _ = series.split(day * per_day)
        forecast = forecast_day(
            history, quantile=quantile, block_s=settings.block_s, train_days=train_days
        )
        tuning = tune(forecast.counts, settings)
        for plan in tuning.blocks:
            start = forecast.day_start + timedelta(seconds=plan.start_s - allocation_lead_s)
            end = forecast.day_start + timedelta(seconds=plan.end_s - allocation_lead_s)
            if plan.level:
                blocks.append(ScheduleBlock(start=start, end=end, level=plan.level))
        days.append(
            DayPlan(
                day=forecast.day_start.date().isoformat(),
                forecaster=forecast.fitted_name,
                beats_naive=forecast.selection.beats_naive,
                reason=forecast.selection.reason,
                levels=tuple(plan.level for plan in tuning.blocks),
            )
        )
    name = f"coldbrew (q={quantile:g})"
    return RollingSchedule(Scheduled(blocks=tuple(blocks), name=name), tuple(days))
