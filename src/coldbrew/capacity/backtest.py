"""Rolling-origin backtests: how well each forecaster predicted the days it had not seen.

For each origin (the start of each of the last ``eval_days`` days of the
training window), every forecaster is fitted on all bins before the origin and
asked for the next day at the target quantile; the forecast is scored by
**pinball loss** at that quantile (what a quantile forecast minimises) and by
MAE (for reading only: MAE judges a median, not a q=0.9 forecast).

Origins are whole days from the start of the series, so time of day lines up
with the history the forecasters see. At each origin a
:class:`~coldbrew.capacity.ensemble.QuantileAverage` reuses the fits of
members that are also candidates. Deterministic and pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coldbrew.capacity.ensemble import QuantileAverage
from coldbrew.capacity.forecast import (
    FittedForecast,
    Forecaster,
    bins_per_day,
    check_quantile,
)
from coldbrew.capacity.resample import aggregate
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ColdbrewError, ConfigurationError, TrafficDataError


def pinball_loss(actual: Sequence[float], predicted: Sequence[float], quantile: float) -> float:
    """Mean pinball (quantile) loss: ``q*(y-f)`` when under, ``(1-q)*(f-y)`` when over.

    Under-forecasting a q=0.9 quantile costs 9x what over-forecasting costs,
    the way a cold start costs more than an idle provisioned instance.
    """
    check_quantile(quantile)
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    if y.shape != f.shape:
        raise ConfigurationError(f"{len(y)} actual values but {len(f)} predictions")
    if not len(y):
        return math.nan
    diff = y - f
    return float(np.mean(np.maximum(quantile * diff, (quantile - 1.0) * diff)))


def mean_absolute_error(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean of ``|y - f|``."""
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    return float(np.mean(np.abs(y - f))) if len(y) else math.nan


@dataclass(frozen=True)
class OriginScore:
    """One forecast origin: fitted on bins ``[0, origin)``, scored on the next day."""

    origin: int
    pinball: float
    mae: float
    #: The model that actually forecast (differs from the forecaster on a fallback).
    fitted_name: str
    note: str = ""


@dataclass(frozen=True)
class BacktestResult:
    """One forecaster's rolling-origin scores."""

    forecaster: str
    quantile: float
    step_s: int
    origins: tuple[OriginScore, ...]

    @property
    def mean_pinball(self) -> float:
        """Pinball loss averaged over origins (the selection criterion)."""
        return float(np.mean([o.pinball for o in self.origins]))

    @property
    def mean_mae(self) -> float:
        """MAE averaged over origins (for information)."""
        return float(np.mean([o.mae for o in self.origins]))

    @property
    def fallbacks(self) -> tuple[OriginScore, ...]:
        """Origins where the forecaster degraded to another model."""
        return tuple(o for o in self.origins if o.fitted_name != self.forecaster)


def backtest(
    series: TrafficSeries,
    forecasters: Sequence[Forecaster],
    *,
    quantile: float = 0.9,
    block_s: int = 3600,
    train_days: int = 21,
    eval_days: int = 7,
) -> tuple[BacktestResult, ...]:
    """Score ``forecasters`` on the last ``eval_days`` days of the first ``train_days``.

    ``series`` is summed into ``block_s`` blocks first (the schedule's block
    size); nothing after ``train_days`` is read, so it stays a clean holdout.
    """
    check_quantile(quantile)
    if not 0 < eval_days < train_days:
        raise ConfigurationError(f"eval_days ({eval_days}) must be in 1..train_days-1")
    names = [f.name for f in forecasters]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"forecaster names must be unique, got {names}")
    blocks = aggregate(series, block_s)
    period = bins_per_day(block_s)
    counts = np.asarray(blocks.counts, dtype=np.float64)
    if len(counts) < train_days * period:
        raise TrafficDataError(
            f"{series.name}: {len(counts) / period:.1f} days of data, "
            f"the backtest needs {train_days}"
        )
    origins = [day * period for day in range(train_days - eval_days, train_days)]
    scores: dict[str, list[OriginScore]] = {name: [] for name in names}
    for origin in origins:
        history = counts[:origin].tolist()
        actual = counts[origin : origin + period].tolist()
        for forecaster, fitted in _fit_all(forecasters, history, block_s):
            predicted = fitted.predict(period, quantile)
            _check(forecaster.name, predicted, period)
            scores[forecaster.name].append(
                OriginScore(
                    origin=origin,
                    pinball=pinball_loss(actual, predicted, quantile),
                    mae=mean_absolute_error(actual, predicted),
                    fitted_name=fitted.name,
                    note=fitted.note,
                )
            )
    return tuple(BacktestResult(name, quantile, block_s, tuple(scores[name])) for name in names)


def _fit_all(
    forecasters: Sequence[Forecaster], history: list[float], step_s: int
) -> list[tuple[Forecaster, FittedForecast]]:
    """Every forecaster fitted on ``history``, an average reusing its candidate members' fits.

    Fitting Holt-Winters dominates a backtest; fitting it again inside an
    average of it would double that for the same numbers.
    """
    done: dict[str, tuple[Forecaster, FittedForecast]] = {}
    for forecaster in forecasters:
        if not isinstance(forecaster, QuantileAverage):
            done[forecaster.name] = (forecaster, forecaster.fit(history, step_s=step_s))
    for forecaster in forecasters:
        if isinstance(forecaster, QuantileAverage):
            fits: list[FittedForecast] = []
            for member in forecaster.members:
                seen = done.get(member.name)
                # Same name is not enough: the candidate may be configured differently.
                if seen is not None and seen[0] == member:
                    fits.append(seen[1])
                else:
                    fits.append(member.fit(history, step_s=step_s))
            done[forecaster.name] = (forecaster, forecaster.combine(fits))
    return [done[f.name] for f in forecasters]


def _check(name: str, predicted: tuple[float, ...], horizon: int) -> None:
    """A forecaster that breaks the contract is a bug to surface, not a loss to score."""
    if len(predicted) != horizon:
        raise ColdbrewError(f"{name} returned {len(predicted)} values for a {horizon}-bin horizon")
    if not all(math.isfinite(v) and v >= 0 for v in predicted):
        raise ColdbrewError(f"{name} returned a negative or non-finite forecast")
