"""Tomorrow's forecast for the tuner: pick the model by backtest, refit, predict one day.

Kept apart from :mod:`coldbrew.capacity.tuner`, which is pure queueing and
cost arithmetic on whatever forecast it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from coldbrew.capacity.forecast import SECONDS_PER_DAY, bins_per_day, check_quantile
from coldbrew.capacity.resample import aggregate
from coldbrew.capacity.selection import Selection, default_forecasters, select_forecaster
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ConfigurationError, TrafficDataError


@dataclass(frozen=True)
class DayForecast:
    """The quantile forecast of one day, per block, and how the model was chosen."""

    selection: Selection
    #: The model that produced the forecast (a fallback names itself).
    fitted_name: str
    fit_note: str
    day_start: datetime
    block_s: int
    quantile: float
    counts: tuple[float, ...]
    train_start: datetime
    train_days: int


def recent_whole_days(series: TrafficSeries, days: int) -> TrafficSeries:
    """The last ``days`` whole UTC days of ``series`` (midnight to midnight).

    The forecasters read time of day from the position of a bin relative to
    the first one, so the window must start at midnight; a partial first or
    last day is dropped rather than read as a traffic dip.
    """
    if days < 1:
        raise ConfigurationError(f"train days must be >= 1, got {days}")
    start = series.start
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    skip_s = (start - midnight).total_seconds()
    if skip_s % series.step_s:
        raise TrafficDataError(f"{series.name}: bins of {series.step_s} s are off the UTC day grid")
    lead = 0 if skip_s == 0 else int((SECONDS_PER_DAY - skip_s) // series.step_s)
    per_day = bins_per_day(series.step_s)
    whole = (len(series.counts) - lead) // per_day
    if whole < days:
        raise TrafficDataError(
            f"{series.name}: {max(whole, 0)} whole days of data, {days} train days asked for"
        )
    begin = lead + (whole - days) * per_day
    head, _ = series.split(begin + days * per_day)
    _, window = head.split(begin)
    return window


def peak_bins(series: TrafficSeries, block_s: int) -> TrafficSeries:
    """Each bin replaced by its block's busiest bin: a block's count read at its peak rate.

    Summed into blocks (as the forecasters do), a block's count becomes
    ``bins per block * busiest bin``: the count the block would have if all of
    it ran at its busiest bin's rate, so a burst inside the block sizes it.
    """
    k = block_s // series.step_s
    if k <= 1:
        return series
    counts = series.counts
    peaks = [max(counts[b : b + k]) for b in range(0, len(counts) - len(counts) % k, k)]
    return replace(series, counts=tuple(p for p in peaks for _ in range(k)))


def forecast_day(
    series: TrafficSeries,
    *,
    quantile: float = 0.9,
    block_s: int = 3600,
    train_days: int = 21,
    peak: bool = False,
) -> DayForecast:
    """Choose a forecaster on the last ``train_days`` days and forecast the day after them.

    The choice is :func:`~coldbrew.capacity.selection.select_forecaster`'s
    (rolling-origin backtest over the window's last week, or fewer days on a
    short window); the chosen model is then refitted on the whole window.
    """
    check_quantile(quantile)
    if train_days < 3:
        raise ConfigurationError(
            f"train days must be >= 3 (two to fit seasonal naive, one to score), got {train_days}"
        )
    window = recent_whole_days(series, train_days)
    if peak:
        window = peak_bins(window, block_s)
    eval_days = min(7, train_days - 2)
    selection = select_forecaster(
        window, quantile=quantile, block_s=block_s, train_days=train_days, eval_days=eval_days
    )
    forecaster = next(f for f in default_forecasters() if f.name == selection.chosen)
    blocks = aggregate(window, block_s)
    fitted = forecaster.fit(list(blocks.counts), step_s=block_s)
    counts = fitted.predict(bins_per_day(block_s), quantile)
    return DayForecast(
        selection=selection,
        fitted_name=fitted.name,
        fit_note=fitted.note,
        day_start=window.end,
        block_s=block_s,
        quantile=quantile,
        counts=counts,
        train_start=window.start,
        train_days=train_days,
    )
