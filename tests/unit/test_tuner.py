"""The tuner: Erlang B, required concurrency, the cost-minimising level, Lambda's rules."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from coldbrew.capacity.day_forecast import forecast_day, peak_bins, recent_whole_days
from coldbrew.capacity.erlang import (
    concurrency_lower_bound,
    erlang_b,
    erlang_b_table,
    required_concurrency,
)
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.tuner import MAX_ACCOUNT_CONCURRENCY, TunerSettings, tune
from coldbrew.errors import ConfigurationError, TrafficDataError

HOUR = 3600


def _erlang_b_closed_form(c: int, a: float) -> float:
    """(a^c / c!) / sum_k a^k / k!: fine for small c, the reference for the recurrence."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


# --- Erlang B ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [(1, 1.0, 0.5), (2, 1.0, 0.2), (5, 2.0, 0.0367), (0, 3.0, 1.0), (3, 0.0, 0.0)],
)
def test_erlang_b_known_values(servers: int, load: float, expected: float) -> None:
    assert erlang_b(servers, load) == pytest.approx(expected, abs=5e-5)


def test_erlang_b_matches_the_closed_form() -> None:
    for c in range(12):
        for a in (0.1, 0.9, 2.5, 7.0):
            assert erlang_b(c, a) == pytest.approx(_erlang_b_closed_form(c, a), rel=1e-12)


def test_erlang_b_is_stable_where_factorials_overflow() -> None:
    # 900! overflows a float (the closed form fails); the recurrence stays in [0, 1].
    b = erlang_b(900, 880.0)
    assert 0.0 < b < 0.05
    table = erlang_b_table(900, 880.0)
    assert table[-1] == b
    assert all(x >= y for x, y in pairwise(table))  # decreasing in c


def test_erlang_b_past_saturation_matches_the_recurrence() -> None:
    # load > servers takes the series; it must agree with the recurrence.
    for servers, load in ((1, 1.5), (10, 30.0), (900, 901.0), (900, 3.3e8), (5000, 6000.0)):
        assert erlang_b(servers, load) == pytest.approx(
            erlang_b_table(servers, load)[-1], rel=1e-12
        )


def test_erlang_b_refuses_nonsense() -> None:
    with pytest.raises(ConfigurationError):
        erlang_b(-1, 1.0)
    with pytest.raises(ConfigurationError):
        erlang_b(1, -0.5)
    with pytest.raises(ConfigurationError):
        erlang_b(1, math.nan)


# --- required concurrency -------------------------------------------------------------


def _need(rate: float, duration_s: float, epsilon: float) -> int:
    """required_concurrency well within a generous cap (these loads never reach it)."""
    level = required_concurrency(rate, duration_s, epsilon, ceiling=10_000)
    assert level is not None
    return level


def test_required_concurrency_is_the_least_level_meeting_epsilon() -> None:
    # a = 20 req/s x 0.1 s = 2 Erlangs: B(4, 2) = 0.095 > 0.05 >= B(5, 2) = 0.037.
    assert _need(20.0, 0.1, 0.05) == 5
    for rate in (0.5, 3.0, 40.0, 400.0):
        for eps in (0.2, 0.01, 0.001):
            c = _need(rate, 0.1, eps)
            assert erlang_b(c, rate * 0.1) <= eps < erlang_b(c - 1, rate * 0.1)


def test_required_concurrency_is_monotone_in_rate_and_epsilon() -> None:
    rates = [0.0, 0.01, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0, 1000.0]
    levels = [_need(r, 0.1, 0.01) for r in rates]
    assert levels == sorted(levels)
    assert levels[0] == 0  # no arrivals, nothing to block
    epsilons = [0.5, 0.2, 0.1, 0.05, 0.01, 0.001, 0.0001]
    by_eps = [_need(50.0, 0.1, e) for e in epsilons]
    assert by_eps == sorted(by_eps)
    assert by_eps[0] < by_eps[-1]


def test_required_concurrency_is_not_mean_times_a_factor() -> None:
    # At low load the queueing tail dominates: 1 Erlang needs 5 for 1% (not 1.x).
    assert _need(10.0, 0.1, 0.01) == 5
    # At high load the relative headroom shrinks (square-root staffing).
    big = _need(5000.0, 0.1, 0.01)
    assert 500 < big < 540


def test_required_concurrency_beyond_the_ceiling_is_none_at_once() -> None:
    # 10^12 requests per 5-minute bin at 100 ms: 3.3e8 Erlangs. Uncapped, the search
    # walked 3.3e8 levels; the bound answers before any.
    rate = 1e12 / 300
    assert required_concurrency(rate, 0.1, 0.01, ceiling=900) is None
    assert concurrency_lower_bound(rate * 0.1, 0.01) > 900
    # Just past the cap: the need (526 for 500 Erlangs) is found, or None under it.
    assert required_concurrency(5000.0, 0.1, 0.01, ceiling=600) == _need(5000.0, 0.1, 0.01)
    assert required_concurrency(5000.0, 0.1, 0.01, ceiling=520) is None
    with pytest.raises(ConfigurationError, match="ceiling"):
        required_concurrency(1.0, 0.1, 0.01, ceiling=-1)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.0, max_value=1e13, allow_nan=False, allow_infinity=False),
    duration_s=st.floats(min_value=0.001, max_value=900.0),
    epsilon=st.floats(min_value=1e-6, max_value=1.0),
    ceiling=st.integers(min_value=0, max_value=2000),
)
def test_required_concurrency_never_exceeds_the_ceiling(
    rate: float, duration_s: float, epsilon: float, ceiling: int
) -> None:
    load = rate * duration_s
    level = required_concurrency(rate, duration_s, epsilon, ceiling=ceiling)
    if load == 0.0:  # no arrivals: nothing to block
        assert level == 0
    elif level is None:  # nothing up to the ceiling meets epsilon
        assert erlang_b(ceiling, load) > epsilon
    else:
        assert 0 <= level <= ceiling
        assert erlang_b(level, load) <= epsilon
        assert level == 0 or erlang_b(level - 1, load) > epsilon
        assert level >= concurrency_lower_bound(load, epsilon)


# --- the tuner ----------------------------------------------------------------


def _flat(rate_per_s: float, block_s: int = HOUR) -> list[float]:
    return [rate_per_s * block_s] * (86_400 // block_s)


def test_negligible_traffic_gets_no_provisioned_concurrency() -> None:
    settings = TunerSettings(
        memory_mb=1024, cold_start_penalty_usd=0.0001, max_cold_start_fraction=None
    )
    tuning = tune(_flat(2 / HOUR), settings)  # two requests an hour
    assert {b.level for b in tuning.blocks} == {0}
    assert tuning.daily_cost == pytest.approx(tuning.on_demand_daily_cost)


def test_zero_traffic_needs_nothing_even_under_a_budget() -> None:
    tuning = tune(_flat(0.0), TunerSettings(max_cold_start_fraction=0.01))
    assert {b.level for b in tuning.blocks} == {0}
    assert tuning.daily_cost == 0.0


def test_high_load_with_priced_cold_starts_provisions() -> None:
    settings = TunerSettings(
        memory_mb=1024, cold_start_penalty_usd=0.001, max_cold_start_fraction=None
    )
    tuning = tune(_flat(100.0), settings)  # 10 Erlangs
    levels = {b.level for b in tuning.blocks}
    assert len(levels) == 1
    (level,) = levels
    assert level > 10
    block = tuning.blocks[0]
    assert block.cost.total < block.on_demand_cost.total


def test_economics_alone_provision_a_busy_function() -> None:
    # No penalty, no budget: an environment pays for itself above ~60% utilisation.
    settings = TunerSettings(cold_start_penalty_usd=0.0, max_cold_start_fraction=None)
    block = tune(_flat(500.0), settings).blocks[0]  # 50 Erlangs
    assert block.level > 30
    # The last environment is busy >= 60% of the time, the next one would not be.
    a, c = block.load, block.level
    break_even = 0.0000041667 / (0.0000166667 - 0.0000097222)
    assert a * (erlang_b(c - 1, a) - erlang_b(c, a)) >= break_even
    assert a * (erlang_b(c, a) - erlang_b(c + 1, a)) < break_even


def test_level_meets_the_budget_and_minimises_cost_above_it() -> None:
    settings = TunerSettings(max_cold_start_fraction=0.01, cold_start_penalty_usd=0.0)
    block = tune(_flat(30.0), settings).blocks[0]
    assert block.required == _need(30.0, 0.1, 0.01)
    assert block.level >= block.required
    assert block.blocking <= 0.01


def test_cost_components_follow_the_formula() -> None:
    settings = TunerSettings(
        memory_mb=512,
        duration_s=0.2,
        cold_start_penalty_usd=0.0005,
        max_cold_start_fraction=None,
        min_capacity=3,
        max_capacity=3,
    )
    block = tune(_flat(10.0), settings).blocks[0]
    a, gb, t = 2.0, 0.5, HOUR
    b = erlang_b(3, a)
    assert block.level == 3
    assert block.cost.provisioned == pytest.approx(3 * gb * t * 0.0000041667)
    assert block.cost.provisioned_execution == pytest.approx(a * (1 - b) * gb * t * 0.0000097222)
    assert block.cost.on_demand == pytest.approx(a * b * gb * t * 0.0000166667)
    assert block.cost.cold_start_penalty == pytest.approx(10.0 * t * b * 0.0005)
    assert block.expected_cold_starts == pytest.approx(10.0 * t * b)


def test_blocks_must_be_multiples_of_five_minutes_and_tile_a_day() -> None:
    with pytest.raises(ConfigurationError, match="multiple of 5"):
        TunerSettings(block_s=7 * 60)
    with pytest.raises(ConfigurationError, match="divide a day"):
        TunerSettings(block_s=35 * 60)
    assert TunerSettings(block_s=5 * 60).blocks_per_day == 288
    with pytest.raises(ConfigurationError, match="one day of blocks"):
        tune([1.0] * 23, TunerSettings())


def test_account_limit_leaves_100_unreserved() -> None:
    settings = TunerSettings(max_cold_start_fraction=0.01)
    tuning = tune(_flat(20_000.0), settings)  # 2,000 Erlangs: more than the account has
    assert {b.level for b in tuning.blocks} == {900}
    assert all("account" in b.note for b in tuning.blocks)
    squeezed = tune(_flat(20_000.0), TunerSettings(reserved_elsewhere=850))
    assert {b.level for b in squeezed.blocks} == {50}
    with pytest.raises(ConfigurationError, match="leaves nothing"):
        TunerSettings(account_concurrency=1000, reserved_elsewhere=950)
    with pytest.raises(ConfigurationError, match=r"blocks\[0\]\.min_capacity"):
        tune(_flat(1.0), TunerSettings(), bounds=[(950, 1000)] * 24)


def test_a_need_beyond_the_account_is_capped_and_said() -> None:
    # 10^12 requests per 5-minute bin (3.3e8 Erlangs): the level is the account's ceiling,
    # and each block says the budget needs more than that.
    tuning = tune(_flat(1e12 / 300), TunerSettings(max_cold_start_fraction=0.01))
    assert {b.level for b in tuning.blocks} == {900}
    for block in tuning.blocks:
        assert block.over_cap and block.required is None
        assert "needs more than 900 environments" in block.note
        assert "capped at 900 by the account's unreserved concurrency" in block.note
        assert block.blocking > 0.99  # nearly every request spills, and the note says so
    capped = tune(_flat(1e12 / 300), TunerSettings(max_capacity=40)).blocks[0]
    assert (capped.level, capped.over_cap) == (40, True)
    assert "capped at 40 by max_capacity" in capped.note
    with pytest.raises(ConfigurationError, match="at most 100,000"):
        TunerSettings(account_concurrency=MAX_ACCOUNT_CONCURRENCY + 1)


def test_per_block_bounds_are_respected() -> None:
    bounds = [(0, 0)] * 8 + [(5, 10)] * 12 + [(2, 2)] * 4
    tuning = tune(_flat(200.0), TunerSettings(), bounds=bounds)
    for block, (lo, hi) in zip(tuning.blocks, bounds, strict=True):
        assert lo <= block.level <= hi
    assert tuning.blocks[0].note  # 0 cannot meet the 1% budget at 20 Erlangs: said so
    with pytest.raises(ConfigurationError, match=r"blocks\[1\]"):
        tune(_flat(1.0), TunerSettings(), bounds=[(0, 1), (3, 2)] + [(0, 1)] * 22)


def test_adjacent_equal_levels_merge() -> None:
    rates = [0.0] * 8 + [100.0] * 10 + [0.0] * 6
    tuning = tune([r * HOUR for r in rates], TunerSettings())
    segments = tuning.segments
    assert [(s.start_s // HOUR, s.end_s // HOUR) for s in segments] == [(0, 8), (8, 18), (18, 24)]
    assert segments[0].level == segments[2].level == 0
    assert segments[1].level > 0
    assert sum(len(s.blocks) for s in segments) == 24


# --- the window and the forecast -------------------------------------------------------


def _series(days: float, *, start_hour: int = 0, step_s: int = 300) -> TrafficSeries:
    per_day = 86_400 // step_s
    n = int(days * per_day)
    counts = tuple(
        50.0 + 40.0 * math.sin(2 * math.pi * (i + start_hour * 3600 // step_s) / per_day)
        for i in range(n)
    )
    start = datetime(2024, 3, 1, start_hour, tzinfo=UTC)
    return TrafficSeries(name="f", start=start, step_s=step_s, counts=counts)


def test_recent_whole_days_starts_at_midnight_and_drops_partial_days() -> None:
    series = _series(5.5, start_hour=6)  # 06:00 on day 0 to 18:00 on day 5
    window = recent_whole_days(series, 3)
    assert window.start == datetime(2024, 3, 3, tzinfo=UTC)
    assert window.end == datetime(2024, 3, 6, tzinfo=UTC)
    assert len(window.counts) == 3 * 288
    with pytest.raises(TrafficDataError, match="4 whole days"):
        recent_whole_days(series, 5)


def test_forecast_day_forecasts_the_day_after_the_window() -> None:
    forecast = forecast_day(_series(6), quantile=0.9, block_s=HOUR, train_days=5)
    assert forecast.day_start == datetime(2024, 3, 7, tzinfo=UTC)
    assert forecast.train_start == datetime(2024, 3, 2, tzinfo=UTC)
    assert len(forecast.counts) == 24
    assert forecast.selection.reason
    # The pattern repeats daily, so the forecast follows it: busiest around 06:00.
    peak = max(range(24), key=lambda h: forecast.counts[h])
    assert 4 <= peak <= 8
    assert forecast.day_start - forecast.train_start == timedelta(days=5)


def test_peak_bins_sizes_each_block_from_its_busiest_bin() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    # Two hours of 5-minute bins: a quiet hour with one burst, then a flat hour.
    counts = (10.0,) * 5 + (100.0,) + (10.0,) * 6 + (20.0,) * 12
    series = TrafficSeries(name="f", start=start, step_s=300, counts=counts)
    peaked = peak_bins(series, HOUR)
    assert peaked.counts == (100.0,) * 12 + (20.0,) * 12
    # Summed per hour as the forecasters see it: the burst's rate for the whole hour.
    assert sum(peaked.counts[:12]) == 1200.0
    assert peak_bins(series, 300) is series


def test_forecast_day_peak_sizing_is_at_least_the_total() -> None:
    series = _series(6)
    total = forecast_day(series, quantile=0.9, block_s=HOUR, train_days=5)
    peak = forecast_day(series, quantile=0.9, block_s=HOUR, train_days=5, peak=True)
    assert all(p >= t - 1e-6 for p, t in zip(peak.counts, total.counts, strict=True))
    assert sum(peak.counts) > sum(total.counts)
