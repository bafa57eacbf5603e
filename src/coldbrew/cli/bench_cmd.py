"""``coldbrew bench``: the artifact against its baselines, in one run, with ratios."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coldbrew.cli.options import argument, cache_dir_option, option
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from coldbrew.bench.variants import Variant
    from coldbrew.emulate import RuntimeEnvironment
    from coldbrew.emulate.gcf_runtime import GcfRuntime

DEFAULT_ARTIFACT = Path("dist/minilm-l6-v2-py312-x86_64.zip")
DEFAULT_JSON = Path("bench-results/bench.json")


class _RichProgress:
    """Measurement progress as one Rich task per phase."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def phase(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=self._progress.tasks[-1].total)
        self._task = self._progress.add_task(description, total=total)

    def advance(self) -> None:
        if self._task is not None:
            self._progress.advance(self._task)


@contextmanager
def _progress(console: Console) -> Iterator[_RichProgress]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        yield _RichProgress(progress)


def _prepare(
    artifact: Path,
    baselines: tuple[str, ...],
    gcf_artifact: Path | None,
    project_dir: Path,
    cache_dir: Path,
    work_dir: Path,
    console: Console,
) -> tuple[list[Variant], dict[str, RuntimeEnvironment], dict[str, GcfRuntime]]:
    from coldbrew.bench import variants as v
    from coldbrew.bench.st_baseline import ST_PYTHON, sentence_transformers_variant
    from coldbrew.emulate import check_arch, ensure_runtime
    from coldbrew.emulate.gcf_runtime import ensure_gcf_runtime

    slim = v.coldbrew_variant(artifact)
    gcf = None if gcf_artifact is None else v.gcf_variant(gcf_artifact)
    arch = check_arch(slim.arch)
    if gcf is not None:
        check_arch(gcf.arch)
    versions = [slim.python_version] + ([ST_PYTHON] if "b" in baselines else [])
    runtimes: dict[str, RuntimeEnvironment] = {}
    gcf_runtimes: dict[str, GcfRuntime] = {}
    chosen: list[Variant] = [slim]
    with console.status("preparing") as status:
        for version in dict.fromkeys(versions):
            status.update(f"runtime venv for Python {version} (built once, then cached)")
            runtimes[version] = ensure_runtime(cache_dir, version, arch=arch)
        if gcf is not None:
            status.update(f"functions-framework for Python {gcf.python_version} (cached)")
            gcf_runtimes[gcf.python_version] = ensure_gcf_runtime(cache_dir, gcf.python_version)
            chosen.append(gcf)
        for key in baselines:
            if key == "a":
                chosen.append(
                    v.unslimmed_variant(slim, project_dir, cache_dir, work_dir, status.update)
                )
            elif key == "b":
                chosen.append(
                    sentence_transformers_variant(runtimes[ST_PYTHON], work_dir, status.update)
                )
            elif key == "c":
                chosen.append(
                    v.floor_variant(slim, project_dir, cache_dir, work_dir, status.update)
                )
            else:
                chosen.append(v.own_floor_variant(slim, work_dir, status.update))
    for variant in chosen:
        state = "as given" if variant.key in ("coldbrew", "gcf") else "cached"
        state = "built now" if variant.built_now else state
        console.print(f"{variant.label}: {variant.artifact} ({variant.kind}, {state})")
    return chosen, runtimes, gcf_runtimes


@click.command("bench")
@argument(
    "artifact",
    env="BENCH_ARTIFACT",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_ARTIFACT,
)
@option(
    "--baselines",
    env="BENCH_BASELINES",
    default="a,b,c,d",
    show_default=True,
    help="Baselines to measure beside ARTIFACT, comma-separated: a, b, c, d (empty: none).",
)
@option(
    "--gcf-artifact",
    env="BENCH_GCF_ARTIFACT",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also measure this Cloud Functions artifact (`coldbrew build --platform gcf`) "
    "under functions-framework, beside ARTIFACT on Lambda's emulator.",
)
@option(
    "--cold-runs",
    env="BENCH_COLD_RUNS",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Fresh sandboxes per variant (the figures need 10 or more).",
)
@option(
    "--warm-runs",
    env="BENCH_WARM_RUNS",
    type=click.IntRange(0, 100_000),
    default=100,
    show_default=True,
    help="Warm requests of 1 input per variant.",
)
@option(
    "--batch-runs",
    env="BENCH_BATCH_RUNS",
    type=click.IntRange(0, 10_000),
    default=20,
    show_default=True,
    help="Warm requests of 32 inputs per variant.",
)
@option(
    "--throughput-requests",
    env="BENCH_THROUGHPUT_REQUESTS",
    type=click.IntRange(0, 1_000_000),
    default=200,
    show_default=True,
    help="Requests of 1 input per variant for the throughput figure (0: skip it).",
)
@option(
    "--concurrency",
    env="BENCH_CONCURRENCY",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Emulator max concurrency = concurrent clients for throughput.",
)
@option(
    "--memory",
    "memory_mb",
    env="BENCH_MEMORY_MB",
    type=click.IntRange(LAMBDA.memory_mb.low, LAMBDA.memory_mb.high),
    default=1024,
    show_default=True,
    help="Memory size reported for every function, in MB (nothing is capped).",
)
@option(
    "--drop-caches/--no-drop-caches",
    env="BENCH_DROP_CACHES",
    default=True,
    show_default=True,
    help="Drop the OS page cache before every cold start (needs root; recorded either way).",
)
@option(
    "--json",
    "json_path",
    env="BENCH_JSON",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_JSON,
    show_default=True,
    help="Where every raw sample and the environment are written.",
)
@option(
    "--chart",
    "chart_path",
    env="BENCH_CHART",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="PNG chart [default: the JSON path with .png].",
)
@option(
    "--project-dir",
    env="PROJECT_DIR",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Holds handlers/, models/ and packaging/ (baseline (a) is built from it).",
)
@option(
    "--work-dir",
    env="BENCH_WORK_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where built baselines are cached [default: <cache-dir>/bench].",
)
@cache_dir_option
def command(
    artifact: Path,
    baselines: str,
    gcf_artifact: Path | None,
    cold_runs: int,
    warm_runs: int,
    batch_runs: int,
    throughput_requests: int,
    concurrency: int,
    memory_mb: int,
    drop_caches: bool,
    json_path: Path,
    chart_path: Path | None,
    project_dir: Path,
    work_dir: Path | None,
    cache_dir: Path,
) -> None:
    """Measure ARTIFACT against baselines in ONE run, through the local function URL.

    ARTIFACT (default dist/minilm-l6-v2-py312-x86_64.zip, also $COLDBREW_BENCH_ARTIFACT)
    is served beside each baseline by the emulator (awslambdaric sandboxes
    behind a local function URL) and every figure is taken over real HTTP
    on this machine, so the ratios hold where absolute figures drift.

    \b
    Variants:
      coldbrew  ARTIFACT, the slim artifact.
      (a)       unslimmed: the same handler, coldbrew runtime and model over a
                raw `pip install --target` of the same pins; no rules, no bytecode.
      (b)       sentence-transformers + torch CPU, the same HTTP contract, as a
                task-root directory (over Lambda's 250 MB limit). It runs on
                Python 3.11: torch CPU wheels exist on this machine only for 3.11.
      (c)       the floor: a minimal handler over ARTIFACT's own slim tree and
                model (imports, session, tokenizer, one inference at init).
                Cold start only.
      gcf       with --gcf-artifact: the same model's Cloud Functions artifact
                under Google's functions-framework (gunicorn) in a fresh
                target-interpreter process per cold start. Its cold start is
                launch to the first /embed answer (the platform's container
                start is not measured); its ratios read Lambda / Cloud Functions.

    \b
    Figures, for every variant (ms are milliseconds, MB are 2^20 bytes):
      cold start      ms, client-side: request sent to response read for the
                      first request to a fresh sandbox (sandbox start, init,
                      first invocation), over a kept-alive connection;
                      min / median / p90 over --cold-runs sandboxes.
      Init Duration   ms, the emulator's REPORT record for those requests:
                      process start to the runtime's first request for work.
      warm latency    ms, client-side, p50 / p99 of --warm-runs requests of 1
                      input and --batch-runs of 32, on a warm sandbox; every
                      text unique, so the embedding cache never answers.
      throughput      requests/s, batch 1: --throughput-requests requests from
                      --concurrency concurrent keep-alive clients, divided by
                      their wall time (the pool pre-filled with warm sandboxes).
      artifact size   MB, zipped (the zip's file size) and unzipped (the sum
                      of its files); (b) is a directory: unzipped only.
      max memory      MB, REPORT's Max Memory Used: the highest peak RSS
                      (VmHWM) of any of the variant's sandboxes over the run.

    Ratios are coldbrew / baseline for the cold-start median and p90, warm
    p50 and sizes; targets (information, never the exit code): cold-start
    median <= 0.5x (a), <= 1/25 of (b), <= 1.15x (c).

    \b
    Order: cold starts are INTERLEAVED - a round-robin of fresh sandboxes
    across variants, the order rotated each round - so drift on this noisy
    machine hits all alike; warm requests alternate between variants request
    by request; throughput runs back to back in two slices, the second in
    reverse order. Before each cold start the page cache is dropped
    (--drop-caches; whether it worked is printed and recorded).

    Writes the JSON (every raw sample, CPU, cores, load before/after, Python
    versions, page cache) and a PNG chart. Exits 1 only if requests failed.
    """
    from rich.console import Console

    from coldbrew.bench.page_cache import PageCache
    from coldbrew.bench.run import BenchSettings, run_bench
    from coldbrew.bench.table import render
    from coldbrew.bench.variants import parse_baselines
    from coldbrew.emulate import resolve_artifact

    settings = BenchSettings(
        cold_runs=cold_runs,
        warm_runs=warm_runs,
        batch_runs=batch_runs,
        throughput_requests=throughput_requests,
        concurrency=concurrency,
        memory_mb=memory_mb,
    )
    chosen = parse_baselines(baselines)
    console = Console()
    status_console = Console(stderr=True)
    work = work_dir or cache_dir / "bench"
    resolved = resolve_artifact(artifact)
    if resolved.layers:
        # The bench's variants carry one artifact each; a layer would be dropped and every
        # cold start would fail at init, so refuse rather than measure that.
        raise ConfigurationError(
            f"coldbrew bench measures single-zip artifacts, and {artifact} is a layer build "
            f"({resolved.function.name} with {resolved.layers[0].name}); bench a zip build of "
            "the same model (`coldbrew build --layout zip`), or serve this one with "
            "`coldbrew serve`"
        )
    variants, runtimes, gcf_runtimes = _prepare(
        resolved.function, chosen, gcf_artifact, project_dir, cache_dir, work, status_console
    )
    page_cache = PageCache(enabled=drop_caches)
    with _progress(status_console) as progress:
        result = run_bench(
            variants,
            settings,
            cache_dir=cache_dir,
            runtimes=runtimes,
            page_cache=page_cache,
            progress=progress,
            gcf_runtimes=gcf_runtimes,
            work_dir=work,
        )
    result.write(json_path)
    console.print(render(result))
    console.print(f"JSON: {json_path}")
    chart = chart_path or json_path.with_suffix(".png")
    try:
        from coldbrew.bench.chart import write_chart

        console.print(f"chart: {write_chart(result, chart)}")
    except ImportError:
        console.print("chart: skipped, matplotlib is missing (pip install 'coldbrew[bench]')")
    for failure in result.failures:
        console.print(f"[red]failed:[/] {failure}")
    if result.failures:
        raise SystemExit(1)
