"""The forecaster interface, residual quantiles, and the seasonal naive baselines.

A :class:`Forecaster` is fitted on a history of counts per bin and returns a
:class:`FittedForecast`, which predicts a *quantile* of the count in each of
the next ``horizon`` bins: the tuner provisions for a high quantile (e.g. 0.9),
not for the mean.

None of coldbrew's forecasters has a predictive distribution of its own, so
they share one rule, :class:`ResidualQuantiles`: the quantile is the point
forecast plus the empirical quantile of the model's in-sample *day-ahead*
residuals (actual minus the forecast made at the start of that day, the way the
forecast is used), taken per time of day over a +-1 hour window. Traffic is
quiet at night and bursty by day, so one pooled residual distribution would
over-provision the night and under-provision the day. A time-of-day window with
too few residuals falls back to all of them.

Time of day and day of week are positions relative to the first bin of the
history (``fit`` gets no clock): a history that starts at midnight UTC gives
true times of day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from coldbrew.errors import ConfigurationError, TrafficDataError

FloatArray = npt.NDArray[np.float64]

SECONDS_PER_DAY = 86_400
#: Residuals within this many seconds of a bin's time of day form its distribution.
RESIDUAL_WINDOW_S = 3_600
#: Fewer residuals than this in a time-of-day window: use all residuals instead.
MIN_WINDOW_RESIDUALS = 20


class FittedForecast(Protocol):
    """A fitted model, ready to forecast the bins right after its history."""

    @property
    def name(self) -> str:
        """The model that actually produced the forecast (a fallback names itself)."""
        ...

    @property
    def note(self) -> str:
        """Why the model fell back or what it assumed; empty when nothing to say."""
        ...

    def predict(self, horizon: int, quantile: float) -> tuple[float, ...]:
        """The ``quantile`` of the count in each of the next ``horizon`` bins (>= 0)."""
        ...


class Forecaster(Protocol):
    """Something that turns a history of counts per bin into a fitted forecast."""

    @property
    def name(self) -> str:
        """A short, stable identifier used in backtests and reports."""
        ...

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        """Fit on ``history`` (counts per bin of ``step_s`` seconds, oldest first)."""
        ...


def bins_per_day(step_s: int) -> int:
    """How many bins of ``step_s`` seconds make a day; the day must divide evenly."""
    if step_s <= 0 or SECONDS_PER_DAY % step_s:
        raise ConfigurationError(
            f"bin width {step_s} s does not divide a day ({SECONDS_PER_DAY} s)"
        )
    return SECONDS_PER_DAY // step_s


def check_quantile(quantile: float) -> None:
    """Refuse a quantile outside the open interval (0, 1)."""
    if not 0.0 < quantile < 1.0:
        raise ConfigurationError(f"quantile must be in (0, 1), got {quantile}")


@dataclass(frozen=True)
class ResidualQuantiles:
    """Empirical quantiles of residuals, per time-of-day window.

    ``residuals[i]`` is actual minus day-ahead forecast for a bin at time-of-day
    slot ``slots[i]`` (0 .. ``period`` - 1).
    """

    residuals: FloatArray
    slots: npt.NDArray[np.int64]
    period: int
    window: int

    @classmethod
    def of(
        cls, residuals: FloatArray, indices: npt.NDArray[np.int64], *, step_s: int
    ) -> ResidualQuantiles:
        """Residuals of the bins at history positions ``indices``."""
        period = bins_per_day(step_s)
        keep = np.isfinite(residuals)
        return cls(
            residuals=residuals[keep],
            slots=indices[keep] % period,
            period=period,
            window=RESIDUAL_WINDOW_S // step_s,
        )

    def offsets(self, slots: npt.NDArray[np.int64], quantile: float) -> FloatArray:
        """The residual quantile to add to the point forecast of each slot."""
        out = np.zeros(len(slots))
        if not len(self.residuals):
            return out  # nothing observed: the point forecast is all we have
        pooled = float(np.quantile(self.residuals, quantile))
        cache: dict[int, float] = {}
        for i, slot in enumerate(slots.tolist()):
            if slot not in cache:
                gap = np.abs(self.slots - slot)
                near = np.minimum(gap, self.period - gap) <= self.window  # time of day wraps
                if int(near.sum()) >= MIN_WINDOW_RESIDUALS:
                    cache[slot] = float(np.quantile(self.residuals[near], quantile))
                else:
                    cache[slot] = pooled
            out[i] = cache[slot]
        return out


@dataclass(frozen=True)
class ResidualQuantileForecast:
    """A point forecast plus residual quantiles: what every coldbrew model fits to.

    ``points(horizon)`` returns the point forecasts of the next ``horizon`` bins;
    ``first_slot`` is the time-of-day slot of the first of them.
    """

    name: str
    points: Callable[[int], FloatArray]
    residuals: ResidualQuantiles
    first_slot: int
    note: str = ""

    def predict(self, horizon: int, quantile: float) -> tuple[float, ...]:
        """Point forecast plus the residual quantile, floored at zero (counts)."""
        check_quantile(quantile)
        if horizon < 0:
            raise ConfigurationError(f"horizon must not be negative, got {horizon}")
        slots = (self.first_slot + np.arange(horizon, dtype=np.int64)) % self.residuals.period
        values = self.points(horizon) + self.residuals.offsets(slots, quantile)
        return tuple(float(v) for v in np.maximum(values, 0.0))


@dataclass(frozen=True)
class SeasonalNaive:
    """Tomorrow is like yesterday (``days=1``) or like a week ago (``days=7``).

    The forecast for a bin is the count ``days`` days earlier (the last
    ``days`` days repeat for longer horizons). Its day-ahead residuals are
    exact: ``y[t] - y[t - days*period]``. A weekly model with less than eight
    days of history (a week to look back on plus a day of residuals to size its
    quantiles) falls back to the daily one and says so in ``note``.
    """

    days: int = 1

    @property
    def name(self) -> str:
        """``seasonal_naive_daily``, ``seasonal_naive_weekly`` or ``..._<n>d``."""
        return {1: "seasonal_naive_daily", 7: "seasonal_naive_weekly"}.get(
            self.days, f"seasonal_naive_{self.days}d"
        )

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        """Remember the last ``days`` days and the residuals of doing so before."""
        period = bins_per_day(step_s)
        y = np.asarray(history, dtype=np.float64)
        if self.days > 1 and len(y) < (self.days + 1) * period:
            note = (
                f"{len(y) / period:.1f} days of history is less than {self.days + 1}: "
                f"{self.name} fell back to seasonal_naive_daily"
            )
            return seasonal_naive_fit(y, step_s=step_s, days=1, note=note)
        return seasonal_naive_fit(y, step_s=step_s, days=self.days)


def seasonal_naive_fit(
    y: FloatArray, *, step_s: int, days: int = 1, note: str = ""
) -> FittedForecast:
    """Seasonal naive over ``days`` days; also the fallback of the other models."""
    name = SeasonalNaive(days).name
    period = bins_per_day(step_s)
    lag = days * period
    if len(y) < lag + period:
        raise TrafficDataError(
            f"{name}: needs at least {days + 1} days of history "
            f"({lag + period} bins of {step_s} s), got {len(y)} bins"
        )
    last = y[-lag:].copy()

    def points(horizon: int) -> FloatArray:
        return np.resize(last, horizon)  # np.resize repeats the block cyclically

    indices = np.arange(lag, len(y), dtype=np.int64)
    residuals = ResidualQuantiles.of(y[lag:] - y[:-lag], indices, step_s=step_s)
    return ResidualQuantileForecast(
        name=name, points=points, residuals=residuals, first_slot=len(y) % period, note=note
    )
