"""An equal-weight average of several forecasters' quantiles.

Averaging the members' ``q``-quantiles bin by bin (Vincentization) is the
plainest forecast combination, and combinations of models that fail in
different ways tend to beat each of them: Holt-Winters smooths on log counts
and moves every hour of the day by the same factor, quantile regression
anchors on yesterday's counts hour by hour. Averaging does not need the members
to share a distribution, only a quantile; the average of non-negative,
quantile-monotone forecasts is both too. Equal weights, because weights
estimated from a week of backtest origins would chase that week's noise.

A member's fallback does not make the average a fallback (it still averages
whatever each member fitted); the member's note says what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coldbrew.capacity.forecast import FittedForecast, Forecaster, check_quantile
from coldbrew.errors import ConfigurationError


@dataclass(frozen=True)
class QuantileAverage:
    """The mean of ``members``' quantile forecasts, bin by bin.

    :func:`~coldbrew.capacity.backtest.backtest` reuses the members' fits
    when they are also candidates, through :meth:`combine`.
    """

    members: tuple[Forecaster, ...]
    name: str = "quantile_average"

    def __post_init__(self) -> None:
        names = [m.name for m in self.members]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ConfigurationError(
                f"{self.name}: needs two or more members with distinct names, got {names}"
            )

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        """Fit every member on ``history`` and average them."""
        return self.combine(tuple(m.fit(history, step_s=step_s) for m in self.members))

    def combine(self, fits: Sequence[FittedForecast]) -> FittedForecast:
        """Average members already fitted (in ``members`` order) on the same history."""
        if len(fits) != len(self.members):
            raise ConfigurationError(f"{self.name}: {len(fits)} fits for {len(self.members)}")
        return AveragedForecast(self.name, tuple(fits))


@dataclass(frozen=True)
class AveragedForecast:
    """Fitted members whose quantiles are averaged at ``predict``."""

    name: str
    fits: tuple[FittedForecast, ...]

    @property
    def note(self) -> str:
        """The members' notes (fallbacks, warnings), each naming its model."""
        return "; ".join(f"{f.name}: {f.note}" for f in self.fits if f.note)

    def predict(self, horizon: int, quantile: float) -> tuple[float, ...]:
        """The mean of the members' ``quantile`` forecasts for each bin."""
        check_quantile(quantile)
        predictions = np.array([f.predict(horizon, quantile) for f in self.fits])
        if horizon == 0:
            return ()
        return tuple(float(v) for v in predictions.mean(axis=0))
