"""Vectorised helpers the simulator counts requests in flight and peaks with.

Arrays of request start and end times (seconds), and integer segment ids
(minutes, seconds) that group them; every function is O(n) or O(n log n).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def sorted_ends(values: FloatArray) -> FloatArray:
    """Sort end times: nearly sorted already (arrival order), where a stable sort is ~3x faster."""
    return np.sort(values, kind="stable")


def in_flight(count_before: IntArray, ends_sorted: FloatArray, at: FloatArray) -> IntArray:
    """Requests started before each instant (``count_before``) minus those ended by it."""
    return count_before - np.searchsorted(ends_sorted, at, side="right")


def segment_starts(segments: IntArray) -> IntArray:
    """Where each run of equal values in ``segments`` begins."""
    return np.flatnonzero(np.r_[True, segments[1:] != segments[:-1]])


def raise_to_segment_max(target: IntArray, segments: IntArray, values: IntArray) -> None:
    """``target[s] = max(target[s], max(values where segments == s))``; segments sorted."""
    if len(values):
        starts = segment_starts(segments)
        at = segments[starts]
        target[at] = np.maximum(target[at], np.maximum.reduceat(values, starts))


def earlier_in_segment_max(segments: IntArray, values: IntArray) -> IntArray:
    """Max of the earlier values in the same segment (0 for the first); values >= 0."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    # Offsetting each segment above the previous ones turns one running max into per-segment ones.
    big = int(values.max()) + 1
    inclusive = np.maximum.accumulate(segments * big + values) - segments * big
    earlier = np.concatenate([np.zeros(1, dtype=np.int64), inclusive[:-1]])
    earlier[segment_starts(segments)] = 0
    return earlier


def sliding_max(values: IntArray, width: int) -> IntArray:
    """Max of each window of ``width`` consecutive values (van Herk / Gil-Werman, O(n))."""
    count = len(values) - width + 1
    padded = np.concatenate([values, np.zeros((-len(values)) % width, dtype=values.dtype)])
    rows = padded.reshape(-1, width)
    forward = np.maximum.accumulate(rows, axis=1).ravel()
    backward = np.maximum.accumulate(rows[:, ::-1], axis=1)[:, ::-1].ravel()
    index = np.arange(count)
    return np.maximum(backward[index], forward[index + width - 1])
