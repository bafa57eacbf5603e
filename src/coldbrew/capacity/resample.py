"""Coarser bins: sum a :class:`TrafficSeries` into the schedule's block size."""

from __future__ import annotations

from dataclasses import replace

from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ConfigurationError


def aggregate(series: TrafficSeries, block_s: int) -> TrafficSeries:
    """Counts per ``block_s`` block: each block sums the bins that start in it.

    Blocks start at ``series.start``; a trailing partial block is dropped (its
    sum would read as a traffic drop). A block is marked filled if any of its
    bins was. ``block_s`` must be a whole multiple of the series' bin width.
    """
    if block_s == series.step_s:
        return series
    if block_s < series.step_s or block_s % series.step_s:
        raise ConfigurationError(
            f"{series.name}: block of {block_s} s is not a multiple of the {series.step_s} s bins"
        )
    k = block_s // series.step_s
    blocks = len(series.counts) // k
    counts = tuple(float(sum(series.counts[b * k : (b + 1) * k])) for b in range(blocks))
    filled = tuple(sorted({i // k for i in series.filled if i // k < blocks}))
    return replace(series, step_s=block_s, counts=counts, filled=filled)
