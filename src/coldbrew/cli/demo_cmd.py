"""``coldbrew demo``: serve an artifact locally and show what it does, with figures.

Starts the artifact behind a local function URL (real awslambdaric sandboxes),
then over real HTTP: cold starts on fresh sandboxes, warm latency, example
embeddings and their similarities, and malformed requests that must come back
as 4xx JSON while the endpoint keeps serving. Exits non-zero if any check fails.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from coldbrew.cli.options import cache_dir_option, option
from coldbrew.cli.serve_cmd import GCF, platform_option
from coldbrew.deployment.aws_lambda import LAMBDA

if TYPE_CHECKING:
    from coldbrew.emulate import LocalFunctionUrl
    from coldbrew.emulate.gcf_server import GcfServer
    from coldbrew.emulate.probe import FunctionUrlClient

EXAMPLES = (
    "A cold brew is coffee steeped in cold water for many hours.",
    "Cold-brewed coffee is made by soaking the grounds in cold water overnight.",
    "The function scaled to zero and started again on the next request.",
)

MALFORMED: tuple[tuple[str, str, str, str | None], ...] = (
    ("invalid JSON", "POST", "/embed", '{"inputs": ['),
    ("wrong type", "POST", "/embed", '{"inputs": [42]}'),
    ("empty list", "POST", "/embed", '{"inputs": []}'),
    ("unknown field", "POST", "/embed", '{"input": ["typo"]}'),
    ("too many inputs", "POST", "/embed", json.dumps({"inputs": ["x"] * 1000})),
    ("input too long", "POST", "/embed", json.dumps({"inputs": ["word " * 5000]})),
    ("unknown path", "GET", "/nope", None),
    ("wrong method", "GET", "/embed", None),
)


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@dataclass
class _Run:
    """What the demo measured and which checks failed."""

    cold: list[tuple[float, float]] = field(default_factory=list)  # (latency, init) ms
    warm: list[float] = field(default_factory=list)
    batch: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _measure(
    server: LocalFunctionUrl, client: FunctionUrlClient, cold_runs: int, warm_runs: int, run: _Run
) -> None:
    for _ in range(cold_runs):
        server.emulator.reap_idle(0)  # next request lands on a fresh sandbox
        reply = client.embed([EXAMPLES[0]])
        record = server.records[-1]
        if reply.status != 200 or not record.cold:
            run.failures.append(f"cold request: status {reply.status}, cold={record.cold}")
        run.cold.append((reply.latency_ms, record.init_ms or 0.0))
    # Every text is new, so the function's embedding cache never answers.
    run.warm = [client.embed([f"{EXAMPLES[1]} (request {n})"]).latency_ms for n in range(warm_runs)]
    run.batch = [
        client.embed([f"{EXAMPLES[2]} ({n}, {i})" for i in range(32)]).latency_ms
        for n in range(max(3, warm_runs // 10))
    ]


def _measure_gcf(
    start: Callable[[], GcfServer], cold_runs: int, warm_runs: int, run: _Run
) -> GcfServer:
    """Cold starts on fresh functions-framework processes, then warm requests on the last.

    Returns the last server, still running, for the rest of the demo."""
    from coldbrew.emulate.probe import FunctionUrlClient

    server = None
    try:
        for _ in range(cold_runs):
            if server is not None:
                server.stop()
            server = start()
            client = FunctionUrlClient(server.url)
            reply = client.embed([EXAMPLES[0]])
            client.close()
            ready_ms = server.cold_start_ms or 0.0
            if reply.status != 200:
                run.failures.append(f"cold request: status {reply.status}")
            run.cold.append((ready_ms + reply.latency_ms, ready_ms))
        assert server is not None  # cold_runs >= 1
        client = FunctionUrlClient(server.url)
        run.warm = [
            client.embed([f"{EXAMPLES[1]} (request {n})"]).latency_ms for n in range(warm_runs)
        ]
        run.batch = [
            client.embed([f"{EXAMPLES[2]} ({n}, {i})" for i in range(32)]).latency_ms
            for n in range(max(3, warm_runs // 10))
        ]
        client.close()
    except BaseException:
        if server is not None:
            server.stop()
        raise
    return server


def _show_embeddings(console: Console, client: FunctionUrlClient, run: _Run) -> None:
    reply = client.embed(list(EXAMPLES))
    body = reply.body or {}
    vectors = body.get("embeddings", [])
    norms = [math.sqrt(sum(x * x for x in v)) for v in vectors]
    shape = f"{len(vectors)} x {len(vectors[0]) if vectors else 0}"
    console.print(
        f"\nPOST /embed -> {reply.status}  model {body.get('model')}  "
        f"embeddings {shape}  norms {', '.join(f'{n:.4f}' for n in norms)}"
    )
    if reply.status != 200 or any(len(v) != body.get("dimensions") for v in vectors):
        run.failures.append(f"embed: status {reply.status}, shape {shape}")
    if not all(abs(n - 1) < 1e-3 for n in norms):
        run.failures.append(f"embeddings are not unit-norm: {norms}")
    if len(vectors) == len(EXAMPLES):
        console.print(
            f"  similarity(1, 2) = {_cosine(vectors[0], vectors[1]):.3f}   "
            "(two sentences about cold brew)"
        )
        console.print(
            f"  similarity(1, 3) = {_cosine(vectors[0], vectors[2]):.3f}   "
            "(cold brew vs cold starts)"
        )


def _check_malformed(client: FunctionUrlClient, run: _Run) -> Table:
    table = Table(title="Malformed requests", title_justify="left")
    for column in ("request", "status", "error message"):
        table.add_column(column)
    for label, method, path, payload in MALFORMED:
        bad = client.request(method, path, payload)
        message = (bad.body or {}).get("error", {}).get("message", str(bad.body))
        table.add_row(label, str(bad.status), message[:90])
        if not 400 <= bad.status < 500:
            run.failures.append(f"{label}: expected a 4xx, got {bad.status}")
    health = client.request("GET", "/health")
    table.add_row("GET /health afterwards", str(health.status), json.dumps(health.body)[:90])
    if health.status != 200:
        run.failures.append(f"endpoint stopped serving: /health gave {health.status}")
    return table


def _figures(run: _Run, report: dict[str, Any]) -> Table:
    from coldbrew.artifact.report import MB
    from coldbrew.emulate.probe import percentile

    table = Table(title="Figures (this machine, one run)", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    cold_ms = [c for c, _ in run.cold]
    table.add_row(
        f"cold start, first response on a fresh sandbox (median of {len(cold_ms)})",
        f"{statistics.median(cold_ms):.0f} ms (min {min(cold_ms):.0f})",
    )
    table.add_row(
        "  of which Init Duration (median)", f"{statistics.median(i for _, i in run.cold):.0f} ms"
    )
    table.add_row(
        f"warm latency, 1 input (median / p90 of {len(run.warm)})",
        f"{statistics.median(run.warm):.1f} / {percentile(run.warm, 90):.1f} ms",
    )
    table.add_row(
        f"warm latency, 32 inputs (median of {len(run.batch)})",
        f"{statistics.median(run.batch):.1f} ms",
    )
    if report:
        table.add_row(
            "artifact zipped / unzipped",
            f"{report['zipped_bytes'] / MB:.1f} / {report['unzipped_bytes'] / MB:.1f} MB",
        )
    return table


@click.command("demo")
@click.argument("artifact", type=click.Path(exists=True, path_type=Path))
@platform_option(
    "aws-lambda: a local function URL; gcf: Google's functions-framework, each cold "
    "start on a fresh process."
)
@option(
    "--cold-runs",
    env="DEMO_COLD_RUNS",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Cold starts to measure, each on a fresh sandbox.",
)
@option(
    "--warm-runs",
    env="DEMO_WARM_RUNS",
    type=click.IntRange(1, 10_000),
    default=50,
    show_default=True,
    help="Warm requests to measure.",
)
@option(
    "--memory",
    "memory_mb",
    env="MEMORY_MB",
    type=click.IntRange(LAMBDA.memory_mb.low, LAMBDA.memory_mb.high),
    default=1024,
    show_default=True,
    help="Memory size reported for the function, in MB.",
)
@cache_dir_option
def command(
    artifact: Path, platform: str, cold_runs: int, warm_runs: int, memory_mb: int, cache_dir: Path
) -> None:
    """Serve ARTIFACT on a local function URL and exercise it over HTTP.

    ARTIFACT is a zip, a part of a layer build (run with its layer) or a build report;
    with ``--platform gcf``, a Cloud Functions source zip or directory.
    """
    from coldbrew.emulate import EmulatorConfig, LocalFunctionUrl, resolve_artifact
    from coldbrew.emulate.probe import FunctionUrlClient

    console = Console()
    if platform == GCF:
        _demo_gcf(console, artifact, cold_runs, warm_runs, cache_dir)
        return
    if artifact.is_dir():
        raise click.BadParameter(
            f"{artifact} is a directory; give a Lambda zip or build report", param_hint="ARTIFACT"
        )
    resolved = resolve_artifact(artifact)
    report = dict(resolved.report)
    server = LocalFunctionUrl(
        EmulatorConfig(
            artifact=resolved.function,
            layers=resolved.layers,
            cache_dir=cache_dir,
            python_version=report.get("python", "3.12"),
            arch=report.get("arch"),
            memory_mb=memory_mb,
            timeout_s=60.0,
        )
    )
    run = _Run()
    with console.status("starting the local function URL (the first run builds the runtime)"):
        server.start()
    try:
        client = FunctionUrlClient(server.url)
        layers = "".join(f" with layer {layer}" for layer in resolved.layers)
        console.print(
            f"local function URL: [bold]{server.url}[/] (artifact {resolved.function}{layers})",
            soft_wrap=True,
        )
        with console.status("measuring cold starts and warm latency"):
            _measure(server, client, cold_runs, warm_runs, run)
        _show_embeddings(console, client, run)
        console.print(_check_malformed(client, run))
        console.print(_figures(run, report))
        client.close()
    finally:
        server.stop()
    _finish(console, run)


def _demo_gcf(
    console: Console, artifact: Path, cold_runs: int, warm_runs: int, cache_dir: Path
) -> None:
    from coldbrew.cli.serve_cmd import gcf_server
    from coldbrew.emulate.probe import FunctionUrlClient

    def start() -> GcfServer:
        server = gcf_server(console, artifact, None, cache_dir, None, "127.0.0.1", 0, quiet=True)
        server.start()
        return server

    run = _Run()
    with console.status(
        "measuring cold starts (a fresh functions-framework each) and warm latency"
    ):
        server = _measure_gcf(start, cold_runs, warm_runs, run)
    try:
        console.print(
            f"functions-framework: [bold]{server.url}[/] (artifact {artifact})", soft_wrap=True
        )
        client = FunctionUrlClient(server.url)
        _show_embeddings(console, client, run)
        console.print(_check_malformed(client, run))
        console.print(_figures(run, {}))
        client.close()
    finally:
        server.stop()
    _finish(console, run)


def _finish(console: Console, run: _Run) -> None:
    for failure in run.failures:
        console.print(f"[red]check failed:[/] {failure}")
    if run.failures:
        raise SystemExit(1)
    console.print("[green]all checks passed[/]")
