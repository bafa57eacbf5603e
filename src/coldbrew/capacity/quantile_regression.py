"""Quantile regression on yesterday's count and the time of day, via statsmodels.

For each bin ``t`` the model fits the ``q``-quantile of ``count[t]`` as

    a[hour of day of t] + b * count[t - 1 day]

by minimising pinball loss at ``q`` (statsmodels ``QuantReg``): the same loss
the backtest scores, so no residual distribution is bolted on afterwards (the
other models add residual quantiles to a point forecast). Seasonal naive daily
plus a margin per hour is the special case ``b = 1``; an estimated ``b < 1``
pulls a busy (or quiet) yesterday part of the way back to that hour's usual
level, and a ``b > 1`` scales the margin with the level.

Why this shape:

* **Counts, not log counts.** The backtest's loss is in counts. A quantile
  survives any monotone transform, so a log model would be valid, but fitted
  to relative errors: a quiet night hour would weigh as much as the peak hour,
  which is where the loss (and the bill) is.
* **No weekly lag, no day of week.** Three weeks of history hold one to three
  rows per weekday and hour; terms fitted to them track last week's bursts and
  regime changes more than a weekly cycle. A rolling-origin backtest on the
  training window of the Huawei trace (origins at days 8-20) agreed: a weekly
  lag made the loss worse on seven of its eight functions.
* **Time of day by the hour**, whatever the block: at 5-minute blocks that is
  24 columns, not 288, so the fit stays small and the hour's level is
  estimated from 12x the rows.

The quantile is only known at ``predict``, so the regression is solved there,
once per quantile. A failed or non-finite fit degrades to seasonal naive daily
(``name`` and ``note`` say so once ``predict`` has run); so does too little or
constant history, at ``fit``. Beyond one day, the day-ahead forecast repeats
(tomorrow's lags are today's actuals, which are not known yet); quantiles are
fitted independently, so on unusual data two of them can cross.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from coldbrew.capacity.forecast import (
    FittedForecast,
    FloatArray,
    bins_per_day,
    check_quantile,
    seasonal_naive_fit,
)
from coldbrew.errors import ConfigurationError

#: Time of day is one-hot by the hour at most (fewer slots for blocks over an hour).
MAX_SLOTS = 24
#: Fewer days of history than this: seasonal naive daily instead.
MIN_DAYS = 3


@dataclass(frozen=True)
class QuantileLagRegression:
    """``q``-quantile of a bin's count, linear in yesterday's count and the hour of day."""

    min_days: int = MIN_DAYS
    name: str = "quantile_regression"

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        """Check the history and build the design; the quantile is fitted at ``predict``."""
        period = bins_per_day(step_s)
        y = np.asarray(history, dtype=np.float64)
        why = ""
        if len(y) < self.min_days * period:
            # Two days of rows at least: one day would fit each hour's term exactly.
            why = f"{len(y) / period:.1f} days < {self.min_days}"
        elif float(np.ptp(y)) == 0.0:
            why = "constant history, nothing to regress"
        if why:
            return seasonal_naive_fit(
                y, step_s=step_s, note=f"{self.name} degraded to seasonal_naive_daily: {why}"
            )
        return QuantileRegressionFit(label=self.name, history=y, step_s=step_s)


@dataclass(frozen=True)
class QuantileRegressionFit:
    """A history ready to regress; ``predict`` solves and caches one fit per quantile."""

    label: str
    history: FloatArray
    step_s: int
    _params: dict[float, FloatArray] = field(default_factory=dict, repr=False)
    _problems: dict[float, str] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """``quantile_regression``, or ``seasonal_naive_daily`` once a fit has failed."""
        return "seasonal_naive_daily" if self._failures() else self.label

    @property
    def note(self) -> str:
        """The terms, or why a fit failed, and any convergence warning."""
        failures = self._failures()
        if failures:
            return f"{self.label} degraded to seasonal_naive_daily: {failures[0]}"
        warned = sorted({p for p in self._problems.values() if p})
        terms = f"terms: lag 1d, hour of day ({self._slots()} slots)"
        return "; ".join([terms, *(f"statsmodels warned: {w}" for w in warned)])

    def predict(self, horizon: int, quantile: float) -> tuple[float, ...]:
        """The fitted ``quantile`` of each of the next ``horizon`` bins, floored at zero."""
        check_quantile(quantile)
        if horizon < 0:
            raise ConfigurationError(f"horizon must not be negative, got {horizon}")
        params = self._solve(quantile)
        if params is None:
            naive = seasonal_naive_fit(self.history, step_s=self.step_s)
            return naive.predict(horizon, quantile)
        period = bins_per_day(self.step_s)
        n = len(self.history)
        targets = np.arange(n, n + period, dtype=np.int64)
        day: FloatArray = self._rows(targets) @ params * self._scale
        return tuple(float(v) for v in np.resize(np.maximum(day, 0.0), horizon))

    @property
    def _scale(self) -> float:
        # Counts span 1 to 1e5 between functions; unit-mean rows make QuantReg's
        # convergence tolerance mean the same thing for all of them.
        return float(np.mean(self.history))

    def _slots(self) -> int:
        return min(bins_per_day(self.step_s), MAX_SLOTS)

    def _failures(self) -> list[str]:
        return [p for q, p in sorted(self._problems.items()) if q not in self._params]

    def _rows(self, targets: npt.NDArray[np.int64]) -> FloatArray:
        """Intercept, yesterday's (scaled) count, one-hot hour of day (first hour dropped)."""
        period = bins_per_day(self.step_s)
        slots = self._slots()
        extended = np.concatenate([self.history, np.zeros(period)]) / self._scale
        hour = (targets % period) * slots // period
        columns = [np.ones(len(targets)), extended[targets - period]]
        columns.extend((hour == s).astype(np.float64) for s in range(1, slots))
        return np.column_stack(columns)

    def _solve(self, quantile: float) -> FloatArray | None:
        """The parameters at ``quantile`` (cached), or None if the fit failed."""
        if quantile in self._params:
            return self._params[quantile]
        if quantile in self._problems:
            return None
        period = bins_per_day(self.step_s)
        targets = np.arange(period, len(self.history), dtype=np.int64)
        try:
            params, warned = _quantreg(
                self.history[targets] / self._scale, self._rows(targets), quantile
            )
        except Exception as exc:  # statsmodels raises many types; a fit must not crash a run
            self._problems[quantile] = f"fit failed: {type(exc).__name__}: {exc}"
            return None
        if not np.all(np.isfinite(params)):
            self._problems[quantile] = "fit produced non-finite parameters"
            return None
        self._params[quantile] = params
        self._problems[quantile] = warned
        return params


def _quantreg(y: FloatArray, x: FloatArray, quantile: float) -> tuple[FloatArray, str]:
    """(parameters, convergence warnings) of QuantReg; statsmodels is imported only here."""
    from statsmodels.regression.quantile_regression import QuantReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, IterationLimitWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = QuantReg(y, x).fit(q=quantile)
    params = np.asarray(result.params, dtype=np.float64)
    # Only non-convergence matters: the standard errors' own warnings (a zero
    # bandwidth on discrete counts) concern numbers this model never uses.
    warned = "; ".join(
        sorted(
            {
                str(w.message)
                for w in caught
                if issubclass(w.category, ConvergenceWarning | IterationLimitWarning)
            }
        )
    )
    return params, warned
