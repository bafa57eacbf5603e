"""Load a trace file into :class:`TrafficSeries`, whatever its format.

::

    from coldbrew.capacity.traces import load_trace

    series = load_trace("huawei_region4_5min.csv")            # format from the header
    series = load_trace(["inv.d01.csv", "inv.d02.csv"],         # Azure 2019 days, in order
                        memory="app_memory_percentiles.anon.d01.csv")
    series = load_trace("invocations_2021.txt", step_s=300)     # Azure 2021, 5-minute bins

Formats (:data:`FORMATS`), each in its own module:

- ``"huawei"``: :mod:`coldbrew.capacity.huawei`, 5-minute counts per function column.
- ``"azure2019"``: :mod:`coldbrew.capacity.azure2019`, per-minute counts, one file per day.
- ``"azure2021"``: :mod:`coldbrew.capacity.azure2021`, one row per invocation.

Every parser raises :class:`~coldbrew.errors.TrafficDataError` naming the
file and 1-based line for malformed data, and fills gaps only by the ``fill``
policy (``"interpolate"`` or ``"error"``), reporting them in
``TrafficSeries.filled`` and ``fill_note``: malformed data never becomes a
silent zero.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from coldbrew.capacity.azure2019 import (
    DAY1,
    is_azure2019_header,
    is_azure2019_memory_header,
    load_azure2019,
)
from coldbrew.capacity.azure2021 import ORIGIN, is_azure2021_header, load_azure2021
from coldbrew.capacity.huawei import is_huawei_header, load_huawei
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.trace_csv import StrPath, read_header
from coldbrew.errors import TrafficDataError

#: Format name -> the header that identifies it.
FORMATS: dict[str, str] = {
    "huawei": "date,<function>---<user>---pool<id>-<timeout s>-<memory MB>,...",
    "azure2019": "HashOwner,HashApp,HashFunction,Trigger,1,...,1440",
    "azure2021": "app,func,end_timestamp,duration",
}


def _formats_listed() -> str:
    return "; ".join(f"{name}: {header}" for name, header in FORMATS.items())


def detect_format(path: StrPath) -> str:
    """The name of the format whose header ``path`` starts with."""
    header = read_header(path)
    if is_huawei_header(header):
        return "huawei"
    if is_azure2019_header(header):
        return "azure2019"
    if is_azure2021_header(header):
        return "azure2021"
    if is_azure2019_memory_header(header):
        raise TrafficDataError(
            "this is an Azure 2019 memory file, not a trace: pass it as memory= "
            "beside the invocation files",
            source=str(path),
            line=1,
        )
    shown = ",".join(header[:6]) + (",..." if len(header) > 6 else "")
    raise TrafficDataError(
        f"unknown trace format (header {shown!r}); known formats: {_formats_listed()}",
        source=str(path),
        line=1,
    )


def load_trace(
    path: StrPath | Sequence[StrPath],
    *,
    format: str = "auto",
    fill: str = "interpolate",
    step_s: int = 60,
    memory: StrPath | None = None,
    origin: datetime | None = None,
) -> list[TrafficSeries]:
    """Every function's series in a trace file (or Azure 2019 day files).

    ``format`` is ``"auto"`` (from the header) or a name in :data:`FORMATS`.
    ``step_s`` is the bin width for Azure 2021 only (the other formats have
    fixed bins); ``memory`` is the Azure 2019 memory file; ``origin`` is the
    time of day 1 (Azure 2019) or of timestamp 0 (Azure 2021).
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths:
        raise TrafficDataError("no trace file given")
    if format != "auto" and format not in FORMATS:
        raise TrafficDataError(f"unknown trace format {format!r}; known: {_formats_listed()}")
    kinds = {str(p): detect_format(p) if format == "auto" else format for p in paths}
    kind = kinds[str(paths[0])]
    if any(other != kind for other in kinds.values()):
        raise TrafficDataError(f"the files are of different formats: {kinds}")
    if len(paths) > 1 and kind != "azure2019":
        raise TrafficDataError(
            f"several files are only supported for azure2019 day files, not {kind}"
        )
    if memory is not None and kind != "azure2019":
        raise TrafficDataError(f"memory= applies to azure2019 only, not {kind}")
    if kind == "huawei":
        return load_huawei(paths[0], fill=fill)
    if kind == "azure2019":
        return load_azure2019(paths, memory=memory, fill=fill, day1=origin or DAY1)
    return load_azure2021(paths[0], step_s=step_s, origin=origin or ORIGIN)
