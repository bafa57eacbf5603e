"""``coldbrew tune --apply`` against moto's Application Auto Scaling, through a real boto3 client.

moto keeps scheduled actions but never fires them, and does not implement
Lambda's provisioned-concurrency API; what is checked is that exactly the
printed calls were made: the scalable target and one scheduled action per
block, stale ``coldbrew-*`` actions gone and other actions left alone.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from coldbrew.capacity.apply import (
    DIMENSION,
    NAMESPACE,
    apply_schedule,
    existing_actions,
    plan_apply,
)
from coldbrew.capacity.schedule import Schedule, read_schedule
from coldbrew.cli import main

REGION = "us-east-1"
COLUMN = "embed---7---pool1-300-256"
RESOURCE = "function:embed:live"


def _write_trace(path: Path, days: int = 6) -> Path:
    """A Huawei-format trace: a daily cycle peaking mid-afternoon, seeded noise."""
    rng = random.Random(7)
    start = datetime(2024, 5, 1)
    lines = [f"date,{COLUMN}"]
    for i in range(days * 288):
        phase = 2 * math.pi * ((i % 288) / 288 - 0.375)
        count = max(0.0, 3000 + 2800 * math.sin(phase) + rng.gauss(0, 150))
        lines.append(f"{start + timedelta(minutes=5 * i):%Y-%m-%d %H:%M:%S},{count:.1f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Fake credentials (never real ones) and moto; yields an application-autoscaling client."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("application-autoscaling", region_name=REGION)


def _described(client: Any) -> dict[str, Mapping[str, Any]]:
    page = client.describe_scheduled_actions(
        ServiceNamespace=NAMESPACE, ResourceId=RESOURCE, ScalableDimension=DIMENSION
    )
    return {a["ScheduledActionName"]: a for a in page["ScheduledActions"]}


def _put_foreign_and_stale(client: Any) -> None:
    target = {"ServiceNamespace": NAMESPACE, "ResourceId": RESOURCE, "ScalableDimension": DIMENSION}
    client.register_scalable_target(**target, MinCapacity=0, MaxCapacity=5)
    for name, cron in (("coldbrew-0530", "cron(30 5 * * ? *)"), ("nightly", "cron(0 2 * * ? *)")):
        client.put_scheduled_action(
            **target,
            ScheduledActionName=name,
            Schedule=cron,
            ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 1},
        )


def test_tune_apply_creates_exactly_the_printed_actions(aws: Any, tmp_path: Path) -> None:
    _put_foreign_and_stale(aws)
    trace = _write_trace(tmp_path / "trace.csv")
    out = tmp_path / "schedule.json"
    result = CliRunner().invoke(
        main,
        [
            "tune",
            str(trace),
            "--function",
            COLUMN,
            "--train-days",
            "5",
            "--function-name",
            "embed",
            "--out",
            str(out),
            "--apply",
            "--region",
            REGION,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "beats seasonal naive: " in result.output
    printed = [
        json.loads(line.split(" ", 1)[1])
        for line in (raw.strip() for raw in result.output.splitlines())
        if line.startswith("put_scheduled_action ")
    ]
    deletes = [line for line in result.output.splitlines() if "delete_scheduled_action" in line]
    schedule = read_schedule(out)
    assert len(printed) == len(schedule.blocks) > 1  # the daily cycle gives several levels
    described = _described(aws)
    assert set(described) == {p["ScheduledActionName"] for p in printed} | {"nightly"}
    for call in printed:
        action = described[call["ScheduledActionName"]]
        assert action["Schedule"] == call["Schedule"]
        assert action["ScalableTargetAction"] == call["ScalableTargetAction"]
        assert action["ResourceId"] == RESOURCE
    assert len(deletes) == 1 and "coldbrew-0530" in deletes[0]
    for block in schedule.blocks:
        action = described[block.action_name]
        assert action["Schedule"] == block.cron
        assert action["ScalableTargetAction"]["MinCapacity"] == block.min_capacity
    (target,) = aws.describe_scalable_targets(ServiceNamespace=NAMESPACE)["ScalableTargets"]
    assert target["ResourceId"] == RESOURCE
    assert target["MaxCapacity"] == max(b.max_capacity for b in schedule.blocks)


def test_reapplying_a_changed_schedule_updates_and_removes_stale(aws: Any, tmp_path: Path) -> None:
    first = _schedule(["00:00", "06:00", "12:00", "18:00"], [0, 3, 8, 2])
    created = apply_schedule(aws, first)
    assert created.put == ("coldbrew-0000", "coldbrew-0600", "coldbrew-1200", "coldbrew-1800")
    second = _schedule(["00:00", "12:00"], [1, 4])
    lines: list[str] = []
    changed = apply_schedule(aws, second, echo=lines.append)
    assert changed.put == ("coldbrew-0000", "coldbrew-1200")
    assert changed.deleted == ("coldbrew-0600", "coldbrew-1800")
    assert [line.split(" ", 1)[0] for line in lines] == [
        "register_scalable_target",
        "put_scheduled_action",
        "put_scheduled_action",
        "delete_scheduled_action",
        "delete_scheduled_action",
    ]
    described = _described(aws)
    assert set(described) == {"coldbrew-0000", "coldbrew-1200"}
    assert described["coldbrew-1200"]["ScalableTargetAction"] == {
        "MinCapacity": 4,
        "MaxCapacity": 4,
    }


def test_dry_run_calls_nothing(aws: Any) -> None:
    result = apply_schedule(aws, _schedule(["00:00"], [2]), dry_run=True)
    assert [c.operation for c in result.calls] == [
        "register_scalable_target",
        "put_scheduled_action",
    ]
    assert _described(aws) == {}


class _PagedClient:
    """Real AWS pages describe_scheduled_actions (moto does not): two pages."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def describe_scheduled_actions(self, **kwargs: Any) -> Mapping[str, Any]:
        self.requests.append(kwargs)
        if "NextToken" not in kwargs:
            return {
                "ScheduledActions": [{"ScheduledActionName": "coldbrew-0100"}],
                "NextToken": "p2",
            }
        return {"ScheduledActions": [{"ScheduledActionName": "other"}]}

    def register_scalable_target(self, **kwargs: Any) -> Mapping[str, Any]:
        raise AssertionError("not called here")

    put_scheduled_action = delete_scheduled_action = register_scalable_target


def test_existing_actions_reads_every_page_and_plan_keeps_foreign_ones() -> None:
    client = _PagedClient()
    schedule = _schedule(["00:00"], [1])
    names = existing_actions(client, schedule)
    assert names == ("coldbrew-0100", "other")
    assert client.requests[1]["NextToken"] == "p2"
    calls = plan_apply(schedule, names)
    assert [(c.operation, c.params.get("ScheduledActionName")) for c in calls] == [
        ("register_scalable_target", None),
        ("put_scheduled_action", "coldbrew-0000"),
        ("delete_scheduled_action", "coldbrew-0100"),
    ]


def test_a_malformed_trace_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(
        f"date,{COLUMN}\n2024-05-01 00:00:00,1.0\n2024-05-01 00:05:00,lots\n2024-05-01 00:10:00,2\n"
    )
    result = CliRunner().invoke(main, ["tune", str(trace), "--out", str(tmp_path / "s.json")])
    assert result.exit_code == 1
    assert f"{trace}:3" in result.output
    assert "TrafficDataError" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s.json").exists()


def _schedule(starts: list[str], levels: list[int]) -> Schedule:
    from coldbrew.capacity.schedule import parse_schedule

    ends = [*starts[1:], "24:00"]
    return parse_schedule(
        {
            "schema": 1,
            "function": "embed",
            "alias": "live",
            "timezone": "UTC",
            "block_minutes": 60,
            "memory_mb": 256,
            "blocks": [
                {
                    "start": s,
                    "end": e,
                    "min_capacity": n,
                    "max_capacity": n,
                    "cron": f"cron(0 {int(s[:2])} * * ? *)",
                }
                for s, e, n in zip(starts, ends, levels, strict=True)
            ],
        }
    )


def test_flags_are_env_vars_and_blocks_are_whole_5_minutes(tmp_path: Path) -> None:
    trace = _write_trace(tmp_path / "trace.csv", days=4)
    result = CliRunner().invoke(
        main,
        ["tune", str(trace), "--out", str(tmp_path / "s.json")],
        env={"COLDBREW_TUNE_BLOCK_MINUTES": "7"},
    )
    assert result.exit_code == 1
    assert "block_minutes must be a multiple of 5" in result.output
    assert "Traceback" not in result.output
