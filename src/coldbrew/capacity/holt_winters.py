"""Holt-Winters (additive daily seasonality on log1p counts), via statsmodels.

Why this shape:

* Counts have many zeros, so multiplicative seasonality on raw counts is out.
  Additive seasonality on ``log1p(count)`` is multiplicative in effect (a busy
  hour is a *factor* above the level) and is defined at zero.
* No trend term: over a day-ahead horizon a trend fitted to three weeks of
  bursty traffic extrapolates bursts more often than it finds growth.
* One seasonal period, the day. A weekly period would need two weeks of
  history just to initialise and 7x the seasonal states.

A fit failure (statsmodels raising, non-finite states, a constant history that
has nothing to smooth, too little history) never escapes: the model degrades
to seasonal naive daily and records why in ``note``.

Point forecasts are computed from the fitted level and seasonal states
(``level[t] + season[t + h - period]``) rather than with ``forecast()``: the
same expression gives the in-sample day-ahead forecasts whose residuals size
the quantiles, so the two agree by construction.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coldbrew.capacity.forecast import (
    FittedForecast,
    FloatArray,
    ResidualQuantileForecast,
    ResidualQuantiles,
    bins_per_day,
    seasonal_naive_fit,
)


@dataclass(frozen=True)
class HoltWinters:
    """Additive Holt-Winters with a daily period on ``log1p`` counts.

    ``min_days``: less history than this degrades to seasonal naive (statsmodels'
    heuristic initialisation needs two full seasons; one more day gives
    day-ahead residuals that are not all initialisation).
    """

    min_days: int = 3
    name: str = "holt_winters"

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        """Fit the smoothing parameters; fall back to seasonal naive on any failure."""
        period = bins_per_day(step_s)
        y = np.asarray(history, dtype=np.float64)
        if len(y) < self.min_days * period:
            return self._fallback(y, step_s, f"{len(y) / period:.1f} days < {self.min_days}")
        if float(np.ptp(y)) == 0.0:
            return self._fallback(y, step_s, "constant history, nothing to smooth")
        try:
            level, season, warned = _fit_states(np.log1p(y), period)
        except Exception as exc:  # statsmodels raises many types; a fit must not crash a run
            return self._fallback(y, step_s, f"fit failed: {type(exc).__name__}: {exc}")
        if not (np.all(np.isfinite(level)) and np.all(np.isfinite(season))):
            return self._fallback(y, step_s, "fit produced non-finite states")

        n = len(y)

        def points(horizon: int) -> FloatArray:
            ahead = np.arange(horizon)
            # Target n + i uses the latest seasonal state of its phase: season[n - period + i % p].
            log_points = level[-1] + season[n - period + ahead % period]
            counts: FloatArray = np.maximum(np.expm1(log_points), 0.0)
            return counts

        # In-sample day-ahead forecasts: from the last bin of each day d-1 (origin o), for
        # each bin t of day d (lead t - o <= period), level[o] + season[t - period]. Day 0
        # is initialisation and day 1's forecast would start from it, so scoring starts at 2.
        targets = np.arange(2 * period, n, dtype=np.int64)
        origins = (targets // period) * period - 1
        fitted = np.maximum(np.expm1(level[origins] + season[targets - period]), 0.0)
        residuals = ResidualQuantiles.of(y[targets] - fitted, targets, step_s=step_s)
        note = f"statsmodels warned: {warned}" if warned else ""
        return ResidualQuantileForecast(
            name=self.name,
            points=points,
            residuals=residuals,
            first_slot=n % period,
            note=note,
        )

    def _fallback(self, y: FloatArray, step_s: int, why: str) -> FittedForecast:
        return seasonal_naive_fit(
            y, step_s=step_s, note=f"{self.name} degraded to seasonal_naive_daily: {why}"
        )


def _fit_states(z: FloatArray, period: int) -> tuple[FloatArray, FloatArray, str]:
    """(level, season, warnings) of a fitted model; statsmodels is imported only here."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ExponentialSmoothing(
            z,
            trend=None,
            seasonal="add",
            seasonal_periods=period,
            # The heuristic start (seasonal decomposition of the first seasons) is 3x faster
            # than estimating `period` initial states by optimisation, and as good here.
            initialization_method="heuristic",
        )
        result = model.fit()
    level = np.asarray(result.level, dtype=np.float64)
    season = np.asarray(result.season, dtype=np.float64)
    # Only convergence matters for the report; other warnings are statsmodels' own noise.
    warned = "; ".join(
        sorted({str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)})
    )
    return level, season, warned
