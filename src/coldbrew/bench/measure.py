"""Measuring running variants over HTTP: cold starts, warm latency, throughput.

Noise is the enemy on a 2-core machine, so drift must hit every variant
alike: cold starts go round-robin across variants (one fresh sandbox each,
the order rotated every round), warm requests alternate between variants
request by request, and throughput runs in two slices, the second in
reverse order. Every text is unique per variant, so the function's
embedding cache never answers.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from coldbrew.bench.fronts import Front, send
from coldbrew.bench.page_cache import PageCache
from coldbrew.bench.results import ColdSample, Throughput, VariantResult
from coldbrew.emulate.probe import FunctionUrlClient, Reply

SENTENCES = (
    "A cold brew is coffee steeped in cold water for many hours.",
    "The function scaled to zero and started again on the next request.",
    "Quantized weights trade a little accuracy for a much smaller model.",
    "Every request in this benchmark carries a sentence nobody has sent before.",
    "Lambda bills init time, so a slow import costs money as well as latency.",
    "Small artifacts unpack faster and leave more of the page cache for data.",
)
THROUGHPUT_SLICES = 2


class Progress(Protocol):
    """Where measurement progress goes (a Rich progress bar, or nothing)."""

    def phase(self, description: str, total: int) -> None:
        """A new phase of ``total`` steps begins."""

    def advance(self) -> None:
        """One step of the current phase is done."""


class NullProgress:
    """Progress that goes nowhere."""

    def phase(self, description: str, total: int) -> None:
        """Ignore the phase."""

    def advance(self) -> None:
        """Ignore the step."""


@dataclass
class Running:
    """A variant being served: its front, a kept-alive client, its results."""

    result: VariantResult
    front: Front
    client: FunctionUrlClient
    timeout_s: float = 120.0
    #: The variant's last log lines (sandbox output, REPORT lines), to explain failures.
    log_tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=40))

    @property
    def label(self) -> str:
        """The variant's column heading."""
        return self.result.variant.label


def text(tag: str, n: int) -> str:
    """A sentence unique to (``tag``, ``n``) and of similar length for every n."""
    return f"{SENTENCES[n % len(SENTENCES)]} ({tag} {n})"


def rotated(count: int, round_index: int) -> list[int]:
    """The order of ``count`` variants in round ``round_index``: rotated by one each round."""
    if count == 0:
        return []
    start = round_index % count
    return [*range(start, count), *range(start)]


def measure_cold(
    runs: Sequence[Running], rounds: int, page_cache: PageCache, progress: Progress
) -> None:
    """``rounds`` cold starts per variant, interleaved; each on a fresh sandbox."""
    progress.phase(f"cold starts ({rounds} rounds x {len(runs)} variants)", rounds * len(runs))
    for round_index in range(rounds):
        for position, index in enumerate(rotated(len(runs), round_index)):
            run = runs[index]
            run.front.retire()  # the next request must start an instance
            dropped = page_cache.drop()
            reply, answer = run.front.cold_request(run.client, [text("cold", round_index)])
            sample = ColdSample(
                round=round_index,
                position=position,
                status=reply.status,
                cold=answer.cold,
                latency_ms=reply.latency_ms,
                init_ms=answer.init_ms,
                duration_ms=answer.duration_ms,
                max_memory_mb=answer.max_memory_mb,
                page_cache_dropped=dropped,
            )
            run.result.cold.append(sample)
            if not sample.ok:
                run.result.failures.append(
                    f"cold start {round_index}: HTTP {reply.status}, cold={sample.cold}: "
                    f"{json.dumps(reply.body)[:300]}{_tail(run)}"
                )
            # Retire it now: an idle instance would hold memory through the other variants' runs.
            run.front.retire()
            progress.advance()


def measure_warm(
    runs: Sequence[Running],
    warm_runs: int,
    batch_runs: int,
    batch_size: int,
    progress: Progress,
) -> None:
    """Warm latency at batch 1 and at ``batch_size``, alternating between variants."""
    embedders = [run for run in runs if run.result.variant.embeds]
    if not embedders:
        return
    for run in embedders:  # the cold start and first calls are not warm figures
        run.front.ensure_instance()
        for n in range(3):
            _check(run, send(run.client, [text("warm-up", n)]), 1, "warm-up")
    progress.phase(f"warm latency, batch 1 ({warm_runs} per variant)", warm_runs)
    for n in range(warm_runs):
        for run in embedders:
            reply = send(run.client, [text("warm", n)])
            if _check(run, reply, 1, f"warm request {n}"):
                run.result.warm_b1_ms.append(reply.latency_ms)
        progress.advance()
    progress.phase(f"warm latency, batch {batch_size} ({batch_runs} per variant)", batch_runs)
    for n in range(batch_runs):
        texts = [text(f"batch {n}", i) for i in range(batch_size)]
        for run in embedders:
            reply = send(run.client, texts)
            if _check(run, reply, batch_size, f"batch request {n}"):
                run.result.warm_b32_ms.append(reply.latency_ms)
        progress.advance()


def measure_throughput(
    runs: Sequence[Running], clients: int, requests: int, progress: Progress
) -> None:
    """Requests/s at batch 1 with ``clients`` concurrent keep-alive clients.

    Concurrency cannot be interleaved, so variants run back to back, in
    :data:`THROUGHPUT_SLICES` slices with the order reversed in the second.
    Before each timed slice the pool is filled with ``clients`` warm
    sandboxes, so no cold start falls inside the timing.
    """
    embedders = [run for run in runs if run.result.variant.embeds]
    if not embedders or requests < 1:
        return
    per_slice = [requests // THROUGHPUT_SLICES] * THROUGHPUT_SLICES
    per_slice[0] += requests - sum(per_slice)
    totals = {id(run): Throughput(clients, 0, 0, 0.0) for run in embedders}
    progress.phase(
        f"throughput, batch 1, {clients} clients ({requests} per variant)",
        requests * len(embedders),
    )
    for slice_index, count in enumerate(per_slice):
        order = embedders if slice_index % 2 == 0 else list(reversed(embedders))
        for run in order:
            done = _timed_slice(run, clients, count, slice_index, progress)
            before = totals[id(run)]
            totals[id(run)] = Throughput(
                clients,
                before.requests + done.requests,
                before.failures + done.failures,
                before.seconds + done.seconds,
                before.latencies_ms + done.latencies_ms,
            )
    for run in embedders:
        run.result.throughput = totals[id(run)]


def _timed_slice(
    run: Running, clients: int, count: int, slice_index: int, progress: Progress
) -> Throughput:
    connections = [
        FunctionUrlClient(run.front.url, timeout_s=run.timeout_s) for _ in range(clients)
    ]
    try:
        _fill_pool(run, connections)
        numbers = iter(range(count))
        take = threading.Lock()
        latencies: list[float] = []
        failures: list[str] = []
        start = threading.Barrier(clients + 1)

        def worker(client: FunctionUrlClient) -> None:
            start.wait()
            while True:
                with take:
                    n = next(numbers, None)
                if n is None:
                    return
                reply = send(client, [text(f"throughput {slice_index}", n)])
                if reply.status == 200:
                    latencies.append(reply.latency_ms)
                else:
                    failures.append(f"throughput request {n}: HTTP {reply.status}")
                progress.advance()

        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in connections]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    finally:
        for client in connections:
            client.close()
    run.result.failures.extend(failures[:5])
    return Throughput(clients, len(latencies), len(failures), seconds, latencies)


def _fill_pool(run: Running, connections: Sequence[FunctionUrlClient]) -> None:
    # One warm instance per client before the timing (as many as the platform needs).
    counter = itertools.count()

    def warm_up() -> None:
        barrier = threading.Barrier(len(connections))

        def fill(client: FunctionUrlClient) -> None:
            barrier.wait()  # all at once, so each lands on its own instance
            send(client, [text("fill", next(counter))])

        threads = [threading.Thread(target=fill, args=(c,), daemon=True) for c in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run.front.fill(connections, warm_up)


def _check(run: Running, reply: Reply, expected: int, what: str) -> bool:
    body = reply.body if isinstance(reply.body, dict) else {}
    embeddings = body.get("embeddings")
    answer = run.front.answer_for(reply)
    if reply.status == 200 and isinstance(embeddings, list) and len(embeddings) == expected:
        if answer is not None and answer.cold and what != "warm-up":
            run.result.failures.append(f"{what}: answered by a new sandbox, not a warm one")
            return False
        return True
    run.result.failures.append(
        f"{what}: HTTP {reply.status}, {json.dumps(reply.body)[:300]}{_tail(run)}"
    )
    return False


def _tail(run: Running) -> str:
    if not run.log_tail:
        return ""
    return "\n    log: " + "\n    log: ".join(list(run.log_tail)[-8:])
