"""The Huawei Cloud 5-minute trace: one column per function, one row per bin.

Format (``huawei_region4_5min.csv``)::

    date,296---224---pool22-300-128,415---224---pool22-300-128,...
    2016-07-01 00:00:00,10949.0,520.0,...

The ``date`` column holds naive timestamps, read as UTC. Each function column
is named ``<function>---<user>---pool<id>-<timeout s>-<memory MB>`` and holds
the request count per 5-minute bin. :func:`load_huawei` returns one
:class:`TrafficSeries` per column (``step_s=300``), named after the column,
with ``memory_mb``/``timeout_s`` from the name and ``function``, ``user`` and
``pool`` in ``extra``.

Rows must move forward in time on the 5-minute grid: a timestamp equal to or
before the previous one, or off the grid, is an error. A jump of more than one
bin is a gap (missing rows), as is an empty cell; both are filled under the
``fill`` policy (:mod:`coldbrew.capacity.gaps`) and reported.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from coldbrew.capacity.gaps import FillPolicy, check_policy, fill_note, interpolate
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.trace_csv import StrPath, parse_number, read_header, read_rows
from coldbrew.errors import TrafficDataError

STEP_S = 300

#: ``<function>---<user>---pool<id>-<timeout s>-<memory MB>``
COLUMN = re.compile(
    r"^(?P<function>[^-]+)---(?P<user>[^-]+)---pool(?P<pool>\w+?)-(?P<timeout>\d+)-(?P<memory>\d+)$"
)


def is_huawei_header(header: list[str]) -> bool:
    """Whether ``header`` is ``date`` followed by Huawei function columns."""
    return (
        len(header) >= 2 and header[0] == "date" and all(COLUMN.match(name) for name in header[1:])
    )


def _timestamp(text: str, *, source: str, line: int) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TrafficDataError(
            f"date: {text!r} is not a timestamp", source=source, line=line
        ) from None
    # The republished trace has naive timestamps; they are read as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def load_huawei(path: StrPath, *, fill: str = "interpolate") -> list[TrafficSeries]:
    """One series per function column of a Huawei 5-minute trace file."""
    policy: FillPolicy = check_policy(fill)
    source = str(path)
    header = read_header(path)
    if not is_huawei_header(header):
        raise TrafficDataError(
            "not a Huawei 5-minute trace: expected 'date' then columns named "
            "<function>---<user>---pool<id>-<timeout s>-<memory MB>",
            source=source,
            line=1,
        )
    names = header[1:]
    columns: list[list[float | None]] = [[] for _ in names]
    empty_cells = [0] * len(names)
    missing_rows = 0
    start: datetime | None = None
    previous: datetime | None = None
    for line, fields in read_rows(path, len(header)):
        moment = _timestamp(fields[0], source=source, line=line)
        if previous is None:
            start = moment
        else:
            step = (moment - previous).total_seconds()
            if step <= 0:
                what = "duplicated" if step == 0 else "out of order"
                raise TrafficDataError(
                    f"timestamp {moment:%Y-%m-%d %H:%M:%S} is {what} "
                    f"(previous row: {previous:%Y-%m-%d %H:%M:%S})",
                    source=source,
                    line=line,
                )
            if step % STEP_S:
                raise TrafficDataError(
                    f"timestamp {moment:%Y-%m-%d %H:%M:%S} is off the 5-minute grid "
                    f"({step:g} s after the previous row)",
                    source=source,
                    line=line,
                )
            gap = int(step // STEP_S) - 1
            if gap:
                if policy == "error":
                    raise TrafficDataError(
                        f"{gap} 5-minute row(s) missing before {moment:%Y-%m-%d %H:%M:%S}",
                        source=source,
                        line=line,
                    )
                missing_rows += gap
                for column in columns:
                    column.extend([None] * gap)
        previous = moment
        for index, text in enumerate(fields[1:]):
            value = parse_number(text, what=names[index], source=source, line=line)
            if value is None:
                if policy == "error":
                    raise TrafficDataError(f"{names[index]}: empty cell", source=source, line=line)
                empty_cells[index] += 1
            columns[index].append(value)
    if start is None:
        raise TrafficDataError("no data rows after the header", source=source, line=1)
    return [
        _series(name, values, start, missing_rows, empty_cells[index], source)
        for index, (name, values) in enumerate(zip(names, columns, strict=True))
    ]


def _series(
    name: str,
    values: list[float | None],
    start: datetime,
    missing_rows: int,
    empty_cells: int,
    source: str,
) -> TrafficSeries:
    if all(value is None for value in values):
        raise TrafficDataError(f"column {name!r} has no data at all", source=source)
    counts, filled = interpolate(values)
    causes = ", ".join(
        part
        for part in (
            f"{missing_rows} missing 5-minute rows" if missing_rows else "",
            f"{empty_cells} empty cells" if empty_cells else "",
        )
        if part
    )
    match = COLUMN.match(name)
    assert match is not None  # is_huawei_header checked every column name
    return TrafficSeries(
        name=name,
        start=start,
        step_s=STEP_S,
        counts=counts,
        memory_mb=int(match["memory"]),
        timeout_s=int(match["timeout"]),
        filled=filled,
        fill_note=fill_note(len(filled), len(counts), causes),
        source=source,
        extra={
            "format": "huawei",
            "function": match["function"],
            "user": match["user"],
            "pool": match["pool"],
        },
    )
