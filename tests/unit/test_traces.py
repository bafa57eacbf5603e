"""Trace parsers: the real Huawei trace, the Azure 2019 format sample, and
malformed, gappy and per-invocation files written to tmp_path."""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coldbrew.capacity.azure2019 import DAY1, load_azure2019
from coldbrew.capacity.azure2021 import ORIGIN, load_azure2021
from coldbrew.capacity.huawei import load_huawei
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.traces import detect_format, load_trace
from coldbrew.errors import TrafficDataError
from trace_files import AZURE_INVOCATIONS, AZURE_MEMORY, HUAWEI, IN_REPOSITORY, TRACES, require

# Requests/s over the 30 days, computed independently of the parser
# (sum of the column / 2,592,000 s).
HUAWEI_RATES = {
    "296---224---pool22-300-128": 39.1972,
    "415---224---pool22-300-128": 2.2586,
    "116---168---pool32-2600-3072": 0.8886,
    "431---224---pool22-300-128": 0.4710,
    "49---128---pool22-300-128": 0.3784,
    "20---168---pool30-1800-2048": 0.1934,
    "83---346---pool23-400-256": 0.0328,
    "10---134---pool22-300-128": 0.0427,
}

HUAWEI_HEADER = "date,1---2---pool3-300-128,4---5---pool6-900-1024\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _huawei(tmp_path: Path, *rows: str) -> Path:
    return _write(tmp_path, "huawei.csv", HUAWEI_HEADER + "".join(row + "\n" for row in rows))


def _azure2019_row(function: str, counts: dict[int, str], *, app: str = "app1") -> str:
    cells = [counts.get(minute, "0") for minute in range(1, 1441)]
    return ",".join(["owner1", app, function, "http", *cells]) + "\n"


AZURE2019_HEADER = "HashOwner,HashApp,HashFunction,Trigger," + ",".join(map(str, range(1, 1441)))


def _azure2019(tmp_path: Path, name: str, *rows: str) -> Path:
    return _write(tmp_path, name, AZURE2019_HEADER + "\n" + "".join(rows))


def _raises_at(
    path: Path, line: int, message: str = ""
) -> AbstractContextManager[pytest.ExceptionInfo[TrafficDataError]]:
    """The error names ``path`` and ``line`` first, as ``file:line: message``."""
    return pytest.raises(TrafficDataError, match=f"^{re.escape(f'{path}:{line}: ')}.*{message}")


# --- where the traces come from ------------------------------------------------


def test_traces_ship_with_the_repository() -> None:
    """A clone alone has them: by default they are read from tests/data/traces."""
    project = IN_REPOSITORY.parent.parent.parent
    assert IN_REPOSITORY.is_relative_to(project)
    for path in (HUAWEI, AZURE_INVOCATIONS, AZURE_MEMORY):
        assert (IN_REPOSITORY / path.name).is_file(), path.name
    if "COLDBREW_TRACES" not in os.environ:
        assert TRACES == IN_REPOSITORY


def test_nothing_reads_traces_from_beside_the_project() -> None:
    project = IN_REPOSITORY.parent.parent.parent
    pattern = re.compile(r"\.\./shared|[\"']shared[\"']\s*/\s*[\"']traces")
    offenders = [
        str(path.relative_to(project))
        for folder in ("src", "tests", "infra")
        for path in (project / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# --- the real Huawei trace ---------------------------------------------------


@pytest.fixture(scope="module")
def huawei() -> list[TrafficSeries]:
    return load_trace(require(HUAWEI))


def test_huawei_real_trace_shape_and_names(huawei: list[TrafficSeries]) -> None:
    assert detect_format(HUAWEI) == "huawei"
    assert [s.name for s in huawei] == list(HUAWEI_RATES)
    for series in huawei:
        assert len(series.counts) == 8640
        assert series.step_s == 300
        assert series.start == datetime(2016, 7, 1, tzinfo=UTC)
        assert series.end == datetime(2016, 7, 31, tzinfo=UTC)
        assert series.filled == ()
        assert series.fill_note == ""
        assert series.source == str(HUAWEI)
    assert huawei[0].counts[:2] == (10949.0, 17080.0)
    assert huawei[-1].counts[-1] == 2.0


def test_huawei_memory_timeout_and_name_parts(huawei: list[TrafficSeries]) -> None:
    by_name = {s.name: s for s in huawei}
    gpu = by_name["116---168---pool32-2600-3072"]
    assert (gpu.memory_mb, gpu.timeout_s) == (3072, 2600)
    assert gpu.extra == {"format": "huawei", "function": "116", "user": "168", "pool": "32"}
    assert (
        by_name["20---168---pool30-1800-2048"].memory_mb,
        by_name["20---168---pool30-1800-2048"].timeout_s,
    ) == (2048, 1800)
    assert (
        by_name["83---346---pool23-400-256"].memory_mb,
        by_name["83---346---pool23-400-256"].timeout_s,
    ) == (256, 400)
    assert by_name["296---224---pool22-300-128"].memory_mb == 128


def test_huawei_mean_rates_and_concurrency(huawei: list[TrafficSeries]) -> None:
    for series in huawei:
        rate = sum(series.counts) / (len(series.counts) * series.step_s)
        assert rate == pytest.approx(HUAWEI_RATES[series.name], abs=1e-4)
        assert series.mean_concurrency(0.1) == pytest.approx(rate * 0.1)
    # The trace README: at 100 ms only the first function reaches a mean concurrency of 1.
    assert [s.mean_concurrency(0.1) >= 1 for s in huawei] == [True] + [False] * 7


# --- the Azure 2019 format sample ---------------------------------------------


def test_azure2019_sample_format_with_memory() -> None:
    series = load_trace(require(AZURE_INVOCATIONS), memory=require(AZURE_MEMORY))
    assert detect_format(AZURE_INVOCATIONS) == "azure2019"
    assert len(series) == 4
    assert [s.memory_mb for s in series] == [120, 176, 170, 112]
    assert [s.extra["trigger"] for s in series] == ["queue", "queue", "queue", "timer"]
    for s in series:
        assert (len(s.counts), s.step_s, s.start) == (1440, 60, DAY1)
        assert set(s.counts) <= {0.0, 5.0}  # a format sample, not traffic
        assert "treated as day 1" in s.extra["day_note"]
        assert s.extra["memory_scope"] == "function"
        assert len(s.name) == 64
        assert s.filled == ()


def test_azure2019_days_concatenate_in_day_order(tmp_path: Path) -> None:
    day2 = _azure2019(tmp_path, "inv.anon.d02.csv", _azure2019_row("f1", {1: "7"}))
    day1 = _azure2019(
        tmp_path,
        "inv.anon.d01.csv",
        _azure2019_row("f1", {1: "3", 1440: "4"}),
        _azure2019_row("f2", {2: "9"}),
    )
    memory = _write(
        tmp_path,
        "mem.csv",
        "HashOwner,HashApp,SampleCount,AverageAllocatedMb\nowner1,app1,10,255.6\n",
    )
    f1, f2 = load_trace([day2, day1], memory=memory)
    assert len(f1.counts) == 2880
    assert (f1.counts[0], f1.counts[1439], f1.counts[1440]) == (3.0, 4.0, 7.0)
    assert f1.extra["days"] == "1,2"
    assert (f1.memory_mb, f1.extra["memory_scope"]) == (256, "app")
    assert "day_note" not in f1.extra
    # f2 has no row on day 2: zeros, but reported.
    assert f2.counts[1] == 9.0
    assert f2.filled == tuple(range(1440, 2880))
    assert "day(s) [2]: treated as 0 invocations" in f2.fill_note
    with pytest.raises(TrafficDataError, match="no row in this day file"):
        load_azure2019([day1, day2], fill="error")


def test_azure2019_missing_or_repeated_days(tmp_path: Path) -> None:
    day1 = _azure2019(tmp_path, "inv.d01.csv", _azure2019_row("f1", {}))
    day3 = _azure2019(tmp_path, "inv.d03.csv", _azure2019_row("f1", {}))
    with pytest.raises(TrafficDataError, match=r"day\(s\) \[2\] missing"):
        load_azure2019([day1, day3])
    with pytest.raises(TrafficDataError, match="day 1 given twice"):
        load_azure2019([day1, day1])


def test_azure2019_empty_cell_is_interpolated(tmp_path: Path) -> None:
    path = _azure2019(tmp_path, "inv.d01.csv", _azure2019_row("f1", {10: "2", 11: "", 12: "4"}))
    (series,) = load_azure2019(path)
    assert series.counts[10] == 3.0
    assert series.filled == (10,)
    assert "1 empty cells" in series.fill_note
    with _raises_at(path, 2):
        load_azure2019(path, fill="error")


# --- gaps in the Huawei format ------------------------------------------------


def test_huawei_missing_rows_are_interpolated_and_reported(tmp_path: Path) -> None:
    path = _huawei(
        tmp_path,
        "2016-07-01 00:00:00,10.0,1.0",
        "2016-07-01 00:05:00,20.0,1.0",
        "2016-07-01 00:20:00,50.0,4.0",  # 00:10 and 00:15 are missing
    )
    first, second = load_huawei(path)
    assert first.counts == (10.0, 20.0, 30.0, 40.0, 50.0)
    assert second.counts == (1.0, 1.0, 2.0, 3.0, 4.0)
    assert first.filled == second.filled == (2, 3)
    assert "2 of 5 bins had no data (2 missing 5-minute rows)" in first.fill_note
    assert "linear interpolation" in first.fill_note
    with pytest.raises(TrafficDataError, match="2 5-minute row") as raised:
        load_huawei(path, fill="error")
    assert (raised.value.source, raised.value.line) == (str(path), 4)


def test_huawei_empty_cells_are_gaps_not_zeros(tmp_path: Path) -> None:
    path = _huawei(
        tmp_path,
        "2016-07-01 00:00:00,,1.0",
        "2016-07-01 00:05:00,6.0,",
        "2016-07-01 00:10:00,8.0,3.0",
    )
    first, second = load_trace(path)
    assert first.counts == (6.0, 6.0, 8.0)  # the edge holds the nearest value
    assert first.filled == (0,)
    assert second.counts == (1.0, 2.0, 3.0)
    assert second.filled == (1,)
    assert "1 empty cells" in second.fill_note
    with _raises_at(path, 2):
        load_trace(path, fill="error")


def test_huawei_column_without_data_is_refused(tmp_path: Path) -> None:
    path = _huawei(tmp_path, "2016-07-01 00:00:00,,1.0", "2016-07-01 00:05:00,,2.0")
    with pytest.raises(TrafficDataError, match="has no data at all"):
        load_huawei(path)


# --- malformed input names the file and line ----------------------------------


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["2016-07-01 00:00:00,1.0,2.0", "2016-07-01 00:05:00,x,2.0"], 3, "is not a number"),
        (["2016-07-01 00:00:00,1.0,-2.0"], 2, "is negative"),
        (["2016-07-01 00:00:00,1.0,nan"], 2, "is not finite"),
        (["2016-07-01 00:00:00,1.0,2.0", "2016-07-01 00:05:00,1.0"], 3, "expected 3 fields"),
        (["2016-07-01 00:00:00,1.0,2.0", "2016-07-01 00:00:00,1.0,2.0"], 3, "duplicated"),
        (["2016-07-01 00:05:00,1.0,2.0", "2016-07-01 00:00:00,1.0,2.0"], 3, "out of order"),
        (["2016-07-01 00:00:00,1.0,2.0", "2016-07-01 00:07:00,1.0,2.0"], 3, "off the 5-minute"),
        (["yesterday,1.0,2.0"], 2, "is not a timestamp"),
        (["2016-07-01 00:00:00,1.0,2.0", "", "2016-07-01 00:05:00,1.0,2.0"], 3, "blank line"),
    ],
)
def test_huawei_malformed_rows(tmp_path: Path, rows: list[str], line: int, message: str) -> None:
    path = _huawei(tmp_path, *rows)
    with pytest.raises(TrafficDataError, match=message) as raised:
        load_trace(path)
    assert (raised.value.source, raised.value.line) == (str(path), line)
    assert str(raised.value).startswith(f"{path}:{line}: ")


def test_huawei_trailing_blank_lines_are_fine(tmp_path: Path) -> None:
    path = _huawei(tmp_path, "2016-07-01 00:00:00,1.0,2.0", "", "")
    assert [s.counts for s in load_huawei(path)] == [(1.0,), (2.0,)]


def test_azure2019_malformed(tmp_path: Path) -> None:
    path = _azure2019(
        tmp_path, "inv.d01.csv", _azure2019_row("f1", {}), _azure2019_row("f2", {700: "two"})
    )
    with _raises_at(path, 3, "minute 700"):
        load_trace(path)
    path = _azure2019(tmp_path, "dup.d01.csv", _azure2019_row("f1", {}), _azure2019_row("f1", {}))
    with _raises_at(path, 3):
        load_trace(path)
    short = _write(tmp_path, "short.d01.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\n")
    with _raises_at(short, 1):
        load_trace(short)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,f,12.5,x", "duration: 'x' is not a number"),
        ("a,f,12.5,-1", "is negative"),
        ("a,,12.5,1", "empty app or func"),
        ("a,f,12.5", "expected 4 fields"),
        ("a,f,,1", "end_timestamp is empty"),
    ],
)
def test_azure2021_malformed(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, "inv2021.csv", f"app,func,end_timestamp,duration\na,f,1,0.5\n{row}\n")
    with _raises_at(path, 3, message):
        load_trace(path)


# --- Azure 2021 binning --------------------------------------------------------


def test_azure2021_bins_starts_and_keeps_durations(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "inv2021.csv",
        "app,func,end_timestamp,duration\n"
        "a1,f1,125.0,10.0\n"  # starts 115: bin 1 of 60 s
        "a1,f1,61.0,2.0\n"  # starts 59: bin 0 (rows need not be sorted)
        "a1,f1,130.5,0.5\n"  # starts 130: bin 2
        "a2,f1,200.0,0.25\n"  # another app's f1 is another function; starts 199.75: bin 3
        "a1,f1,130.5,0.5\n",  # the same end time twice is two invocations
    )
    assert detect_format(path) == "azure2021"
    f1, other = load_trace(path)
    assert (f1.name, other.name) == ("a1/f1", "a2/f1")
    assert f1.start == other.start == ORIGIN
    assert f1.step_s == 60
    assert f1.counts == (1.0, 1.0, 2.0, 0.0)
    assert other.counts == (0.0, 0.0, 0.0, 1.0)
    assert f1.durations_ms == (10000.0, 2000.0, 500.0, 500.0)
    assert other.durations_ms == (250.0,)
    assert f1.filled == ()
    (coarse, _) = load_azure2021(path, step_s=300, origin=datetime(2024, 1, 1, tzinfo=UTC))
    assert coarse.counts == (4.0,)
    assert coarse.start == datetime(2024, 1, 1, tzinfo=UTC)
    late = _write(tmp_path, "late.csv", "app,func,end_timestamp,duration\na,f,3700,1\n")
    (series,) = load_trace(late, step_s=3600)
    assert series.start == ORIGIN + timedelta(hours=1)


# --- dispatch --------------------------------------------------------------------


def test_unknown_header_names_the_file_and_lists_formats(tmp_path: Path) -> None:
    path = _write(tmp_path, "mystery.csv", "time,requests\n2024-01-01,3\n")
    with _raises_at(path, 1) as raised:
        load_trace(path)
    for name in ("huawei", "azure2019", "azure2021", "app,func,end_timestamp,duration"):
        assert name in str(raised.value)


def test_dispatch_refusals(tmp_path: Path) -> None:
    with pytest.raises(TrafficDataError, match="memory file, not a trace"):
        load_trace(require(AZURE_MEMORY))
    with pytest.raises(TrafficDataError, match="unknown trace format 'parquet'"):
        load_trace(require(HUAWEI), format="parquet")
    with pytest.raises(TrafficDataError, match="unknown fill policy"):
        load_trace(require(HUAWEI), fill="zero")
    with pytest.raises(TrafficDataError, match="only supported for azure2019"):
        load_trace([HUAWEI, HUAWEI])
    with pytest.raises(TrafficDataError, match="different formats"):
        load_trace([AZURE_INVOCATIONS, HUAWEI])
    with pytest.raises(TrafficDataError, match="cannot read"):
        load_trace(tmp_path / "absent.csv")
    forced = _huawei(tmp_path, "2016-07-01 00:00:00,1.0,2.0")
    with _raises_at(forced, 1):
        load_trace(forced, format="azure2021")
