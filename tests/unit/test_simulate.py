"""The trace-replay simulator and its cost model: hand-computable cases and a naive reference."""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from coldbrew.capacity.arrivals import replayed_requests
from coldbrew.capacity.policies import (
    OnDemandOnly,
    Oracle,
    Policy,
    PolicyContext,
    ScheduleBlock,
    Scheduled,
    StaticLevel,
    TargetTracking,
)
from coldbrew.capacity.pricing import (
    PRICES,
    Usage,
    billed_provisioned_env_seconds,
    cost_of,
    prices_for,
)
from coldbrew.capacity.rolling import split_days
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.simulate import simulate
from coldbrew.capacity.sweep import OVERFLOWS, sweep_function
from coldbrew.capacity.tuner import TunerSettings
from coldbrew.errors import ConfigurationError

START = datetime(2016, 7, 1, tzinfo=UTC)
X86 = PRICES["x86_64"]


def series_of(
    counts: Sequence[float],
    step_s: int = 60,
    memory_mb: int | None = 1024,
    durations_ms: tuple[float, ...] | None = None,
) -> TrafficSeries:
    return TrafficSeries(
        name="fn",
        start=START,
        step_s=step_s,
        counts=tuple(float(c) for c in counts),
        memory_mb=memory_mb,
        durations_ms=durations_ms,
    )


def bursty(minutes: int = 120, seed: int = 3) -> TrafficSeries:
    """Quiet traffic with a few minutes of bursts: where provisioning policies differ."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(20, minutes).astype(float)
    counts[rng.choice(minutes, minutes // 10, replace=False)] *= 15
    return series_of(counts.tolist())


def test_one_request_is_one_cold_start_and_costs_its_init() -> None:
    report = simulate(series_of([1], durations_ms=(100.0,)), OnDemandOnly())
    assert (report.requests, report.cold_starts, report.cold_start_fraction) == (1, 1, 1.0)
    assert report.cold_start_added_latency_s == pytest.approx(0.3)
    # 100 ms duration + 300 ms init at 1 GB, on demand, plus one request.
    assert report.cost.on_demand_execution_usd == pytest.approx(0.4 * X86.on_demand_gb_s)
    assert report.cost.requests_usd == pytest.approx(0.2e-6)
    assert report.cost.provisioned_enabled_usd == 0.0
    assert report.latency_p99_ms == pytest.approx(400.0, rel=2e-3)
    assert math.isnan(report.provisioned_utilisation)


def test_a_warm_environment_is_reused_within_the_keep_alive() -> None:
    # Arrivals 1 to 3 s apart: the first environment (busy 0.4 s with its init) is idle again.
    two = series_of([1, 0, 1], step_s=1, durations_ms=(100.0,))
    assert simulate(two, OnDemandOnly()).cold_starts == 1
    assert simulate(two, OnDemandOnly(), keep_alive_s=0).cold_starts == 2
    gap = series_of([1] + [0] * 11 + [1], durations_ms=(100.0,))  # 660 to 780 s apart
    assert simulate(gap, OnDemandOnly(), keep_alive_s=600).cold_starts == 2
    assert simulate(gap, OnDemandOnly(), keep_alive_s=900).cold_starts == 1


def test_enough_provisioned_concurrency_means_no_cold_start() -> None:
    series = bursty()
    oracle = simulate(series, Oracle(), seed=7)
    assert oracle.cold_starts == 0
    assert oracle.served_provisioned == oracle.requests
    static = simulate(series, StaticLevel(oracle.peak_provisioned), seed=7)
    assert static.cold_starts == 0
    assert static.cost.on_demand_execution_usd == 0.0
    assert 0.0 < static.provisioned_utilisation < 1.0
    short = simulate(series, StaticLevel(oracle.peak_provisioned - 1), seed=7)
    assert short.served_provisioned < short.requests


def test_billing_rounds_each_enabled_unit_up_to_five_minutes() -> None:
    assert billed_provisioned_env_seconds([2] * 7) == 2 * 600  # 7 minutes bill 10
    assert billed_provisioned_env_seconds([1, 0, 0]) == 300
    assert billed_provisioned_env_seconds([1] * 10) == 600  # exact multiples stay
    # 10 units for 20 minutes, 2 more for one minute in the middle: those 2 bill 5 minutes.
    assert billed_provisioned_env_seconds([10] * 5 + [12] + [10] * 14) == 10 * 1200 + 2 * 300
    # A replay ending mid-minute: 1 unit throughout, 2 for minute 0 and 2 from 120 s to 150 s.
    assert billed_provisioned_env_seconds([3, 1, 3], horizon_s=150.0) == 300 + 2 * 300 + 2 * 300
    with pytest.raises(ConfigurationError):
        billed_provisioned_env_seconds([-1])
    report = simulate(series_of([0] * 7), StaticLevel(2))
    assert report.provisioned_billed_env_s == 1200
    assert report.provisioned_env_s == 2 * 420
    assert report.cost.provisioned_enabled_usd == pytest.approx(1200 * X86.provisioned_gb_s)


def test_cost_components_and_the_penalty() -> None:
    usage = Usage(
        requests=1_000_000,
        cold_starts=10,
        provisioned_billed_env_s=300.0,
        provisioned_execution_s=100.0,
        on_demand_execution_s=50.0,
    )
    cost = cost_of(usage, memory_mb=2048, prices=X86, cold_start_cost_usd=0.01)
    assert cost.provisioned_enabled_usd == pytest.approx(600 * 0.0000041667)
    assert cost.provisioned_execution_usd == pytest.approx(200 * 0.0000097222)
    assert cost.on_demand_execution_usd == pytest.approx(100 * 0.0000166667)
    assert cost.requests_usd == pytest.approx(0.20)
    assert cost.total_usd == pytest.approx(cost.lambda_usd + 0.1)
    arm = cost_of(usage, memory_mb=1024, prices=prices_for("arm64"))
    assert arm.on_demand_execution_usd == pytest.approx(50 * 0.0000133334)
    with pytest.raises(ConfigurationError):
        prices_for("riscv")


def test_target_tracking_scales_out_only_after_its_datapoints_and_delay() -> None:
    busy = series_of([3000] * 10, durations_ms=(100.0,))  # 50 req/s x 0.1 s: concurrency ~5
    tracking = simulate(busy, TargetTracking(), seed=1)
    # Level 1 for minutes 0-3 (three datapoints, then a minute of allocation): many spill over.
    assert tracking.cold_starts > 0
    assert tracking.peak_provisioned > 1
    assert tracking.provisioned_billed_env_s > tracking.provisioned_env_s  # billed before ready
    no_delay = simulate(busy, TargetTracking(allocation_delay_s=0), seed=1)
    assert no_delay.served_provisioned > tracking.served_provisioned


def test_the_oracle_beats_every_policy_that_costs_no_more() -> None:
    series = bursty()
    oracle = simulate(series, Oracle(), seed=2)
    blocks = tuple(
        ScheduleBlock(START + timedelta(minutes=m), START + timedelta(minutes=m + 30), level)
        for m, level in ((0, 3), (30, 8), (60, 5), (90, 12))
    )
    others: list[Policy] = [
        OnDemandOnly(),
        TargetTracking(),
        TargetTracking(statistic="maximum", target=0.5),
        Scheduled(blocks),
        *(StaticLevel(n) for n in (1, 5, 10, 20, 40)),
    ]
    compared = 0
    for policy in others:
        report = simulate(series, policy, seed=2)
        assert report.requests == oracle.requests
        if report.cost.lambda_usd <= oracle.cost.lambda_usd:
            compared += 1
            assert oracle.cold_starts <= report.cold_starts, policy.name
    assert compared >= 2


def test_same_seed_same_report_and_another_seed_other_arrivals() -> None:
    series = bursty(30)
    first = simulate(series, TargetTracking(), seed=11)
    assert simulate(series, TargetTracking(), seed=11).to_json() == first.to_json()
    a, d = replayed_requests(series, seed=11)
    b, e = replayed_requests(series, seed=12)
    assert not np.array_equal(a, b) and not np.array_equal(d, e)
    # The count per bin is data: only the times within each bin are random.
    edges = np.arange(len(series.counts) + 1) * series.step_s
    assert np.histogram(a, edges)[0].tolist() == [int(c) for c in series.counts]
    assert np.histogram(b, edges)[0].tolist() == [int(c) for c in series.counts]
    assert np.all(np.diff(a) >= 0)


def test_report_json_and_assumptions() -> None:
    report = simulate(series_of([5, 0, 3], durations_ms=(20.0, 40.0)), OnDemandOnly(), seed=1)
    data = json.loads(report.to_json())
    assert data["provisioned_utilisation"] is None  # NaN: nothing was provisioned
    assert data["cost"]["total_usd"] == pytest.approx(report.cost.total_usd)
    assert any("sampled from the series' 2 measured durations" in a for a in report.assumptions)
    assumed = simulate(series_of([5]), OnDemandOnly(), median_ms=80, sigma=0.3)
    assert any("median 80 ms, sigma 0.3" in a for a in assumed.assumptions)
    assert any("policy on-demand" in a for a in assumed.assumptions)


def test_bad_inputs_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="memory"):
        simulate(series_of([1], memory_mb=None), OnDemandOnly())
    assert simulate(series_of([1], memory_mb=None), OnDemandOnly(), memory_mb=512).memory_mb == 512
    with pytest.raises(ConfigurationError, match="minutes"):
        simulate(series_of([1], step_s=45), OnDemandOnly())
    with pytest.raises(ConfigurationError):
        simulate(series_of([1]), OnDemandOnly(), median_ms=0)
    with pytest.raises(ConfigurationError):
        simulate(series_of([1]), OnDemandOnly(), architecture="riscv")


def reference(
    a: np.ndarray, d: np.ndarray, ready: list[int], init_s: float, keep_alive_s: int
) -> tuple[int, int]:
    """The model, one request at a time: (cold starts, requests served provisioned)."""
    provisioned: list[float] = []
    on_demand: list[float] = []
    idle: list[float] = []  # free times of idle on-demand environments
    cold = served = 0
    for at, duration in zip(a.tolist(), d.tolist(), strict=True):
        while provisioned and provisioned[0] <= at:
            heapq.heappop(provisioned)
        while on_demand and on_demand[0] <= at:
            idle.append(heapq.heappop(on_demand))
        if len(provisioned) < ready[int(at // 60)]:
            heapq.heappush(provisioned, at + duration)
            served += 1
            continue
        idle = [free for free in idle if free > math.floor(at) - keep_alive_s]
        if idle:
            idle.remove(max(idle))  # the most recently used
            heapq.heappush(on_demand, at + duration)
        else:
            cold += 1
            heapq.heappush(on_demand, at + duration + init_s)
    return cold, served


def test_the_vectorised_replay_equals_a_request_by_request_reference() -> None:
    rng = np.random.default_rng(5)
    checked_cold = 0
    for _ in range(40):
        bins = int(rng.integers(5, 60))
        step = int(rng.choice([1, 10, 60, 300]))
        rate = float(rng.choice([0.05, 0.5, 3.0, 20.0]))
        counts = rng.poisson(rate * step * rng.random(bins) * (rng.random(bins) < 0.6))
        series = series_of(counts.tolist(), step_s=step)
        median_ms = float(rng.choice([100, 1000, 20000]))
        keep_alive = int(rng.choice([0, 1, 30, 600]))
        minutes = math.ceil(bins * step / 60)
        schedule = Scheduled(
            (ScheduleBlock(START + timedelta(minutes=1), START + timedelta(minutes=4), 2),)
        )
        for policy in (OnDemandOnly(), StaticLevel(int(rng.integers(1, 4))), schedule):
            seed = int(rng.integers(1000))
            report = simulate(
                series, policy, seed=seed, median_ms=median_ms, sigma=1.0, keep_alive_s=keep_alive
            )
            a, d = replayed_requests(series, seed=seed, median_ms=median_ms, sigma=1.0)
            ready = policy.start(PolicyContext(START, minutes)).next_levels().ready.tolist()
            expected = reference(a, d, ready, 0.3, keep_alive)
            assert (report.cold_starts, report.served_provisioned) == expected
            checked_cold += expected[0]
    assert checked_cold > 100  # the cases did exercise cold starts


def test_sweep_steps_coldbrew_along_its_overflow_budget() -> None:
    rng = np.random.default_rng(5)
    bins = np.arange(6 * 288)
    daily = 300.0 + 250.0 * np.sin(2 * np.pi * bins / 288)
    full = series_of(rng.poisson(daily).astype(float).tolist(), step_s=300, memory_mb=128)
    _, evaluate = split_days(full, 4)
    sweep = sweep_function(
        evaluate,
        full,
        train_days=4,
        settings=TunerSettings(duration_s=0.1, memory_mb=128),
        seed=0,
        median_ms=100.0,
        keep_alive_s=600,
    )
    coldbrew = {p.knob: p for p in sweep.points if p.policy == "coldbrew"}
    assert sorted(coldbrew) == sorted(OVERFLOWS)
    loose, tight = coldbrew[max(OVERFLOWS)], coldbrew[min(OVERFLOWS)]
    # Cost alone provisions only what pays for itself; the tightest budget buys cold starts off.
    assert loose.cost_usd < tight.cost_usd
    assert tight.cold_starts < loose.cold_starts
