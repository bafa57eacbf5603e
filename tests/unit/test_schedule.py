"""The schedule file: cron strings, round trips, and validation errors that name the key."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coldbrew.capacity.schedule import (
    cron_at,
    dumps,
    parse_schedule,
    read_schedule,
    schedule_from_tuning,
    write_schedule,
)
from coldbrew.capacity.tuner import TunerSettings, tune
from coldbrew.errors import ConfigurationError


def _valid() -> dict[str, Any]:
    return {
        "schema": 1,
        "function": "embed",
        "alias": "live",
        "timezone": "UTC",
        "block_minutes": 60,
        "memory_mb": 1024,
        "blocks": [
            {
                "start": "00:00",
                "end": "08:00",
                "min_capacity": 0,
                "max_capacity": 0,
                "cron": "cron(0 0 * * ? *)",
            },
            {
                "start": "08:00",
                "end": "20:00",
                "min_capacity": 5,
                "max_capacity": 5,
                "cron": "cron(0 8 * * ? *)",
                "gcf": {"min_instance_count": 5},
            },
            {
                "start": "20:00",
                "end": "24:00",
                "min_capacity": 1,
                "max_capacity": 1,
                "cron": "cron(0 20 * * ? *)",
            },
        ],
        "assumptions": {"duration_ms": 100},
        "forecaster": {"chosen": "seasonal_naive_daily"},
    }


@pytest.mark.parametrize(
    ("start", "cron"),
    [
        ("00:00", "cron(0 0 * * ? *)"),
        ("08:00", "cron(0 8 * * ? *)"),
        ("13:35", "cron(35 13 * * ? *)"),
        ("23:55", "cron(55 23 * * ? *)"),
    ],
)
def test_cron_is_the_six_field_aws_expression(start: str, cron: str) -> None:
    assert cron_at(start) == cron


def test_cron_refuses_the_end_of_day() -> None:
    with pytest.raises(ConfigurationError):
        cron_at("24:00")


def test_a_valid_file_parses() -> None:
    schedule = parse_schedule(_valid())
    assert schedule.resource_id == "function:embed:live"
    assert [b.action_name for b in schedule.blocks] == [
        "coldbrew-0000",
        "coldbrew-0800",
        "coldbrew-2000",
    ]
    assert schedule.blocks[0].gcf_min_instance_count == 0  # defaults to min_capacity


def test_tuning_round_trips_through_the_file(tmp_path: Path) -> None:
    rates = [0.0] * 8 + [50.0] * 10 + [0.5] * 6
    tuning = tune([r * 3600 for r in rates], TunerSettings(memory_mb=512))
    schedule = schedule_from_tuning(
        tuning, function="embed", alias="live", forecaster={"chosen": "holt_winters"}
    )
    path = write_schedule(schedule, tmp_path / "out" / "schedule.json")
    again = read_schedule(path)
    assert again == schedule
    assert dumps(again) == path.read_text()
    assert [b.start for b in again.blocks] == ["00:00", "08:00", "18:00"]
    assert [b.end for b in again.blocks] == ["08:00", "18:00", "24:00"]
    assert again.blocks[1].cron == "cron(0 8 * * ? *)"
    level = tuning.blocks[8].level
    assert again.blocks[1].min_capacity == again.blocks[1].max_capacity == level
    assert again.blocks[1].gcf_min_instance_count == level
    assert again.memory_mb == 512
    assert again.block_minutes == 60
    assert again.assumptions["overflow_budget"] == 0.01
    assert again.estimate["daily_cost_usd"] == pytest.approx(tuning.daily_cost, abs=1e-6)
    assert not list(tmp_path.joinpath("out").glob("*.tmp"))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting ``blocks.1.min_capacity``-style ``path`` (``...`` deletes)."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is ...:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def test_files_with_and_without_the_trace_gap_record_read(tmp_path: Path) -> None:
    # tune records a trace's filled bins under forecaster.trace_gaps; files written
    # before it (no such key) and after both read, and the record survives the trip.
    gaps = {
        "note": "2016 of 3456 bins had no data (...)",
        "filled_bins": 2016,
        "filled_in_training": 2016,
    }
    with_gaps = _valid()
    with_gaps["forecaster"] = {**with_gaps["forecaster"], "trace_gaps": gaps}
    assert parse_schedule(with_gaps).forecaster["trace_gaps"] == gaps
    assert "trace_gaps" not in parse_schedule(_valid()).forecaster
    path = write_schedule(parse_schedule(with_gaps), tmp_path / "schedule.json")
    assert read_schedule(path).forecaster["trace_gaps"] == gaps


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("schema", 2), "schema must be 1"),
        (_set("schema", ...), "schema is missing"),
        (_set("colour", "blue"), "colour is not a known key"),
        (_set("function", ...), "function is missing"),
        (_set("function", "my function!"), "function must match"),
        (_set("alias", "42"), "alias must match"),
        (_set("timezone", "Europe/Paris"), "timezone must be 'UTC'"),
        (_set("block_minutes", 7), "block_minutes must be a multiple of 5"),
        (_set("block_minutes", 35), "block_minutes must be a multiple of 5"),
        (_set("block_minutes", "60"), "block_minutes must be a whole number"),
        (_set("memory_mb", 64), "memory_mb must be >= 128"),
        (_set("memory_mb", 20_000), "memory_mb must be <= 10240"),
        (_set("blocks", []), "blocks must be a non-empty list"),
        (_set("blocks.1", "08:00"), "blocks[1] must be a JSON object"),
        (_set("blocks.1.colour", 1), "blocks[1].colour is not a known key"),
        (_set("blocks.1.min_capacity", 6), "blocks[1].min_capacity must be <= max_capacity"),
        (_set("blocks.1.min_capacity", -1), "blocks[1].min_capacity must be >= 0"),
        (_set("blocks.1.max_capacity", "5"), "blocks[1].max_capacity must be a whole number"),
        (_set("blocks.1.max_capacity", True), "blocks[1].max_capacity must be a whole number"),
        (_set("blocks.1.max_capacity", ...), "blocks[1].max_capacity is missing"),
        (_set("blocks.1.start", "8am"), "blocks[1].start must be HH:MM"),
        (_set("blocks.1.start", "09:00"), "blocks[1].start must be the previous block's end"),
        (_set("blocks.0.start", "01:00"), "blocks[0].start must be 00:00"),
        (_set("blocks.0.end", "00:00"), "blocks[0].end must be after its start"),
        (_set("blocks.2.end", "23:00"), "blocks[2].end must be 24:00"),
        (_set("blocks.2.end", "24:30"), "blocks[2].end must be HH:MM"),
        (_set("blocks.1.cron", "cron(0 8 * * *)"), "blocks[1].cron must be 'cron(0 8 * * ? *)'"),
        (_set("blocks.1.cron", ...), "blocks[1].cron is missing"),
        (_set("blocks.1.gcf", {"min_instance_count": -2}), "blocks[1].gcf.min_instance_count"),
        (_set("blocks.1.gcf", {"min": 1}), "blocks[1].gcf.min is not a known key"),
        (_set("blocks.1.expected", [1]), "blocks[1].expected must be a JSON object"),
        (_set("assumptions", "none"), "assumptions must be a JSON object"),
    ],
)
def test_each_validation_error_names_its_key(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(_valid())
    mutate(data)
    with pytest.raises(ConfigurationError) as caught:
        parse_schedule(data, source="schedule.json")
    assert str(caught.value).startswith("schedule.json: ")
    assert message in str(caught.value)


def test_blocks_must_sit_on_the_block_grid() -> None:
    data = _valid()
    data["blocks"][0]["end"] = "08:30"
    data["blocks"][1]["start"] = "08:30"
    data["blocks"][1]["cron"] = "cron(30 8 * * ? *)"
    with pytest.raises(ConfigurationError, match=r"blocks\[0\]\.end must be on the 60-minute grid"):
        parse_schedule(data)
    data["block_minutes"] = 30
    assert parse_schedule(data).blocks[1].start == "08:30"


def test_not_an_object_and_not_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="the schedule must be a JSON object"):
        parse_schedule([1, 2])
    bad = tmp_path / "schedule.json"
    bad.write_text('{\n  "schema": 1,\n  oops\n}\n')
    with pytest.raises(ConfigurationError, match=r"schedule\.json:3: not JSON"):
        read_schedule(bad)
    with pytest.raises(ConfigurationError, match="cannot read"):
        read_schedule(tmp_path / "missing.json")


def test_write_refuses_an_invalid_schedule(tmp_path: Path) -> None:
    tuning = tune([0.0] * 24, TunerSettings())
    schedule = schedule_from_tuning(tuning, function="not a lambda name")
    with pytest.raises(ConfigurationError, match="function must match"):
        write_schedule(schedule, tmp_path / "schedule.json")
    assert not (tmp_path / "schedule.json").exists()


def test_the_file_is_plain_json_in_schema_order(tmp_path: Path) -> None:
    schedule = parse_schedule(_valid())
    text = dumps(schedule)
    assert list(json.loads(text)) == [
        "schema",
        "function",
        "alias",
        "timezone",
        "block_minutes",
        "memory_mb",
        "blocks",
        "assumptions",
        "forecaster",
    ]
    assert json.loads(text)["blocks"][1]["gcf"] == {"min_instance_count": 5}
