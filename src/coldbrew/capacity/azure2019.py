"""The Azure Functions 2019 trace: per-minute invocation counts, one file per day.

Invocation files (``invocations_per_function_md.anon.dXX.csv``)::

    HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440

one row per function, counts for minutes 1..1440 of the day. Memory files
(``app_memory_percentiles.anon.dXX.csv`` in the real trace, keyed by app;
the example keys them by function too)::

    HashOwner,HashApp[,HashFunction],SampleCount,AverageAllocatedMb,...

:func:`load_azure2019` returns one :class:`TrafficSeries` per function
(``step_s=60``), named by ``HashFunction`` (hashed per app, so unique), with
owner, app and trigger in ``extra``. Several day files are concatenated in
day order; the day comes from the ``dXX`` in the file name. A file name with
no day number (the format example) is day 1, and ``extra["day_note"]`` says
so. The trace publishes no calendar date ("July 2019"), so day 1 starts at
``day1`` (default :data:`DAY1`, a placeholder: weekdays mean nothing).

An empty count cell is a gap, filled by the ``fill`` policy. A function with
no row in one of several day files is assumed not invoked that day (the
trace's description does not say) and gets zeros, reported in ``filled`` and
``fill_note``; under ``fill="error"`` it is an error instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coldbrew.capacity.gaps import check_policy, fill_note, interpolate
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.trace_csv import (
    StrPath,
    parse_number,
    read_header,
    read_rows,
    require_number,
)
from coldbrew.errors import TrafficDataError

MINUTES = 1440
KEY_COLUMNS = ("HashOwner", "HashApp", "HashFunction", "Trigger")
#: Placeholder start of day 1: the trace is from July 2019, with no exact date.
DAY1 = datetime(2019, 7, 1, tzinfo=UTC)

_DAY = re.compile(r"\.d(\d+)\.csv$", re.IGNORECASE)
Key = tuple[str, str, str]


def is_azure2019_header(header: list[str]) -> bool:
    """Whether ``header`` is an Azure 2019 invocation-count header."""
    return tuple(header[:4]) == KEY_COLUMNS and len(header) > 4


def is_azure2019_memory_header(header: list[str]) -> bool:
    """Whether ``header`` is an Azure 2019 memory-percentile header."""
    return header[:2] == ["HashOwner", "HashApp"] and "AverageAllocatedMb" in header


def day_of(path: StrPath) -> int | None:
    """The day number in a ``...dXX.csv`` file name, or None."""
    match = _DAY.search(Path(path).name)
    return int(match[1]) if match else None


@dataclass
class _Function:
    trigger: str
    days: dict[int, list[float | None]]
    empty_cells: int = 0


def load_azure2019(
    paths: StrPath | Sequence[StrPath],
    *,
    memory: StrPath | None = None,
    fill: str = "interpolate",
    day1: datetime = DAY1,
) -> list[TrafficSeries]:
    """One per-minute series per function over the given day files, in day order."""
    policy = check_policy(fill)
    files = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not files:
        raise TrafficDataError("no Azure 2019 invocation files given")
    by_day: dict[int, str] = {}
    notes: list[str] = []
    for path in files:
        day = day_of(path)
        if day is None:
            if len(files) > 1:
                raise TrafficDataError(
                    "several day files given but this name has no day number (...dXX.csv)",
                    source=str(path),
                )
            day = 1
            notes.append(f"{Path(path).name} has no day number (...dXX.csv): treated as day 1")
        if day in by_day:
            raise TrafficDataError(f"day {day} given twice (also {by_day[day]})", source=str(path))
        by_day[day] = str(path)
    days = sorted(by_day)
    missing = sorted(set(range(days[0], days[-1] + 1)) - set(days))
    if missing:
        raise TrafficDataError(f"day files are not consecutive: day(s) {missing} missing")
    functions: dict[Key, _Function] = {}
    for day in days:
        _read_day(by_day[day], day, functions, error_on_gap=policy == "error")
    memories = _read_memory(memory) if memory is not None else {}
    start = day1.astimezone(UTC) + timedelta(days=days[0] - 1)
    result = []
    for (owner, app, function), record in functions.items():
        values: list[float | None] = []
        absent: list[int] = []
        for day in days:
            counts = record.days.get(day)
            if counts is None:
                if policy == "error":
                    raise TrafficDataError(
                        f"function {function} has no row in this day file", source=by_day[day]
                    )
                absent.append(day)
                counts = [0.0] * MINUTES
            values.extend(counts)
        if all(value is None for value in values):
            raise TrafficDataError(f"function {function} has no counts at all")
        counts_out, filled = interpolate(values)
        sentences = [
            fill_note(len(filled), len(values), f"{record.empty_cells} empty cells")
            if filled
            else ""
        ]
        zeroed = [(d - days[0]) * MINUTES + m for d in absent for m in range(MINUTES)]
        if absent:
            sentences.append(
                f"No row in the file(s) for day(s) {absent}: treated as 0 invocations "
                "(assuming a day file lists only the functions invoked that day)."
            )
        extra = {
            "format": "azure2019",
            "owner": owner,
            "app": app,
            "trigger": record.trigger,
            "days": ",".join(map(str, days)),
        }
        if notes:
            extra["day_note"] = "; ".join(notes)
        memory_mb = memories.get((owner, app, function), memories.get((owner, app, "")))
        if memory_mb is not None:
            extra["memory_scope"] = "function" if (owner, app, function) in memories else "app"
        result.append(
            TrafficSeries(
                name=function,
                start=start,
                step_s=60,
                counts=counts_out,
                memory_mb=memory_mb,
                filled=tuple(sorted({*filled, *zeroed})),
                fill_note=" ".join(s for s in sentences if s),
                source=", ".join(by_day[d] for d in days),
                extra=extra,
            )
        )
    return result


def _read_day(path: str, day: int, functions: dict[Key, _Function], *, error_on_gap: bool) -> None:
    header = read_header(path)
    if not is_azure2019_header(header):
        raise TrafficDataError(
            f"not an Azure 2019 invocation file: expected {','.join(KEY_COLUMNS)},1..{MINUTES}",
            source=path,
            line=1,
        )
    if header[4:] != [str(minute) for minute in range(1, MINUTES + 1)]:
        raise TrafficDataError(
            f"the minute columns must be 1..{MINUTES}, in order", source=path, line=1
        )
    seen: set[Key] = set()
    for line, fields in read_rows(path, len(header)):
        key = (fields[0], fields[1], fields[2])
        if not all(key):
            raise TrafficDataError(
                "empty HashOwner, HashApp or HashFunction", source=path, line=line
            )
        if key in seen:
            raise TrafficDataError(f"function {key[2]} appears twice", source=path, line=line)
        seen.add(key)
        record = functions.setdefault(key, _Function(trigger=fields[3], days={}))
        counts: list[float | None] = []
        for minute, text in enumerate(fields[4:], start=1):
            value = parse_number(text, what=f"minute {minute}", source=path, line=line)
            if value is None:
                if error_on_gap:
                    raise TrafficDataError(f"minute {minute}: empty cell", source=path, line=line)
                record.empty_cells += 1
            counts.append(value)
        record.days[day] = counts


def _read_memory(path: StrPath) -> dict[Key, int]:
    """Allocated memory (MB) by (owner, app, function); function "" for per-app rows."""
    source = str(path)
    header = read_header(path)
    if not is_azure2019_memory_header(header):
        raise TrafficDataError(
            "not an Azure 2019 memory file: expected HashOwner,HashApp[,HashFunction],"
            "SampleCount,AverageAllocatedMb,...",
            source=source,
            line=1,
        )
    per_function = len(header) > 2 and header[2] == "HashFunction"
    column = header.index("AverageAllocatedMb")
    memories: dict[Key, int] = {}
    for line, fields in read_rows(path, len(header)):
        key = (fields[0], fields[1], fields[2] if per_function else "")
        if key in memories:
            raise TrafficDataError("memory row appears twice", source=source, line=line)
        mb = require_number(fields[column], what="AverageAllocatedMb", source=source, line=line)
        memories[key] = round(mb)
    return memories
