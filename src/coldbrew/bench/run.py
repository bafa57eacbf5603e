"""One bench run: serve every variant at once, measure, collect the result.

All variants' function URLs are up for the whole run (an idle front costs
nothing; sandboxes start only on request), so the cold-start rounds can go
round-robin across them. See :mod:`coldbrew.bench.measure` for the order of
the measurements and why.
"""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coldbrew.bench.environment import describe_host, load_average
from coldbrew.bench.fronts import GcfFront, LambdaFront
from coldbrew.bench.measure import (
    THROUGHPUT_SLICES,
    Progress,
    Running,
    measure_cold,
    measure_throughput,
    measure_warm,
)
from coldbrew.bench.page_cache import PageCache
from coldbrew.bench.ratios import compute_ratios
from coldbrew.bench.results import BenchResult, VariantResult
from coldbrew.bench.variants import Variant
from coldbrew.emulate import EmulatorConfig, LocalFunctionUrl, RuntimeEnvironment
from coldbrew.emulate.gcf_runtime import GcfRuntime
from coldbrew.emulate.probe import FunctionUrlClient
from coldbrew.errors import ConfigurationError

#: Lambda's limit on an on-demand function's init phase, for the notes.
LAMBDA_INIT_LIMIT_MS = 10_000.0
ORDER = (
    "cold starts round-robin across variants, one fresh sandbox each, order rotated "
    "every round; warm requests alternate between variants request by request; "
    f"throughput back to back in {THROUGHPUT_SLICES} slices, the second in reverse order"
)


@dataclass(frozen=True)
class BenchSettings:
    """How much to measure, and the emulated function's configuration."""

    cold_runs: int = 10
    warm_runs: int = 100
    batch_runs: int = 20
    batch_size: int = 32
    throughput_requests: int = 200
    concurrency: int = 2
    memory_mb: int = 1024
    timeout_s: float = 120.0
    #: Lambda stops an on-demand init at 10 s; the bench waits longer so a slow
    #: baseline is measured rather than failed, and notes any init over 10 s.
    init_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("cold_runs", "concurrency", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("warm_runs", "batch_runs", "throughput_requests"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{name} must be 0 or more, got {getattr(self, name)}")

    def to_json(self) -> dict[str, Any]:
        """The settings, plus the measurement order in words."""
        return {**asdict(self), "order": ORDER}


def run_bench(
    variants: Sequence[Variant],
    settings: BenchSettings,
    *,
    cache_dir: Path,
    runtimes: Mapping[str, RuntimeEnvironment],
    page_cache: PageCache,
    progress: Progress,
    gcf_runtimes: Mapping[str, GcfRuntime] | None = None,
    work_dir: Path | None = None,
) -> BenchResult:
    """Measure ``variants`` (coldbrew first) and return every sample and ratio.

    ``runtimes`` maps each Lambda variant's Python version to its ready
    runtime venv, ``gcf_runtimes`` each Cloud Functions variant's to its
    interpreter and functions-framework; a Cloud Functions artifact is unpacked
    under ``work_dir`` (default: ``cache_dir``). Request failures are recorded
    in the result, not raised.
    """
    if not variants or variants[0].key != "coldbrew":
        raise ConfigurationError("the first variant must be the coldbrew artifact")
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    began = time.perf_counter()
    load_before = load_average()
    runs: list[Running] = []
    with contextlib.ExitStack() as stack:
        for variant in variants:
            if variant.platform == "gcf":
                gcf_runtime = (gcf_runtimes or {}).get(variant.python_version)
                runs.append(
                    _serve_gcf(stack, variant, settings, gcf_runtime, work_dir or cache_dir)
                )
            else:
                runs.append(_serve(stack, variant, settings, cache_dir, runtimes))
        measure_cold(runs, settings.cold_runs, page_cache, progress)
        measure_warm(runs, settings.warm_runs, settings.batch_runs, settings.batch_size, progress)
        measure_throughput(runs, settings.concurrency, settings.throughput_requests, progress)
        for run in runs:
            run.result.max_memory_mb = run.front.max_memory_mb()
    results = [run.result for run in runs]
    for result in results:
        _note_slow_init(result)
    coldbrew, *baselines = results
    environment = {
        **describe_host(),
        "load_before": load_before,
        "load_after": load_average(),
        "page_cache": page_cache.to_json(),
        "pythons": {r.variant.key: r.runtime_python for r in results},
    }
    return BenchResult(
        started_at=started_at,
        duration_s=time.perf_counter() - began,
        settings=settings.to_json(),
        environment=environment,
        variants=results,
        ratios=compute_ratios(coldbrew.figures(), {r.variant.key: r.figures() for r in baselines}),
    )


def _serve(
    stack: contextlib.ExitStack,
    variant: Variant,
    settings: BenchSettings,
    cache_dir: Path,
    runtimes: Mapping[str, RuntimeEnvironment],
) -> Running:
    runtime = runtimes.get(variant.python_version)
    if runtime is None:
        raise ConfigurationError(f"no runtime prepared for Python {variant.python_version}")
    config = EmulatorConfig(
        artifact=variant.artifact,
        cache_dir=cache_dir,
        python_version=variant.python_version,
        arch=variant.arch,
        memory_mb=settings.memory_mb,
        timeout_s=settings.timeout_s,
        init_timeout_s=settings.init_timeout_s,
        max_concurrency=settings.concurrency,
        queue_wait_s=settings.timeout_s,
        idle_ttl_s=86_400.0,  # the bench retires sandboxes itself; the reaper must not
        env=variant.env,
        function_name=f"coldbrew-bench-{variant.key}",
    )
    result = VariantResult(variant, runtime_python=runtime.python_version)
    log_tail: collections.deque[str] = collections.deque(maxlen=40)
    server = LocalFunctionUrl(config, runtime=runtime, on_log=log_tail.append)
    stack.enter_context(server)
    client = FunctionUrlClient(server.url, timeout_s=settings.timeout_s + settings.init_timeout_s)
    stack.callback(client.close)
    return Running(
        result, LambdaFront(server), client, timeout_s=settings.timeout_s, log_tail=log_tail
    )


def _serve_gcf(
    stack: contextlib.ExitStack,
    variant: Variant,
    settings: BenchSettings,
    runtime: GcfRuntime | None,
    work_dir: Path,
) -> Running:
    if runtime is None:
        raise ConfigurationError(
            f"no functions-framework runtime prepared for Python {variant.python_version}"
        )
    result = VariantResult(variant, runtime_python=runtime.python_version)
    log_tail: collections.deque[str] = collections.deque(maxlen=40)
    front = GcfFront(
        variant.artifact,
        runtime,
        work_dir=work_dir / "tmp",
        env=dict(variant.env),
        init_timeout_s=settings.init_timeout_s,
        on_log=log_tail.append,
    )
    stack.callback(front.close)
    client = FunctionUrlClient(front.url, timeout_s=settings.timeout_s + settings.init_timeout_s)
    stack.callback(client.close)
    return Running(result, front, client, timeout_s=settings.timeout_s, log_tail=log_tail)


def _note_slow_init(result: VariantResult) -> None:
    if result.variant.platform != "lambda":
        return
    slow = [s.init_ms for s in result.cold_ok if (s.init_ms or 0) > LAMBDA_INIT_LIMIT_MS]
    if slow:
        note = (
            f"{len(slow)} of {len(result.cold_ok)} inits took over Lambda's 10 s init limit "
            f"(max {max(s or 0 for s in slow) / 1000:.1f} s): on Lambda the init would be "
            "cut off and retried inside the invocation"
        )
        result.variant = replace(result.variant, notes=(*result.variant.notes, note))
