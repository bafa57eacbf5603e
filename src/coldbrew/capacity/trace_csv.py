"""Reading trace CSV files strictly: line numbers, field counts, numbers.

Every trace parser reads through here so that the same rules hold for all of
them: a row with the wrong number of fields, a non-numeric, non-finite or
negative number is a :class:`TrafficDataError` naming the file and the
1-based line an editor shows. An empty cell is returned as ``None`` (a gap
for the caller's fill policy), never as 0.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from pathlib import Path

from coldbrew.errors import TrafficDataError

#: A file path as callers pass it.
StrPath = str | os.PathLike[str]


def read_header(path: StrPath) -> list[str]:
    """The first row of ``path`` (a BOM and surrounding blanks stripped)."""
    source = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TrafficDataError(f"cannot read the header: {exc}", source=source, line=1) from exc
    return [name.strip() for name in header]


def read_rows(path: StrPath, width: int) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` for each data row after the header, each ``width`` wide.

    Blank lines at the end of the file are ignored; a blank line followed by
    more data is a malformed row, since a reader cannot tell a lost row from
    a stray newline.
    """
    source = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            blank: int | None = None
            for fields in reader:
                line = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    blank = line if blank is None else blank
                    continue
                if blank is not None:
                    raise TrafficDataError("blank line inside the data", source=source, line=blank)
                if len(fields) != width:
                    raise TrafficDataError(
                        f"expected {width} fields as in the header, found {len(fields)}",
                        source=source,
                        line=line,
                    )
                yield line, fields
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TrafficDataError(f"cannot read the file: {exc}", source=source) from exc


def parse_number(text: str, *, what: str, source: str, line: int) -> float | None:
    """A finite, non-negative number; ``None`` for an empty cell (a gap).

    NaN and infinities are refused rather than treated as gaps: only an empty
    cell means "no data", so a typo cannot pass for one.
    """
    stripped = text.strip()
    if not stripped:
        return None
    try:
        value = float(stripped)
    except ValueError:
        raise TrafficDataError(
            f"{what}: {stripped!r} is not a number", source=source, line=line
        ) from None
    if not math.isfinite(value):
        raise TrafficDataError(f"{what}: {stripped!r} is not finite", source=source, line=line)
    if value < 0:
        raise TrafficDataError(f"{what}: {stripped} is negative", source=source, line=line)
    return value


def require_number(text: str, *, what: str, source: str, line: int) -> float:
    """Like :func:`parse_number`, but an empty cell is an error too."""
    value = parse_number(text, what=what, source=source, line=line)
    if value is None:
        raise TrafficDataError(f"{what} is empty", source=source, line=line)
    return value
