"""Forecasters: seasonal naive, Holt-Winters, lag and quantile regression, their average."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from coldbrew.capacity import holt_winters
from coldbrew.capacity.forecast import Forecaster, SeasonalNaive, bins_per_day
from coldbrew.capacity.holt_winters import HoltWinters
from coldbrew.capacity.quantile_regression import QuantileLagRegression
from coldbrew.capacity.regression import LagRegression
from coldbrew.capacity.resample import aggregate
from coldbrew.capacity.selection import HW_QR_AVERAGE
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ConfigurationError, TrafficDataError

HOUR = 3600
DAY = 24
ALL: tuple[Forecaster, ...] = (
    SeasonalNaive(1),
    SeasonalNaive(7),
    HoltWinters(),
    LagRegression(),
    QuantileLagRegression(),
    HW_QR_AVERAGE,
)


def daily_shape(index: np.ndarray) -> np.ndarray:
    """Quiet nights, a busy afternoon: 5 .. 95 requests per hour."""
    return 50.0 + 45.0 * np.sin(2 * np.pi * (index % DAY) / DAY)


def weekly_series(days: int) -> np.ndarray:
    """The daily shape, with weekends (days 5 and 6 of each week) at a third."""
    index = np.arange(days * DAY)
    weekend = (index // DAY) % 7 >= 5
    return np.round(daily_shape(index) * np.where(weekend, 1 / 3, 1.0))


def noisy_series(days: int, seed: int = 7) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in rng.poisson(daily_shape(np.arange(days * DAY)))]


def test_seasonal_naive_daily_is_exact_on_a_daily_periodic_series() -> None:
    history = np.round(daily_shape(np.arange(10 * DAY)))
    fitted = SeasonalNaive(1).fit(history.tolist(), step_s=HOUR)
    tomorrow = np.round(daily_shape(np.arange(10 * DAY, 12 * DAY)))
    # Residuals are all zero, so every quantile is the point forecast; horizons repeat.
    for q in (0.1, 0.5, 0.9):
        assert fitted.predict(2 * DAY, q) == tuple(tomorrow)
    assert fitted.name == "seasonal_naive_daily"


def test_seasonal_naive_weekly_is_exact_on_a_weekly_series_and_daily_is_not() -> None:
    series = weekly_series(22)
    history, tomorrow = series[: 21 * DAY].tolist(), tuple(series[21 * DAY :])
    weekly = SeasonalNaive(7).fit(history, step_s=HOUR)
    assert weekly.name == "seasonal_naive_weekly"
    assert weekly.predict(DAY, 0.9) == tomorrow
    daily = SeasonalNaive(1).fit(history, step_s=HOUR)
    assert daily.predict(DAY, 0.5) != tomorrow


def test_weekly_falls_back_to_daily_without_eight_days_and_says_so() -> None:
    fitted = SeasonalNaive(7).fit(weekly_series(5).tolist(), step_s=HOUR)
    assert fitted.name == "seasonal_naive_daily"
    assert "fell back to seasonal_naive_daily" in fitted.note


def test_seasonal_naive_refuses_less_than_two_days() -> None:
    with pytest.raises(TrafficDataError, match="at least 2 days"):
        SeasonalNaive(1).fit([1.0] * (DAY + 3), step_s=HOUR)


@pytest.mark.parametrize("forecaster", ALL, ids=lambda f: f.name)
def test_quantiles_are_monotone_and_non_negative(forecaster: Forecaster) -> None:
    fitted = forecaster.fit(noisy_series(15), step_s=HOUR)
    low, mid, high = (np.array(fitted.predict(DAY, q)) for q in (0.1, 0.5, 0.9))
    assert len(high) == DAY
    assert np.all(low >= 0)
    assert np.all(mid >= low)
    assert np.all(high >= mid)
    assert np.all(high > mid) or forecaster.name.startswith("seasonal")  # noise widens them


def test_high_quantile_covers_most_of_the_next_day() -> None:
    counts = noisy_series(22, seed=3)
    history, tomorrow = counts[: 21 * DAY], np.array(counts[21 * DAY :])
    for forecaster in ALL:
        high = np.array(forecaster.fit(history, step_s=HOUR).predict(DAY, 0.9))
        assert np.mean(tomorrow <= high) >= 0.6, forecaster.name  # ~0.9 expected; 24 bins


def test_holt_winters_and_regression_learn_a_clean_daily_shape() -> None:
    history = np.round(daily_shape(np.arange(14 * DAY))).tolist()
    tomorrow = np.round(daily_shape(np.arange(14 * DAY, 15 * DAY)))
    for forecaster in (HoltWinters(), LagRegression(), QuantileLagRegression(), HW_QR_AVERAGE):
        fitted = forecaster.fit(history, step_s=HOUR)
        assert fitted.name == forecaster.name, fitted.note
        median = np.array(fitted.predict(DAY, 0.5))
        assert np.max(np.abs(median - tomorrow)) < 3.0, forecaster.name


def test_holt_winters_degrades_to_seasonal_naive_on_an_all_zero_series() -> None:
    fitted = HoltWinters().fit([0.0] * (7 * DAY), step_s=HOUR)
    assert fitted.name == "seasonal_naive_daily"
    assert "holt_winters degraded" in fitted.note
    assert "constant" in fitted.note
    assert fitted.predict(DAY, 0.9) == (0.0,) * DAY


def test_holt_winters_fit_failure_degrades_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing_fit(z: object, period: int) -> object:
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(holt_winters, "_fit_states", failing_fit)
    fitted = HoltWinters().fit(noisy_series(7), step_s=HOUR)
    assert fitted.name == "seasonal_naive_daily"
    assert "LinAlgError: SVD did not converge" in fitted.note
    assert len(fitted.predict(DAY, 0.9)) == DAY


def test_holt_winters_with_too_little_history_degrades() -> None:
    fitted = HoltWinters().fit(noisy_series(2), step_s=HOUR)
    assert fitted.name == "seasonal_naive_daily"
    assert "2.0 days < 3" in fitted.note


def test_regression_uses_weekly_terms_once_it_has_the_history() -> None:
    assert "lag 7d" not in LagRegression().fit(noisy_series(5), step_s=HOUR).note
    long = LagRegression().fit(noisy_series(15), step_s=HOUR)
    assert "lag 7d" in long.note
    assert "day of week" in long.note


def test_regression_forecasts_past_one_day_by_recursion() -> None:
    history = weekly_series(21).tolist()
    fitted = LagRegression().fit(history, step_s=HOUR)
    three_days = fitted.predict(3 * DAY, 0.5)
    assert len(three_days) == 3 * DAY
    assert all(math.isfinite(v) and v >= 0 for v in three_days)


def test_predict_refuses_a_quantile_outside_zero_one() -> None:
    fitted = SeasonalNaive(1).fit(noisy_series(3), step_s=HOUR)
    with pytest.raises(ConfigurationError, match="quantile"):
        fitted.predict(DAY, 1.0)


def test_bins_per_day_needs_a_width_that_divides_the_day() -> None:
    assert bins_per_day(300) == 288
    assert bins_per_day(HOUR) == 24
    with pytest.raises(ConfigurationError, match="does not divide a day"):
        bins_per_day(7 * 60 + 1)


def test_aggregate_sums_bins_into_blocks_and_drops_a_partial_block() -> None:
    series = TrafficSeries(
        name="f",
        start=datetime(2016, 7, 1, tzinfo=UTC),
        step_s=300,
        counts=tuple(float(i) for i in range(30)),
        filled=(13, 29),
    )
    hourly = aggregate(series, HOUR)
    assert hourly.step_s == HOUR
    assert hourly.counts == (float(sum(range(12))), float(sum(range(12, 24))))
    assert hourly.filled == (1,)  # bin 29 was in the dropped partial block
    assert aggregate(series, 300) is series
    with pytest.raises(ConfigurationError, match="not a multiple"):
        aggregate(series, 450)
