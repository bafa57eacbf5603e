"""The Azure Functions 2021 trace: one row per invocation.

Format (``AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt``)::

    app,func,end_timestamp,duration

with ``end_timestamp`` and ``duration`` in seconds. :func:`load_azure2021`
bins each invocation by its start (``end_timestamp - duration``) into counts
of ``step_s`` seconds (default 60) and keeps every duration, in file order,
in ``durations_ms``. One :class:`TrafficSeries` per ``(app, func)`` (``func``
is unique only within its app), named ``app/func``. All series share one
grid, from the earliest start in the file to the latest, so they line up.

Timestamps count seconds from ``origin`` (default :data:`ORIGIN`, the start
of the trace's two weeks; the published timestamps are shifted, so the
calendar date is indicative only).

Per-invocation rows have no gaps: a bin with no invocation starting in it is
a real zero. Rows need not be sorted and equal timestamps are allowed, since
two invocations can end together and binning does not depend on row order.
Any malformed row (wrong field count, empty or non-numeric field, negative
timestamp or duration) is a :class:`TrafficDataError` with its line.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.trace_csv import StrPath, read_header, read_rows, require_number
from coldbrew.errors import TrafficDataError

HEADER = ["app", "func", "end_timestamp", "duration"]
#: Timestamp 0: the trace covers two weeks starting on 2021-01-31.
ORIGIN = datetime(2021, 1, 31, tzinfo=UTC)


def is_azure2021_header(header: list[str]) -> bool:
    """Whether ``header`` is the Azure 2021 per-invocation header."""
    return header == HEADER


def load_azure2021(
    path: StrPath, *, step_s: int = 60, origin: datetime = ORIGIN
) -> list[TrafficSeries]:
    """Per-invocation rows binned by start time into one series per function."""
    source = str(path)
    if step_s <= 0:
        raise TrafficDataError(f"bin width must be a positive number of seconds, got {step_s}")
    header = read_header(path)
    if not is_azure2021_header(header):
        raise TrafficDataError(
            f"not an Azure 2021 trace: expected the header {','.join(HEADER)}",
            source=source,
            line=1,
        )
    starts: dict[tuple[str, str], list[float]] = {}
    durations: dict[tuple[str, str], list[float]] = {}
    for line, fields in read_rows(path, len(HEADER)):
        app, func = fields[0].strip(), fields[1].strip()
        if not app or not func:
            raise TrafficDataError("empty app or func", source=source, line=line)
        end = require_number(fields[2], what="end_timestamp", source=source, line=line)
        duration = require_number(fields[3], what="duration", source=source, line=line)
        starts.setdefault((app, func), []).append(end - duration)
        durations.setdefault((app, func), []).append(duration * 1000.0)
    if not starts:
        raise TrafficDataError("no invocations after the header", source=source, line=1)
    first = math.floor(min(min(s) for s in starts.values()) / step_s)
    last = math.floor(max(max(s) for s in starts.values()) / step_s)
    start = origin.astimezone(UTC) + timedelta(seconds=first * step_s)
    series = []
    for (app, func), moments in starts.items():
        counts = [0.0] * (last - first + 1)
        for moment in moments:
            counts[math.floor(moment / step_s) - first] += 1
        series.append(
            TrafficSeries(
                name=f"{app}/{func}",
                start=start,
                step_s=step_s,
                counts=tuple(counts),
                durations_ms=tuple(durations[(app, func)]),
                source=source,
                extra={"format": "azure2021", "app": app, "func": func},
            )
        )
    return series
