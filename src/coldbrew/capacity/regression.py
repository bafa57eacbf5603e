"""Ridge regression on lagged seasonal features (numpy only).

For each bin ``t`` the model regresses ``log1p(count[t])`` on

* ``log1p(count[t - 1 day])`` and, with at least eight days of history,
  ``log1p(count[t - 7 days])``: both are known when tomorrow is forecast at
  midnight, so the day-ahead forecast needs no recursion (and its in-sample
  residuals *are* day-ahead residuals);
* a one-hot time of day (the daily shape the lags do not carry);
* a one-hot day of week, once the rows cover a week (each weekday seen once).

Columns are scaled to unit variance and the ridge penalty (not on the
intercept) keeps the ~30 (hourly) to ~300 (5-minute) coefficients stable on a
few hundred rows: a time-of-day column that is all zeros, or a lag equal to
another, makes plain least squares singular.

``log1p`` because the traffic is multiplicative (a busy hour is a factor above
a quiet one) and has zeros. Quantiles come from the residuals in count space
(:class:`~coldbrew.capacity.forecast.ResidualQuantiles`), which also corrects
the back-transform's downward bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coldbrew.capacity.forecast import (
    FittedForecast,
    FloatArray,
    ResidualQuantileForecast,
    ResidualQuantiles,
    bins_per_day,
    seasonal_naive_fit,
)

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class _Design:
    """Which terms the model uses; fixed at fit, reused to build forecast rows."""

    period: int
    weekly_lag: bool
    day_of_week: bool

    @property
    def first_row(self) -> int:
        """The first bin whose lags all exist."""
        return (DAYS_PER_WEEK if self.weekly_lag else 1) * self.period

    def rows(self, z: FloatArray, targets: npt.NDArray[np.int64]) -> FloatArray:
        """Feature rows for bins ``targets`` (their lags must be in ``z``)."""
        columns = [np.ones(len(targets)), z[targets - self.period]]
        if self.weekly_lag:
            columns.append(z[targets - DAYS_PER_WEEK * self.period])
        slot = targets % self.period
        # Drop one level of each one-hot: the intercept carries it.
        columns.extend((slot == s).astype(np.float64) for s in range(1, self.period))
        if self.day_of_week:
            day = (targets // self.period) % DAYS_PER_WEEK
            columns.extend((day == d).astype(np.float64) for d in range(1, DAYS_PER_WEEK))
        return np.column_stack(columns)


@dataclass(frozen=True)
class LagRegression:
    """Ridge regression of ``log1p`` counts on day/week lags, time of day, day of week.

    ``alpha`` is the ridge penalty on standardised columns.
    """

    alpha: float = 1.0
    name: str = "lag_regression"

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        """Solve the ridge normal equations; fall back to seasonal naive if singular."""
        period = bins_per_day(step_s)
        y = np.asarray(history, dtype=np.float64)
        n = len(y)
        if n < 3 * period:
            # Two days of rows at least: one day of rows would fit each slot's dummy exactly.
            return seasonal_naive_fit(
                y,
                step_s=step_s,
                note=f"{self.name} degraded to seasonal_naive_daily: {n / period:.1f} days < 3",
            )
        weekly_lag = n >= (DAYS_PER_WEEK + 1) * period
        row_days = n // period - (DAYS_PER_WEEK if weekly_lag else 1)
        design = _Design(period, weekly_lag, day_of_week=row_days >= DAYS_PER_WEEK)
        z = np.log1p(y)
        targets = np.arange(design.first_row, n, dtype=np.int64)
        x = design.rows(z, targets)
        scale = x.std(axis=0)
        scale[0] = 1.0
        scale[scale == 0.0] = 1.0  # a constant column: the penalty sends it to zero anyway
        xs = x / scale
        penalty = np.full(x.shape[1], self.alpha)
        penalty[0] = 0.0  # the intercept is the mean level, not something to shrink
        try:
            beta = np.linalg.solve(xs.T @ xs + np.diag(penalty), xs.T @ z[targets]) / scale
        except np.linalg.LinAlgError as exc:
            return seasonal_naive_fit(
                y, step_s=step_s, note=f"{self.name} degraded to seasonal_naive_daily: {exc}"
            )

        def points(horizon: int) -> FloatArray:
            # Day by day: within a day every lag is in history or an earlier forecast day.
            extended = np.concatenate([z, np.zeros(horizon)])
            for start in range(n, n + horizon, period):
                day = np.arange(start, min(start + period, n + horizon), dtype=np.int64)
                extended[day] = design.rows(extended, day) @ beta
            counts: FloatArray = np.maximum(np.expm1(extended[n:]), 0.0)
            return counts

        fitted = np.maximum(np.expm1(x @ beta), 0.0)
        residuals = ResidualQuantiles.of(y[targets] - fitted, targets, step_s=step_s)
        terms = "lag 1d" + (", lag 7d" if weekly_lag else "") + ", time of day"
        terms += ", day of week" if design.day_of_week else ""
        return ResidualQuantileForecast(
            name=self.name,
            points=points,
            residuals=residuals,
            first_slot=n % period,
            note=f"terms: {terms}",
        )
