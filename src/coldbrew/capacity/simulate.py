"""Replay a trace against a provisioned-concurrency policy: cold starts and cost.

::

    from coldbrew.capacity.policies import TargetTracking
    from coldbrew.capacity.simulate import simulate

    report = simulate(series, TargetTracking(), seed=1)
    print(report.cold_starts, report.cost.total_usd, report.to_json())

The model (every number a parameter, every assumption in ``report.assumptions``):

- **Arrivals**: each bin's count (rounded to an integer) becomes exactly that
  many arrivals at uniform random times within the bin (a Poisson process
  conditioned on its count). Randomness comes from ``numpy.random.Generator``
  seeded by ``(seed, hour)``: the same seed gives the same requests to every
  policy (common random numbers), so policies are compared on equal terms.
- **Durations**: sampled from the series' ``durations_ms`` when it has them,
  else lognormal with the given median (default 100 ms, about the MiniLM
  handler's warm duration) and sigma (default 0.5). At least 1 ms.
- **Environments** serve one request at a time. A request goes to a free
  provisioned environment if one is ready; else to an idle on-demand
  environment that is still warm; else it is a **cold start**: a new on-demand
  environment, busy for init (default 300 ms, coldbrew's measured cold start)
  plus the duration. Idle on-demand environments stay warm for ``keep_alive_s``
  (default 600 s: published measurements put Lambda's idle lifetime between
  about 5 and 15 minutes), counted in whole seconds: an environment busy during
  second ``s`` is warm for arrivals up to the end of second ``s + keep_alive_s``.
  A warm request takes the most recently used idle environment (Lambda packs
  work onto few environments and lets the rest expire).

How it is exact without a loop per request. Most requests need no decision:
if fewer requests are in flight than environments are provisioned, a
provisioned environment is surely free. Only the others ("contended") are
routed one by one, in a tight loop over a heap of provisioned end times. On
demand, with most-recently-used reuse, the warm environments at time ``t`` are
exactly as many as the peak on-demand concurrency over the keep-alive window
before ``t``, so a request is cold exactly when on-demand concurrency just
before it equals that windowed peak: per-second peaks and a sliding maximum,
all vectorised. Cold starts lengthen occupancy (init), which changes
concurrency, so each step iterates to the fixed point; decisions are causal,
so it converges (in two or three passes in practice) to the sequential answer.
"""

from __future__ import annotations

import heapq
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from coldbrew.capacity.arrivals import (
    DEFAULT_MEDIAN_MS,
    DEFAULT_SIGMA,
    Arrivals,
)
from coldbrew.capacity.interval_arrays import (
    earlier_in_segment_max,
    in_flight,
    raise_to_segment_max,
    sliding_max,
    sorted_ends,
)
from coldbrew.capacity.policies import MINUTE_S, Observation, Policy, PolicyContext
from coldbrew.capacity.pricing import (
    Cost,
    Usage,
    billed_provisioned_env_seconds,
    cost_of,
    prices_for,
)
from coldbrew.capacity.series import TrafficSeries
from coldbrew.errors import ConfigurationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_INIT_MS = 300.0
DEFAULT_KEEP_ALIVE_S = 600
#: Request latencies are kept in a log histogram with this bin ratio (0.1% resolution).
_LATENCY_RATIO = 1.001
_LATENCY_MIN_MS = 0.01
_LATENCY_BINS = math.ceil(math.log(1e7 / _LATENCY_MIN_MS) / math.log(_LATENCY_RATIO))


@dataclass(frozen=True)
class SimulationReport:
    """What one replay of one function under one policy cost, and how many cold starts."""

    function: str
    policy: str
    seed: int
    start: str
    duration_s: float
    memory_mb: int
    architecture: str
    requests: int
    cold_starts: int
    cold_start_fraction: float
    served_provisioned: int
    served_on_demand_warm: int
    cost: Cost
    #: Ready provisioned environment-seconds, and those busy with a request.
    provisioned_env_s: float
    provisioned_busy_env_s: float
    provisioned_billed_env_s: float
    #: Busy / ready provisioned environment-seconds (NaN when nothing was provisioned).
    provisioned_utilisation: float
    peak_provisioned: int
    #: Sum of the init time cold starts added to request latency.
    cold_start_added_latency_s: float
    #: p99 of request latency (duration, plus init when cold), from a 0.1%-resolution histogram.
    latency_p99_ms: float
    assumptions: tuple[str, ...]

    def to_json(self) -> str:
        """The report as JSON (NaN as null), cost totals included."""
        data: dict[str, Any] = asdict(self)
        data["cost"]["lambda_usd"] = self.cost.lambda_usd
        data["cost"]["total_usd"] = self.cost.total_usd
        data["assumptions"] = list(self.assumptions)
        return json.dumps(_no_nan(data), indent=2, allow_nan=False)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    return value


class _Replay:
    """Environment-pool state carried from step to step, and the running totals."""

    def __init__(self, horizon_s: float, minutes: int, init_s: float, keep_alive_s: int) -> None:
        self.init_s, self.keep_alive_s = init_s, keep_alive_s
        empty = np.zeros(0)
        self.all_ends = empty  # no-init end times of every request in flight: the spill bound
        self.heap: list[float] = []  # end times of provisioned requests in flight
        self.prov_starts, self.prov_ends = empty, empty
        self.od_ends = empty  # on-demand requests in flight, init included
        # Peak on-demand concurrency per second, shifted by the keep-alive so windows never
        # reach below index 0.
        self.od_peak = np.zeros(keep_alive_s + math.ceil(horizon_s) + 1, dtype=np.int64)
        self.prov_busy_s = np.zeros(minutes)
        self.prov_peak = np.zeros(minutes, dtype=np.int64)
        self.requests = self.cold = self.served_prov = 0
        self.prov_exec_s = self.od_exec_s = 0.0
        self.latency_hist = np.zeros(_LATENCY_BINS, dtype=np.int64)

    def step(self, a: FloatArray, d: FloatArray, ready: IntArray, t0: float, t1: float) -> None:
        """Replay the arrivals ``a`` (durations ``d``) of ``[t0, t1)``; t0 on a minute."""
        ends = a + d
        prov = self._route(a, ends, ready[(a // MINUTE_S).astype(np.int64)], t1)
        self._account_provisioned(a[prov], ends[prov], t0, t1)
        cold = self._on_demand(a[~prov], d[~prov], t0, t1)
        latency = np.concatenate([d[prov], d[~prov] + self.init_s * cold])
        self.requests += len(a)
        self.served_prov += int(prov.sum())
        self.cold += int(cold.sum())
        self.prov_exec_s += float(d[prov].sum())
        self.od_exec_s += float(d[~prov].sum()) + self.init_s * int(cold.sum())
        bins = np.log(np.maximum(latency * 1000.0, _LATENCY_MIN_MS) / _LATENCY_MIN_MS)
        index = np.minimum((bins / math.log(_LATENCY_RATIO)).astype(np.int64), _LATENCY_BINS - 1)
        self.latency_hist += np.bincount(index, minlength=_LATENCY_BINS)

    def _route(self, a: FloatArray, ends: FloatArray, level: IntArray, t1: float) -> BoolArray:
        """Which arrivals a provisioned environment serves."""
        carried = len(self.all_ends)
        every_end = sorted_ends(np.concatenate([self.all_ends, ends]))
        # Provisioned requests are a subset of all requests and carry no init: fewer requests
        # in flight than environments ready means a provisioned one is surely free.
        bound = in_flight(carried + np.arange(len(a)), every_end, a)
        sure = bound < level
        prov = sure.copy()
        # With nothing ready the answer is on demand whatever is in flight: no loop needed.
        contended = np.flatnonzero(~sure & (level > 0))
        if len(contended):
            sure_ends = sorted_ends(ends[sure])
            sure_before = np.cumsum(sure, dtype=np.int64)[contended]  # contended ones are not sure
            sure_busy = in_flight(sure_before, sure_ends, a[contended])
            prov[contended] = self._route_contended(
                a[contended], ends[contended], sure_busy, level[contended]
            )
        heap = [end for end in self.heap if end > t1]
        heap.extend(ends[sure & (ends > t1)].tolist())
        heapq.heapify(heap)
        self.heap = heap
        self.all_ends = np.concatenate([self.all_ends[self.all_ends > t1], ends[ends > t1]])
        return prov

    def _route_contended(
        self, a: FloatArray, ends: FloatArray, sure_busy: IntArray, level: IntArray
    ) -> BoolArray:
        """The sequential part: one decision per contended arrival."""
        room = level - sure_busy  # environments the sure requests leave to the contended ones
        served = np.zeros(len(a), dtype=np.bool_)
        # No room left: on demand whatever the heap holds (it is only pruned lazily anyway).
        candidates = np.flatnonzero(room > 0)
        heap, pop, push = self.heap, heapq.heappop, heapq.heappush
        taken: list[int] = []
        for index, at, end, free in zip(
            candidates.tolist(),
            a[candidates].tolist(),
            ends[candidates].tolist(),
            room[candidates].tolist(),
            strict=True,
        ):
            while heap and heap[0] <= at:
                pop(heap)
            if len(heap) < free:
                push(heap, end)
                taken.append(index)
        served[taken] = True
        return served

    def _account_provisioned(self, a: FloatArray, ends: FloatArray, t0: float, t1: float) -> None:
        """Busy provisioned seconds and peak provisioned concurrency per minute."""
        starts = np.concatenate([self.prov_starts, a])
        all_ends = np.concatenate([self.prov_ends, ends])
        ends_sorted = sorted_ends(all_ends)
        first, last = int(t0 // MINUTE_S), math.ceil(t1 / MINUTE_S)
        edges = np.minimum(np.arange(first, last + 1, dtype=np.float64) * MINUTE_S, t1)
        # Busy time up to T: sum of (T - start) over started minus (T - end) over ended.
        n_started = np.searchsorted(starts, edges, side="left")
        n_ended = np.searchsorted(ends_sorted, edges, side="left")
        start_sums = np.r_[0.0, np.cumsum(starts)][n_started]
        end_sums = np.r_[0.0, np.cumsum(ends_sorted)][n_ended]
        busy_to = n_started * edges - start_sums - (n_ended * edges - end_sums)
        self.prov_busy_s[first:last] += np.diff(busy_to)
        peak = in_flight(n_started[:-1], ends_sorted, edges[:-1])
        concurrency = in_flight(len(self.prov_starts) + np.arange(len(a)), ends_sorted, a) + 1
        raise_to_segment_max(peak, (a // MINUTE_S).astype(np.int64) - first, concurrency)
        self.prov_peak[first:last] = np.maximum(self.prov_peak[first:last], peak)
        keep = all_ends > t1
        self.prov_starts, self.prov_ends = starts[keep], all_ends[keep]

    def _on_demand(self, a: FloatArray, d: FloatArray, t0: float, t1: float) -> BoolArray:
        """Which on-demand arrivals are cold starts (fixed point over init occupancy)."""
        k = self.keep_alive_s
        s0, s1 = int(t0), math.ceil(t1)
        seconds = np.arange(s0, s1, dtype=np.float64)
        second = a.astype(np.int64) - s0
        carried = self.od_ends
        before = len(carried) + np.arange(len(a))
        started_by_second = len(carried) + np.searchsorted(a, seconds, side="left")
        cold = np.zeros(len(a), dtype=np.bool_)
        for _ in range(len(a) + 1):  # causal decisions: at most one more settled per pass
            ends = sorted_ends(np.concatenate([carried, a + d + self.init_s * cold]))
            busy = in_flight(before, ends, a)
            at_second_start = in_flight(started_by_second, ends, seconds)
            peak = at_second_start.copy()
            raise_to_segment_max(peak, second, busy + 1)
            self.od_peak[s0 + k : s1 + k] = peak
            earlier_seconds = (
                sliding_max(self.od_peak[s0 : s1 + k - 1], k)
                if k
                else np.zeros(s1 - s0, dtype=np.int64)
            )
            warm = np.maximum(
                np.maximum(earlier_seconds, at_second_start)[second],
                earlier_in_segment_max(second, busy + 1),
            )
            now_cold = busy >= warm
            if np.array_equal(now_cold, cold):
                break
            cold = now_cold
        ends = a + d + self.init_s * cold
        self.od_ends = np.concatenate([carried[carried > t1], ends[ends > t1]])
        return cold

    def latency_quantile_ms(self, q: float) -> float:
        """A latency quantile from the histogram (bin's geometric middle); NaN if empty."""
        total = int(self.latency_hist.sum())
        if not total:
            return math.nan
        rank = max(1, math.ceil(q * total))
        index = int(np.searchsorted(np.cumsum(self.latency_hist), rank))
        return float(_LATENCY_MIN_MS * _LATENCY_RATIO ** (index + 0.5))


def _future_peaks(arrivals: Arrivals, minutes: int) -> IntArray:
    """Peak concurrency per minute if every request had its own environment: the oracle's input."""
    replay = _Replay(arrivals.horizon_s, minutes, 0.0, 0)
    for index in range(math.ceil(arrivals.horizon_s / arrivals.block_s)):
        t0 = index * arrivals.block_s
        a, d = arrivals.block(index)
        replay._account_provisioned(a, a + d, t0, min(t0 + arrivals.block_s, arrivals.horizon_s))
    return replay.prov_peak


def simulate(
    series: TrafficSeries,
    policy: Policy,
    *,
    seed: int = 0,
    median_ms: float = DEFAULT_MEDIAN_MS,
    sigma: float = DEFAULT_SIGMA,
    init_ms: float = DEFAULT_INIT_MS,
    keep_alive_s: int = DEFAULT_KEEP_ALIVE_S,
    memory_mb: int | None = None,
    architecture: str = "x86_64",
    cold_start_cost_usd: float = 0.0,
) -> SimulationReport:
    """Replay ``series`` under ``policy``; deterministic for a given ``seed``.

    ``memory_mb`` overrides the series' own; one of them is required.
    ``median_ms`` and ``sigma`` apply only when the series has no durations.
    """
    memory = memory_mb if memory_mb is not None else series.memory_mb
    if memory is None:
        raise ConfigurationError(f"{series.name}: no memory size; pass memory_mb")
    if median_ms <= 0 or sigma < 0 or init_ms < 0 or keep_alive_s < 0:
        raise ConfigurationError("median_ms must be > 0; sigma, init_ms, keep_alive_s >= 0")
    prices = prices_for(architecture)
    arrivals = Arrivals(series, seed, median_ms / 1000.0, sigma)
    horizon = float(arrivals.horizon_s)
    minutes = math.ceil(horizon / MINUTE_S)
    peaks = _future_peaks(arrivals, minutes) if policy.clairvoyant else None
    run = policy.start(PolicyContext(series.start, minutes, peaks))
    replay = _Replay(horizon, minutes, init_ms / 1000.0, keep_alive_s)
    minute_s = np.minimum(MINUTE_S, horizon - np.arange(minutes) * MINUTE_S)
    billed = np.zeros(minutes, dtype=np.int64)
    ready = np.zeros(minutes, dtype=np.int64)
    minute = 0
    while minute < minutes:
        levels = run.next_levels()
        count = min(len(levels.billed), minutes - minute)
        billed[minute : minute + count] = levels.billed[:count]
        ready[minute : minute + count] = levels.ready[:count]
        t0, end = float(minute * MINUTE_S), min((minute + count) * MINUTE_S, horizon)
        while t0 < end:
            t1 = min(end, (t0 // arrivals.block_s + 1) * arrivals.block_s)
            a, d = arrivals.between(t0, t1)
            replay.step(a, d, ready, t0, t1)
            t0 = t1
        span = slice(minute, minute + count)
        capacity = ready[span] * minute_s[span]
        with np.errstate(divide="ignore", invalid="ignore"):
            average = np.where(capacity > 0, replay.prov_busy_s[span] / capacity, math.nan)
            maximum = np.where(ready[span] > 0, replay.prov_peak[span] / ready[span], math.nan)
        run.observe(Observation(average=average, maximum=maximum))
        minute += count

    prov_env_s = float((ready * minute_s).sum())
    prov_busy_s = float(replay.prov_busy_s.sum())
    usage = Usage(
        requests=replay.requests,
        cold_starts=replay.cold,
        provisioned_billed_env_s=billed_provisioned_env_seconds(
            billed.tolist(), period_s=MINUTE_S, horizon_s=horizon
        ),
        provisioned_execution_s=replay.prov_exec_s,
        on_demand_execution_s=replay.od_exec_s,
    )
    durations = (
        f"durations sampled from the series' {len(series.durations_ms)} measured durations"
        if series.durations_ms
        else f"durations lognormal, median {median_ms:g} ms, sigma {sigma:g} (assumed)"
    )
    return SimulationReport(
        function=series.name,
        policy=policy.name,
        seed=seed,
        start=series.start.isoformat(),
        duration_s=horizon,
        memory_mb=memory,
        architecture=architecture,
        requests=replay.requests,
        cold_starts=replay.cold,
        cold_start_fraction=replay.cold / replay.requests if replay.requests else 0.0,
        served_provisioned=replay.served_prov,
        served_on_demand_warm=replay.requests - replay.served_prov - replay.cold,
        cost=cost_of(
            usage, memory_mb=memory, prices=prices, cold_start_cost_usd=cold_start_cost_usd
        ),
        provisioned_env_s=prov_env_s,
        provisioned_busy_env_s=prov_busy_s,
        provisioned_billed_env_s=usage.provisioned_billed_env_s,
        provisioned_utilisation=prov_busy_s / prov_env_s if prov_env_s else math.nan,
        peak_provisioned=int(ready.max()) if minutes else 0,
        cold_start_added_latency_s=replay.cold * init_ms / 1000.0,
        latency_p99_ms=replay.latency_quantile_ms(0.99),
        assumptions=(
            "arrivals: each bin's count (rounded) at uniform random times within the bin",
            durations,
            f"cold start adds {init_ms:g} ms init to latency and occupancy (coldbrew's measured)",
            f"idle on-demand environments stay warm {keep_alive_s} s (whole seconds); "
            "published measurements: about 5 to 15 minutes",
            "one request per environment; provisioned first, then the most recently used "
            "warm on-demand environment, else a cold start",
            f"us-east-1 {architecture} list prices; provisioned billed per unit, rounded up to "
            "5 minutes; on-demand bills init; no free tier or volume tiers",
            f"cold-start penalty ${cold_start_cost_usd:g} per cold start",
            f"policy {policy.name}: {policy.assumptions}",
        ),
    )
