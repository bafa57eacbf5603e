"""Provisioned-concurrency policies: levels per minute, allocation delay, target tracking."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from coldbrew.capacity.policies import (
    Levels,
    Observation,
    OnDemandOnly,
    Oracle,
    PolicyContext,
    PolicyRun,
    ScheduleBlock,
    Scheduled,
    StaticLevel,
    TargetTracking,
    ready_levels,
)
from coldbrew.capacity.rolling import schedule_blocks
from coldbrew.errors import ConfigurationError

START = datetime(2016, 7, 1, tzinfo=UTC)


def context(minutes: int, peaks: list[int] | None = None) -> PolicyContext:
    future = None if peaks is None else np.array(peaks, dtype=np.int64)
    return PolicyContext(start=START, minutes=minutes, future_peak_concurrency=future)


def drive(run: PolicyRun, utilisation: list[float]) -> tuple[list[int], list[int]]:
    """Feed one datapoint per minute; return the (billed, ready) level of each minute."""
    billed: list[int] = []
    ready: list[int] = []
    for value in utilisation:
        levels = run.next_levels()
        assert len(levels.billed) == 1  # closed loop: one minute at a time
        billed.append(int(levels.billed[0]))
        ready.append(int(levels.ready[0]))
        run.observe(Observation(np.array([value]), np.array([value])))
    return billed, ready


def test_open_loop_policies_answer_the_whole_replay_at_once() -> None:
    on_demand = OnDemandOnly().start(context(5)).next_levels()
    assert on_demand.billed.tolist() == on_demand.ready.tolist() == [0] * 5
    static = StaticLevel(3).start(context(4)).next_levels()
    assert static.billed.tolist() == static.ready.tolist() == [3] * 4
    assert StaticLevel(3).name == "static-3"
    with pytest.raises(ConfigurationError):
        StaticLevel(-1)


def test_increases_serve_after_the_delay_and_decreases_at_once() -> None:
    billed = np.array([1, 3, 3, 3, 0, 2, 1, 5], dtype=np.int64)
    assert ready_levels(billed, 0).tolist() == billed.tolist()
    assert ready_levels(billed, 1).tolist() == [1, 1, 3, 3, 0, 0, 1, 1]
    assert ready_levels(billed, 2).tolist() == [1, 1, 1, 3, 0, 0, 0, 1]


def test_scheduled_blocks_become_levels_per_minute() -> None:
    blocks = (
        ScheduleBlock(START + timedelta(minutes=2), START + timedelta(minutes=4), 5),
        ScheduleBlock(START + timedelta(minutes=4), START + timedelta(minutes=5), 2),
        ScheduleBlock(START - timedelta(hours=1), START + timedelta(minutes=1), 1),
    )
    levels = Scheduled(blocks, default=0).start(context(7)).next_levels()
    assert levels.billed.tolist() == [1, 0, 5, 5, 2, 0, 0]
    assert levels.ready.tolist() == [1, 0, 0, 5, 2, 0, 0]  # the raise waits 60 s
    instant = Scheduled(blocks, allocation_delay_s=0).start(context(7)).next_levels()
    assert instant.ready.tolist() == instant.billed.tolist()


def test_schedule_blocks_start_increases_early_and_decreases_on_time() -> None:
    hour = timedelta(hours=1)
    starts = [START + i * hour for i in range(4)]
    blocks = schedule_blocks(starts, [2, 5, 3, 0], end=START + 4 * hour, lead_s=60)
    minute = timedelta(minutes=1)
    assert [(b.start, b.end, b.level) for b in blocks] == [
        (START - minute, START + hour - minute, 2),  # up from nothing: early
        (START + hour - minute, START + 2 * hour, 5),  # up: early
        (START + 2 * hour, START + 3 * hour, 3),  # down: the busier block keeps its hour
    ]  # level 0 is the default, no block
    levels = Scheduled(blocks).start(context(4 * 60)).next_levels()
    assert levels.ready[60:120].min() == 5  # ready for the whole busier block
    assert levels.billed[120] == 3
    with pytest.raises(ConfigurationError, match="2 block starts for 1 levels"):
        schedule_blocks(starts[:2], [1], end=START, lead_s=0)


def test_scheduled_refuses_overlapping_or_empty_blocks() -> None:
    with pytest.raises(ConfigurationError, match="overlap"):
        Scheduled(
            (
                ScheduleBlock(START, START + timedelta(minutes=10), 1),
                ScheduleBlock(START + timedelta(minutes=5), START + timedelta(minutes=20), 2),
            )
        )
    with pytest.raises(ConfigurationError):
        ScheduleBlock(START, START, 1)


def test_oracle_provisions_the_future_peaks_and_needs_them() -> None:
    assert Oracle().clairvoyant
    levels = Oracle().start(context(3, [0, 4, 2])).next_levels()
    assert levels.billed.tolist() == levels.ready.tolist() == [0, 4, 2]
    with pytest.raises(ConfigurationError):
        Oracle().start(context(3))


def test_target_tracking_scales_out_after_three_datapoints_then_the_delay() -> None:
    billed, ready = drive(TargetTracking().start(context(8)), [1.0] * 8)
    # Datapoints of minutes 0, 1, 2 are above 0.7: configured 2 from minute 3 (ceil(1 / 0.7)),
    # ready a minute later. The next action needs three fresh datapoints (minutes 3, 4, 5) and
    # waits for the allocation: ceil(2 / 0.7) = 3 from minute 6, ready at minute 7.
    assert billed == [1, 1, 1, 2, 2, 2, 3, 3]
    assert ready == [1, 1, 1, 1, 2, 2, 2, 3]


def test_target_tracking_needs_consecutive_datapoints() -> None:
    billed, _ = drive(TargetTracking().start(context(7)), [1.0, 1.0, 0.5, 1.0, 1.0, 0.7, 1.0])
    assert billed == [1] * 7  # never three in a row above (0.7 is not above 0.7)


def test_target_tracking_scales_in_after_fifteen_datapoints() -> None:
    policy = TargetTracking(initial_level=10, min_level=2)
    billed, ready = drive(policy.start(context(18)), [0.1] * 18)
    assert billed[:15] == [10] * 15
    assert billed[15] == 2  # ceil(10 * 0.1 / 0.7) = 2, at the floor min_level
    assert ready[15] == 2  # decreases take effect at once


def test_target_tracking_without_a_datapoint_does_not_act() -> None:
    policy = TargetTracking(min_level=0, initial_level=0)
    billed, _ = drive(policy.start(context(5)), [math.nan] * 5)
    assert billed == [0] * 5  # a level of 0 has no utilisation metric: it cannot scale out


def test_target_tracking_respects_its_bounds_and_statistic() -> None:
    policy = TargetTracking(max_level=3, allocation_delay_s=0)
    billed, ready = drive(policy.start(context(6)), [10.0] * 6)
    assert billed == [1, 1, 1, 3, 3, 3]
    assert ready == billed
    run = TargetTracking(statistic="maximum").start(context(4))
    for _ in range(3):
        run.next_levels()
        run.observe(Observation(average=np.array([0.1]), maximum=np.array([1.0])))
    assert run.next_levels().billed.tolist() == [2]  # the burst, not the average, counts
    for bad in (
        {"target": 0.0},
        {"statistic": "p99"},
        {"min_level": 3, "max_level": 2},
        {"scale_in_fraction": 0.0},
        {"allocation_delay_s": -1.0},
    ):
        with pytest.raises(ConfigurationError):
            TargetTracking(**bad)


def test_levels_must_be_matching_arrays() -> None:
    with pytest.raises(ConfigurationError):
        Levels(np.array([1, 2]), np.array([1]))
    assert "0.7" in TargetTracking().assumptions
