"""The requests a replay makes: each bin's count at random times, with durations.

Seeded per block (an hour), so every policy replays exactly the same requests
for a given seed, and a block can be regenerated without the ones before it.

A block's requests are held in memory while it is replayed (about
``REPLAY_BYTES_PER_REQUEST`` each at the peak, measured), so a trace whose
busiest block has more than ``MAX_BLOCK_REQUESTS`` is refused before anything
is allocated, with the figures, rather than running out of memory.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from coldbrew.capacity.policies import MINUTE_S
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ConfigurationError

FloatArray = npt.NDArray[np.float64]

DEFAULT_MEDIAN_MS = 100.0
DEFAULT_SIGMA = 0.5
#: Arrivals are generated (and seeded) one block of this many seconds at a time.
BLOCK_S = 3600
MIN_DURATION_S = 0.001
#: Peak bytes per request of a block being replayed (measured: about 125 at 1.2 million).
REPLAY_BYTES_PER_REQUEST = 160
#: The most requests one block may hold: about 320 MB at the peak.
MAX_BLOCK_REQUESTS = 2_000_000


def check_replayable(series: TrafficSeries, *, limit: int = MAX_BLOCK_REQUESTS) -> None:
    """Refuse, before allocating, a series whose busiest block holds more than ``limit`` requests.

    Counts are summed as floats, so a count too large for an integer is refused
    here too instead of wrapping around.
    """
    if not series.counts or series.step_s <= 0:
        return
    counts = np.rint(np.asarray(series.counts, dtype=np.float64))
    per_block = max(1, BLOCK_S // series.step_s)
    totals = np.add.reduceat(counts, np.arange(0, len(counts), per_block))
    busiest = int(np.argmax(totals))
    if totals[busiest] > limit:
        when = series.start + timedelta(seconds=busiest * per_block * series.step_s)
        memory_mb = limit * REPLAY_BYTES_PER_REQUEST / 1e6
        raise ConfigurationError(
            f"{series.name}: the replay holds one block ({per_block * series.step_s // 60} "
            f"minutes) of requests in memory, and the busiest, from {when:%Y-%m-%d %H:%M} UTC, "
            f"has {totals[busiest]:,.0f}: over the limit of {limit:,} (about {memory_mb:,.0f} MB);"
            " replay other functions (--function) or scale the trace's counts down"
        )


class Arrivals:
    """Arrival times and durations (s from the series start), one seeded block at a time."""

    def __init__(self, series: TrafficSeries, seed: int, median_s: float, sigma: float) -> None:
        if series.step_s % MINUTE_S and MINUTE_S % series.step_s:
            raise ConfigurationError(
                f"{series.name}: bins of {series.step_s} s do not line up with minutes"
            )
        check_replayable(series)
        self.counts = np.rint(np.asarray(series.counts, dtype=np.float64)).astype(np.int64)
        self.step_s = series.step_s
        self.bins_per_block = max(1, BLOCK_S // series.step_s)
        self.block_s = self.bins_per_block * series.step_s
        self.horizon_s = len(self.counts) * series.step_s
        self.seed, self.median_s, self.sigma = seed, median_s, sigma
        self.samples = (
            None
            if not series.durations_ms
            else np.asarray(series.durations_ms, dtype=np.float64) / 1000.0
        )
        self._cached: tuple[int, FloatArray, FloatArray] | None = None

    def block(self, index: int) -> tuple[FloatArray, FloatArray]:
        """Arrivals (sorted) and durations of block ``index``."""
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1], self._cached[2]
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(index,)))
        first = index * self.bins_per_block
        counts = self.counts[first : first + self.bins_per_block]
        starts = (first + np.arange(len(counts), dtype=np.float64)) * self.step_s
        times = np.repeat(starts, counts) + rng.random(int(counts.sum())) * self.step_s
        times.sort()
        if self.samples is not None:
            durations = rng.choice(self.samples, size=len(times))
        else:
            durations = rng.lognormal(math.log(self.median_s), self.sigma, size=len(times))
        durations = np.maximum(durations, MIN_DURATION_S)
        self._cached = (index, times, durations)
        return times, durations

    def between(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        """Arrivals in ``[t0, t1)``, which must lie within one block."""
        times, durations = self.block(int(t0 // self.block_s))
        lo, hi = np.searchsorted(times, [t0, t1], side="left")
        return times[lo:hi], durations[lo:hi]


def replayed_requests(
    series: TrafficSeries,
    *,
    seed: int = 0,
    median_ms: float = DEFAULT_MEDIAN_MS,
    sigma: float = DEFAULT_SIGMA,
) -> tuple[FloatArray, FloatArray]:
    """The arrival times (s from the series start, sorted) and durations (s) a replay uses."""
    arrivals = Arrivals(series, seed, median_ms / 1000.0, sigma)
    blocks = [arrivals.block(i) for i in range(math.ceil(arrivals.horizon_s / arrivals.block_s))]
    return (
        np.concatenate([np.zeros(0)] + [b[0] for b in blocks]),
        np.concatenate([np.zeros(0)] + [b[1] for b in blocks]),
    )
