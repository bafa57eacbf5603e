"""``coldbrew tune`` end to end on hostile traces written here: a load past the account's
concurrency, and a week of missing rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from coldbrew.capacity.schedule import read_schedule
from coldbrew.cli import main

NAME = "1---2---pool3-300-128"


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


def _tune(trace: Path, out: Path, *args: str) -> str:
    result = CliRunner().invoke(
        main,
        ["tune", str(trace), "--train-days", "4", "--out", str(out), *args],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_load_past_the_account_is_capped_and_said(tmp_path: Path) -> None:
    # 10^12 requests per 5-minute bin: the budget would need 3.3e8 environments.
    trace = _flat_trace(tmp_path / "huge.csv", 1e12, days=5)
    out = tmp_path / "schedule.json"
    output = _tune(trace, out)
    assert "needs more than 900 environments" in output
    assert "capped at 900 by the account's unreserved concurrency" in output
    schedule = read_schedule(out)
    assert {b.min_capacity for b in schedule.blocks} == {900}
    assert any("needs more than 900" in note for note in schedule.assumptions["notes"])


def test_a_week_of_filled_bins_is_shown_and_recorded(tmp_path: Path) -> None:
    week = range(2 * 288, 9 * 288)
    trace = _flat_trace(tmp_path / "gappy.csv", 300.0, days=12, missing=week)
    out = tmp_path / "schedule.json"
    output = _tune(trace, out, "--train-days", "10")
    assert "gaps: 2016 of 3456 bins had no data" in output
    assert "2016 of them are in the 10 training days" in output
    gaps = read_schedule(out).forecaster["trace_gaps"]
    assert gaps["filled_bins"] == 2016 and gaps["filled_in_training"] == 2016
    assert "linear interpolation" in gaps["note"]
    assert json.loads(out.read_text())["forecaster"]["trace_gaps"] == gaps
    # A trace without gaps writes no gap record.
    clean = _flat_trace(tmp_path / "clean.csv", 300.0, days=5)
    _tune(clean, tmp_path / "clean.json")
    assert "trace_gaps" not in read_schedule(tmp_path / "clean.json").forecaster
