"""Per-function model choice: the lowest backtest pinball loss, if it beats naive.

A model earns its place only by beating *seasonal naive* (daily or weekly,
whichever backtested better) on this function's own history: it is the
baseline every capacity planner can have for free, and a model that cannot
beat it costs fits and explanations for nothing. When nothing beats it, the
better naive model is chosen and the reason says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coldbrew.capacity.backtest import BacktestResult, backtest
from coldbrew.capacity.ensemble import QuantileAverage
from coldbrew.capacity.forecast import Forecaster, SeasonalNaive
from coldbrew.capacity.holt_winters import HoltWinters
from coldbrew.capacity.quantile_regression import QuantileLagRegression
from coldbrew.capacity.regression import LagRegression
from coldbrew.capacity.series import TrafficSeries

NAIVE = (SeasonalNaive(1), SeasonalNaive(7))
NAIVE_NAMES = frozenset(f.name for f in NAIVE)


#: Holt-Winters and quantile regression averaged: they go wrong on different days.
HW_QR_AVERAGE = QuantileAverage((HoltWinters(), QuantileLagRegression()), name="hw_qr_average")


def default_forecasters() -> tuple[Forecaster, ...]:
    """Seasonal naive daily and weekly, Holt-Winters, ridge and quantile regression, HW+QR."""
    return (*NAIVE, HoltWinters(), LagRegression(), QuantileLagRegression(), HW_QR_AVERAGE)


@dataclass(frozen=True)
class Selection:
    """The forecaster chosen for one function, and why."""

    function: str
    chosen: str
    quantile: float
    block_s: int
    #: (forecaster, mean backtest pinball loss), best first.
    losses: tuple[tuple[str, float], ...]
    naive: str
    naive_loss: float
    #: Whether the best non-naive forecaster beat the better naive one.
    beats_naive: bool
    reason: str
    backtests: tuple[BacktestResult, ...] = ()

    @property
    def loss(self) -> float:
        """The chosen forecaster's mean pinball loss."""
        return dict(self.losses)[self.chosen]


def select_forecaster(
    series: TrafficSeries,
    forecasters: Sequence[Forecaster] | None = None,
    *,
    quantile: float = 0.9,
    block_s: int = 3600,
    train_days: int = 21,
    eval_days: int = 7,
) -> Selection:
    """Backtest ``forecasters`` (default: :func:`default_forecasters`) and choose one.

    Seasonal naive daily and weekly are always among the candidates (added if
    missing): the choice is judged against them. Ties go to naive.
    """
    candidates = list(default_forecasters() if forecasters is None else forecasters)
    present = {f.name for f in candidates}
    candidates = [*(f for f in NAIVE if f.name not in present), *candidates]
    results = backtest(
        series,
        candidates,
        quantile=quantile,
        block_s=block_s,
        train_days=train_days,
        eval_days=eval_days,
    )
    # Sorting by (loss, not naive, input order) makes ties go to naive, deterministically.
    ranked = sorted(
        enumerate(results),
        key=lambda ir: (ir[1].mean_pinball, ir[1].forecaster not in NAIVE_NAMES, ir[0]),
    )
    losses = tuple((r.forecaster, r.mean_pinball) for _, r in ranked)
    naive = next(r for _, r in ranked if r.forecaster in NAIVE_NAMES)
    models = [r for _, r in ranked if r.forecaster not in NAIVE_NAMES]
    best = models[0] if models else None
    beats = best is not None and best.mean_pinball < naive.mean_pinball
    chosen = best if beats and best is not None else naive
    return Selection(
        function=series.name,
        chosen=chosen.forecaster,
        quantile=quantile,
        block_s=block_s,
        losses=losses,
        naive=naive.forecaster,
        naive_loss=naive.mean_pinball,
        beats_naive=beats,
        reason=_reason(chosen, naive, best, quantile),
        backtests=results,
    )


def _reason(
    chosen: BacktestResult, naive: BacktestResult, best: BacktestResult | None, q: float
) -> str:
    origins = len(chosen.origins)
    score = f"pinball@{q:g} over {origins} day-ahead origins"
    if best is None:
        text = f"only seasonal naive was backtested; {naive.forecaster} is better ({score})"
    elif chosen is best:
        gain = _relative(best.mean_pinball, naive.mean_pinball)
        text = (
            f"{best.forecaster} beats {naive.forecaster} by {gain} "
            f"({best.mean_pinball:.4g} vs {naive.mean_pinball:.4g}, {score})"
        )
    else:
        loss = _relative(best.mean_pinball, naive.mean_pinball)
        text = (
            f"no model beats seasonal naive: best model {best.forecaster} is {loss} worse "
            f"than {naive.forecaster} ({best.mean_pinball:.4g} vs {naive.mean_pinball:.4g}, "
            f"{score}); chose {naive.forecaster}"
        )
    if chosen.fallbacks:
        text += (
            f"; {chosen.forecaster} fell back on {len(chosen.fallbacks)}/{origins} origins "
            f"({chosen.fallbacks[0].note})"
        )
    return text


def _relative(value: float, reference: float) -> str:
    """``value`` relative to ``reference`` as an unsigned percentage."""
    if reference == 0.0:
        return "0%" if value == 0.0 else "an unbounded margin"
    return f"{abs(value - reference) / reference:.1%}"
