"""Quantile regression on lags, the quantile average, and how backtests and selection use them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pytest

from coldbrew.capacity import quantile_regression
from coldbrew.capacity.backtest import backtest
from coldbrew.capacity.ensemble import QuantileAverage
from coldbrew.capacity.forecast import FittedForecast, FloatArray, SeasonalNaive
from coldbrew.capacity.holt_winters import HoltWinters
from coldbrew.capacity.quantile_regression import QuantileLagRegression
from coldbrew.capacity.selection import default_forecasters, select_forecaster
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ConfigurationError

HOUR = 3600
DAY = 24
SHAPE = 200.0 + 150.0 * np.sin(2 * np.pi * np.arange(DAY) / DAY)
NOISE_SCALE = 10.0  # exponential noise: its q-quantile is -10 ln(1 - q)


def mean_reverting_days(days: int, seed: int, persistence: float = 0.5) -> FloatArray:
    """Each hour is ``persistence`` x the same hour yesterday + the daily shape + noise."""
    rng = np.random.default_rng(seed)
    out = [SHAPE + rng.exponential(NOISE_SCALE, DAY)]
    for _ in range(days - 1):
        out.append(persistence * out[-1] + SHAPE + rng.exponential(NOISE_SCALE, DAY))
    return np.concatenate(out)


def series_of(counts: Sequence[float], step_s: int = HOUR) -> TrafficSeries:
    return TrafficSeries(
        name="fn",
        start=datetime(2016, 7, 1, tzinfo=UTC),
        step_s=step_s,
        counts=tuple(float(v) for v in counts),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_the_true_conditional_quantile(seed: int) -> None:
    y = mean_reverting_days(60, seed)
    fitted = QuantileLagRegression().fit(y.tolist(), step_s=HOUR)
    # 59 rows per hour of day: each hour's quantile is off by a little, more in the tail,
    # but not biased. (Naive daily's day-mean error here is 6-9 at q=0.9.)
    for q, worst in ((0.5, 5.0), (0.9, 25.0)):
        truth = 0.5 * y[-DAY:] + SHAPE - NOISE_SCALE * np.log(1 - q)
        predicted = np.array(fitted.predict(DAY, q))
        assert abs(np.mean(predicted - truth)) < 3.0, q
        assert np.max(np.abs(predicted - truth)) < worst, q
    assert fitted.name == "quantile_regression"
    assert fitted.note == "terms: lag 1d, hour of day (24 slots)"


def test_beats_seasonal_naive_where_yesterday_only_half_carries_over() -> None:
    # Naive daily assumes all of yesterday carries over; here half does.
    series = series_of(mean_reverting_days(21, seed=4))
    chosen = select_forecaster(series, [QuantileLagRegression()])
    assert chosen.chosen == "quantile_regression"
    assert chosen.beats_naive
    assert chosen.loss < 0.8 * chosen.naive_loss


def test_time_of_day_is_by_the_hour_at_most() -> None:
    rng = np.random.default_rng(0)
    five_minutes = QuantileLagRegression().fit(rng.poisson(20.0, 4 * 288).tolist(), step_s=300)
    assert "24 slots" in five_minutes.note
    assert len(five_minutes.predict(288, 0.9)) == 288
    two_hours = QuantileLagRegression().fit(rng.poisson(20.0, 4 * 12).tolist(), step_s=7200)
    assert "12 slots" in two_hours.note


def test_longer_horizons_repeat_the_day_ahead_forecast() -> None:
    fitted = QuantileLagRegression().fit(mean_reverting_days(10, 0).tolist(), step_s=HOUR)
    three_days = fitted.predict(3 * DAY, 0.9)
    assert three_days == fitted.predict(DAY, 0.9) * 3
    assert fitted.predict(0, 0.9) == ()


def test_solves_once_per_quantile(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    solve = quantile_regression._quantreg

    def counting(y: FloatArray, x: FloatArray, q: float) -> tuple[FloatArray, str]:
        calls.append(q)
        return solve(y, x, q)

    monkeypatch.setattr(quantile_regression, "_quantreg", counting)
    fitted = QuantileLagRegression().fit(mean_reverting_days(10, 0).tolist(), step_s=HOUR)
    fitted.predict(DAY, 0.9)
    fitted.predict(DAY, 0.9)
    fitted.predict(DAY, 0.5)
    assert calls == [0.9, 0.5]


@pytest.mark.parametrize(
    ("history", "why"),
    [([5.0] * (2 * DAY), "2.0 days < 3"), ([7.0] * (5 * DAY), "constant history")],
)
def test_degrades_to_seasonal_naive_on_short_or_constant_history(
    history: list[float], why: str
) -> None:
    fitted = QuantileLagRegression().fit(history, step_s=HOUR)
    assert fitted.name == "seasonal_naive_daily"
    assert "quantile_regression degraded to seasonal_naive_daily" in fitted.note
    assert why in fitted.note
    assert fitted.predict(DAY, 0.9) == tuple(history[-DAY:])


def test_a_failed_fit_degrades_at_predict_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(y: FloatArray, x: FloatArray, q: float) -> tuple[FloatArray, str]:
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(quantile_regression, "_quantreg", failing)
    history = mean_reverting_days(10, 0)
    fitted = QuantileLagRegression().fit(history.tolist(), step_s=HOUR)
    predicted = fitted.predict(DAY, 0.9)
    naive = SeasonalNaive(1).fit(history.tolist(), step_s=HOUR).predict(DAY, 0.9)
    assert predicted == naive
    assert fitted.name == "seasonal_naive_daily"
    assert "LinAlgError: SVD did not converge" in fitted.note


# --- the quantile average ------------------------------------------------------


@dataclass(frozen=True)
class _Fixed:
    name: str
    level: float
    note: str = ""

    def predict(self, horizon: int, quantile: float) -> tuple[float, ...]:
        return (self.level * quantile,) * horizon


@dataclass
class CountingForecaster:
    """Forecasts ``level`` x quantile everywhere; counts its fits."""

    name: str
    level: float
    fits: list[int] = field(default_factory=list)

    def fit(self, history: Sequence[float], *, step_s: int) -> FittedForecast:
        self.fits.append(len(history))
        return _Fixed(self.name, self.level, note="" if self.level else "all zeros")


def test_average_is_the_mean_of_the_members_quantiles() -> None:
    average = QuantileAverage(
        (CountingForecaster("a", 10.0), CountingForecaster("b", 30.0)), name="avg"
    )
    fitted = average.fit([1.0] * (3 * DAY), step_s=HOUR)
    assert fitted.name == "avg"
    assert fitted.predict(2, 0.5) == (10.0, 10.0)  # (5 + 15) / 2
    assert fitted.predict(0, 0.5) == ()
    zero = QuantileAverage((CountingForecaster("a", 10.0), CountingForecaster("z", 0.0)))
    assert zero.fit([1.0] * DAY, step_s=HOUR).note == "z: all zeros"


def test_average_needs_two_distinct_members() -> None:
    with pytest.raises(ConfigurationError, match="two or more"):
        QuantileAverage((HoltWinters(),))
    with pytest.raises(ConfigurationError, match="distinct"):
        QuantileAverage((HoltWinters(), HoltWinters()))


def test_backtest_fits_a_member_once_per_origin_when_it_is_also_a_candidate() -> None:
    shared = CountingForecaster("shared", 10.0)
    other = CountingForecaster("other", 30.0)
    average = QuantileAverage((shared, other), name="avg")
    counts = [10.0] * (21 * DAY)
    results = backtest(series_of(counts), [average, shared], eval_days=7)
    assert [r.forecaster for r in results] == ["avg", "shared"]  # input order kept
    assert len(shared.fits) == 7  # reused by the average, not refitted
    assert len(other.fits) == 7  # not a candidate: fitted for the average
    by_name = {r.forecaster: r for r in results}
    # q=0.9: shared predicts 9 (under by 1: 0.9); the average predicts 18 (over by 8: 0.8).
    assert by_name["shared"].mean_pinball == pytest.approx(0.9)
    assert by_name["avg"].mean_pinball == pytest.approx(0.8)


def test_backtest_refits_a_member_configured_unlike_the_candidate_of_its_name() -> None:
    candidate = CountingForecaster("x", 10.0)
    member = CountingForecaster("x", 50.0)  # same name, another model
    average = QuantileAverage((member, CountingForecaster("y", 10.0)), name="avg")
    results = backtest(series_of([10.0] * (21 * DAY)), [candidate, average], eval_days=2)
    assert len(candidate.fits) == 2
    assert len(member.fits) == 2
    assert results[1].mean_pinball == pytest.approx(0.1 * (27.0 - 10.0))  # (45 + 9) / 2 = 27


def test_the_default_candidates_include_quantile_regression_and_the_average() -> None:
    names = [f.name for f in default_forecasters()]
    assert names == [
        "seasonal_naive_daily",
        "seasonal_naive_weekly",
        "holt_winters",
        "lag_regression",
        "quantile_regression",
        "hw_qr_average",
    ]
