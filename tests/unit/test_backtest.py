"""Rolling-origin backtests, pinball loss, and per-function forecaster selection."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pytest

from coldbrew.capacity.backtest import backtest, mean_absolute_error, pinball_loss
from coldbrew.capacity.forecast import FittedForecast, SeasonalNaive
from coldbrew.capacity.selection import select_forecaster
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ColdbrewError, ConfigurationError, TrafficDataError

HOUR = 3600
DAY = 24


def truth(index: np.ndarray) -> np.ndarray:
    """A daily shape with quieter weekends: what the fakes below may know exactly."""
    weekend = (index // DAY) % 7 >= 5
    shape = 50.0 + 45.0 * np.sin(2 * np.pi * (index % DAY) / DAY)
    return np.round(shape * np.where(weekend, 0.5, 1.0))


def series_of(counts: npt.ArrayLike, step_s: int = HOUR) -> TrafficSeries:
    values = tuple(float(v) for v in np.asarray(counts, dtype=np.float64))
    return TrafficSeries(
        name="fn", start=datetime(2016, 7, 1, tzinfo=UTC), step_s=step_s, counts=values
    )


@dataclass(frozen=True)
class _Fixed:
    name: str
    values: tuple[float, ...]
    note: str = ""

    def predict(self, horizon: int, quantile: float) -> tuple[float, ...]:
        return self.values[:horizon]


@dataclass
class FakeForecaster:
    """Forecasts ``rule(future bin indices)`` and records what it was fitted on."""

    name: str
    rule: Callable[[np.ndarray], np.ndarray]
    seen: list[tuple[int, int]] = field(default_factory=list)

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        self.seen.append((len(history), step_s))
        future = np.arange(len(history), len(history) + 2 * 86_400 // step_s)
        return _Fixed(self.name, tuple(float(v) for v in self.rule(future)))


def test_pinball_loss_against_hand_values() -> None:
    actual, predicted = [10.0, 0.0, 5.0], [8.0, 2.0, 5.0]
    # Under by 2: 0.9*2 = 1.8; over by 2: 0.1*2 = 0.2; exact: 0. Mean 2/3.
    assert pinball_loss(actual, predicted, 0.9) == pytest.approx(2.0 / 3.0)
    # At q=0.5 both sides cost 0.5: half the MAE.
    assert pinball_loss(actual, predicted, 0.5) == pytest.approx(0.5 * 4.0 / 3.0)
    assert pinball_loss([4.0], [0.0], 0.1) == pytest.approx(0.4)
    assert pinball_loss([0.0], [4.0], 0.1) == pytest.approx(3.6)
    assert mean_absolute_error(actual, predicted) == pytest.approx(4.0 / 3.0)
    assert math.isnan(pinball_loss([], [], 0.9))
    with pytest.raises(ConfigurationError, match="predictions"):
        pinball_loss([1.0], [1.0, 2.0], 0.9)
    with pytest.raises(ConfigurationError, match="quantile"):
        pinball_loss([1.0], [1.0], 0.0)


def test_backtest_fits_before_each_origin_and_scores_the_next_day() -> None:
    counts = truth(np.arange(30 * DAY))
    oracle = FakeForecaster("oracle", truth)
    (result,) = backtest(series_of(counts), [oracle], quantile=0.9, train_days=21, eval_days=7)
    # Origins at days 14..20; each fit sees exactly the bins before its origin.
    assert [o.origin for o in result.origins] == [d * DAY for d in range(14, 21)]
    assert oracle.seen == [(d * DAY, HOUR) for d in range(14, 21)]
    assert result.mean_pinball == 0.0
    assert result.mean_mae == 0.0
    assert result.fallbacks == ()


def test_backtest_sums_five_minute_bins_into_the_block_size() -> None:
    hourly = truth(np.arange(22 * DAY))
    five_minutes = np.repeat(hourly / 12.0, 12)  # the same traffic, 12 bins an hour
    oracle = FakeForecaster("oracle", truth)
    (result,) = backtest(series_of(five_minutes, step_s=300), [oracle], block_s=HOUR)
    assert oracle.seen[0] == (14 * DAY, HOUR)
    assert result.mean_pinball == pytest.approx(0.0, abs=1e-9)


def test_seasonal_naive_daily_scores_zero_on_a_daily_periodic_series() -> None:
    one_day = np.round(50 + 45 * np.sin(2 * np.pi * np.arange(DAY) / DAY))
    counts = np.tile(one_day, 21)  # tiled, not sin(t) for every t: exactly periodic
    daily, weekly = backtest(series_of(counts), [SeasonalNaive(1), SeasonalNaive(7)])
    assert daily.mean_pinball == 0.0
    assert weekly.mean_pinball == 0.0
    assert {o.pinball for o in daily.origins} == {0.0}


def test_backtest_refuses_short_series_and_contract_breakers() -> None:
    with pytest.raises(TrafficDataError, match="needs 21"):
        backtest(series_of([1.0] * (10 * DAY)), [SeasonalNaive(1)])
    negative = FakeForecaster("negative", lambda idx: -np.ones(len(idx)))
    with pytest.raises(ColdbrewError, match="negative"):
        backtest(series_of(truth(np.arange(21 * DAY))), [negative])
    with pytest.raises(ConfigurationError, match="unique"):
        backtest(series_of(truth(np.arange(21 * DAY))), [SeasonalNaive(1), SeasonalNaive(1)])


def test_selection_picks_the_better_model_and_explains() -> None:
    rng = np.random.default_rng(1)
    counts = truth(np.arange(21 * DAY)) + rng.poisson(5.0, 21 * DAY)
    oracle = FakeForecaster("oracle", lambda idx: truth(idx) + 8.0)  # ~q0.9 of Poisson(5)
    chosen = select_forecaster(series_of(counts), [oracle])
    assert chosen.chosen == "oracle"
    assert chosen.beats_naive
    assert chosen.reason.startswith("oracle beats seasonal_naive_")
    assert {name for name, _ in chosen.losses} == {
        "oracle",
        "seasonal_naive_daily",
        "seasonal_naive_weekly",
    }
    assert chosen.loss < chosen.naive_loss


def test_selection_keeps_naive_when_no_model_beats_it_and_says_so() -> None:
    counts = truth(np.arange(21 * DAY))
    zeros = FakeForecaster("zeros", lambda idx: np.zeros(len(idx)))
    chosen = select_forecaster(series_of(counts), [zeros])
    # Weekly naive is exact on this series (daily is not: weekends differ).
    assert chosen.chosen == "seasonal_naive_weekly"
    assert chosen.naive == "seasonal_naive_weekly"
    assert not chosen.beats_naive
    assert "no model beats seasonal naive" in chosen.reason
    assert "chose seasonal_naive_weekly" in chosen.reason
