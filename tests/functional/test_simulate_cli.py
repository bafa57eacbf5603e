"""``coldbrew simulate`` end to end on a small Huawei-format trace written here."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from coldbrew.cli import main

NAME = "1---2---pool3-300-128"


def _trace(path: Path, days: int = 5) -> Path:
    start = datetime(2016, 7, 1, tzinfo=UTC)
    lines = [f"date,{NAME}"]
    for i in range(days * 288):
        hour = (i % 288) / 12
        count = round(30 + 25 * math.sin(hour / 24 * 2 * math.pi))  # a daily cycle, ~1 req/10 s
        stamp = (start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{stamp},{count}.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_policy_replays_and_reports(tmp_path: Path) -> None:
    trace = _trace(tmp_path / "trace.csv")
    out = tmp_path / "reports.json"
    result = CliRunner().invoke(
        main,
        ["simulate", str(trace), "--train-days", "4", "--json", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    reports = json.loads(out.read_text())
    assert reports[0]["policy"] == "on-demand"
    assert len(reports) == 5
    requests = {r["requests"] for r in reports}
    assert len(requests) == 1  # every policy replays the same requests
    by_policy = {r["policy"].split(" ")[0]: r for r in reports}
    assert by_policy["oracle"]["cold_starts"] == 0
    assert by_policy["on-demand"]["cold_starts"] > 0
    assert "assumptions:" in result.output and "median 100 ms" in result.output


def test_same_seed_same_answer_and_bad_inputs_are_named(tmp_path: Path) -> None:
    trace = _trace(tmp_path / "trace.csv")
    runs = [
        CliRunner().invoke(
            main,
            [
                "simulate",
                str(trace),
                "--train-days",
                "4",
                "--policy",
                "on-demand",
                "--json",
                str(tmp_path / f"{i}.json"),
            ],
        )
        for i in range(2)
    ]
    assert all(r.exit_code == 0 for r in runs)
    assert (tmp_path / "0.json").read_text() == (tmp_path / "1.json").read_text()
    missing = CliRunner().invoke(main, ["simulate", str(trace), "--function", "nope"])
    assert missing.exit_code == 1 and "no function nope" in missing.output
    broken = tmp_path / "broken.csv"
    broken.write_text(f"date,{NAME}\n2016-07-01 00:00:00,3.0\n2016-07-01 00:05:00,x\n")
    bad = CliRunner().invoke(main, ["simulate", str(broken)])
    assert bad.exit_code == 1 and "broken.csv:3" in bad.output and "Traceback" not in bad.output
    short = CliRunner().invoke(main, ["simulate", str(trace), "--train-days", "5"])
    assert short.exit_code == 1 and "nothing left to evaluate" in short.output


def test_sweep_draws_the_frontier_and_compares_with_target_tracking(tmp_path: Path) -> None:
    trace = _trace(tmp_path / "trace.csv")
    out = tmp_path / "sweep.json"
    result = CliRunner().invoke(
        main,
        ["simulate", str(trace), "--train-days", "4", "--sweep", "--json", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    (sweep,) = data["sweeps"]
    policies = {p["policy"] for p in sweep["points"]}
    assert policies == {"on-demand", "static", "target-tracking", "coldbrew", "oracle"}
    oracle = [p for p in sweep["points"] if p["policy"] == "oracle" and p["knob"] == 1.0]
    assert oracle[0]["cold_starts"] == 0
    (row,) = data["summary"]
    assert row["tt_cold_starts"] >= 0 and row["tt_cost_usd"] > 0
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _flat_trace(path: Path, per_bin: float, *, days: int, missing: range = range(0)) -> Path:
    """A Huawei-format trace of ``per_bin`` requests per 5-minute bin; ``missing`` bins left out."""
    start = datetime(2016, 7, 1, tzinfo=UTC)
    lines = [f"date,{NAME}"]
    for i in range(days * 288):
        if i not in missing:
            stamp = (start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"{stamp},{per_bin}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_trace_too_big_to_replay_is_refused_in_one_line(tmp_path: Path) -> None:
    # 10^7 requests per 5-minute bin: 1.2e8 in an hour's block, about 19 GB to replay.
    trace = _flat_trace(tmp_path / "huge.csv", 1e7, days=5)
    for extra in ([], ["--sweep"], ["--policy", "oracle"]):
        result = CliRunner().invoke(main, ["simulate", str(trace), "--train-days", "4", *extra])
        assert result.exit_code == 1, result.output
        assert "MemoryError" not in result.output and "Traceback" not in result.output
        assert "internal error" not in result.output
        (line,) = result.output.strip().splitlines()
        assert "120,000,000" in line and "limit of 2,000,000" in line
        assert "--function" in line


def test_filled_bins_are_said_before_the_replay(tmp_path: Path) -> None:
    # A week of 5-minute rows missing from a 12-day trace: filled, and said so.
    week = range(3 * 288, 10 * 288)
    trace = _flat_trace(tmp_path / "gappy.csv", 30.0, days=12, missing=week)
    result = CliRunner().invoke(
        main,
        ["simulate", str(trace), "--train-days", "11", "--policy", "on-demand"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert f"{NAME}: 2016 of 3456 bins had no data" in result.output
    assert "filled by linear interpolation" in result.output
