"""Filling the bins a trace has no data for, and saying so.

A gap (a missing row, an empty cell) is never a silent zero: under the
``"interpolate"`` policy it is filled linearly between the nearest known
neighbours and its index is reported in :attr:`TrafficSeries.filled`; under
``"error"`` the parser raises at the first gap instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from coldbrew.errors import TrafficDataError

#: What a parser does with a bin that has no data.
FillPolicy = Literal["interpolate", "error"]

FILL_POLICIES: tuple[FillPolicy, ...] = ("interpolate", "error")


def check_policy(fill: str) -> FillPolicy:
    """``fill`` if it is a known policy, else a :class:`TrafficDataError`."""
    if fill == "interpolate":
        return "interpolate"
    if fill == "error":
        return "error"
    raise TrafficDataError(f"unknown fill policy {fill!r}; expected one of {FILL_POLICIES}")


def interpolate(values: Sequence[float | None]) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """``(values with gaps filled, indices filled)``.

    Inside the series a gap is the straight line between its known
    neighbours. At either end there is only one neighbour, so the nearest
    known value is held (extrapolating a slope from one side would invent a
    trend). A series with no known value at all cannot be filled: callers
    must refuse it first.
    """
    known = [i for i, value in enumerate(values) if value is not None]
    if not known:
        raise TrafficDataError("no data at all: nothing to interpolate from")
    out = [0.0] * len(values)
    filled: list[int] = []
    previous: int | None = None
    for index in known:
        value = values[index]
        assert value is not None  # known holds only non-None indices
        out[index] = value
        if previous is None:
            for gap in range(index):
                out[gap] = value
                filled.append(gap)
        else:
            low = values[previous]
            assert low is not None
            span = index - previous
            for gap in range(previous + 1, index):
                out[gap] = low + (value - low) * (gap - previous) / span
                filled.append(gap)
        previous = index
    last = values[known[-1]]
    assert last is not None
    for gap in range(known[-1] + 1, len(values)):
        out[gap] = last
        filled.append(gap)
    return tuple(out), tuple(sorted(filled))


def fill_note(filled: int, total: int, causes: str) -> str:
    """The sentence that goes into :attr:`TrafficSeries.fill_note`."""
    if not filled:
        return ""
    return (
        f"{filled} of {total} bins had no data ({causes}) and were filled by linear "
        "interpolation between neighbouring bins (the nearest value at either end)."
    )
