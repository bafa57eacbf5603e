"""The bench's tables: figures by variant, then the ratios and their targets."""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from coldbrew.artifact.limits import MB, UNZIPPED_LIMIT
from coldbrew.bench.ratios import Ratio
from coldbrew.bench.results import BenchResult, VariantResult
from coldbrew.bench.stats import Summary, summarize

NA = "n/a"


def ms(value: float) -> str:
    """A duration in ms with sensible precision: 1234, 56.7, 8.91; n/a for NaN."""
    if math.isnan(value):
        return NA
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def megabytes(value: float | None) -> str:
    """Bytes as MB (2**20), one decimal; n/a for None."""
    return NA if value is None else f"{value / MB:,.1f}"


def ratio_text(value: float) -> str:
    """``0.42x``, ``0.031x``; n/a for NaN."""
    if math.isnan(value):
        return NA
    return f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x"


def _triple(s: Summary) -> str:
    return NA if s.count == 0 else f"{ms(s.min)} / {ms(s.median)} / {ms(s.p90)}"


def _pair(values: list[float]) -> str:
    s = summarize(values)
    return NA if s.count == 0 else f"{ms(s.median)} / {ms(s.p99)}"


def _throughput(r: VariantResult) -> str:
    t = r.throughput
    return NA if t is None or t.requests == 0 else f"{t.per_second:.1f}"


def _unzipped(r: VariantResult) -> str:
    text = megabytes(r.variant.unzipped_bytes)
    return f"{text} (over 250 MB)" if r.variant.unzipped_bytes > UNZIPPED_LIMIT else text


def figures_table(result: BenchResult) -> Table:
    """Rows are figures, columns are variants."""
    concurrency = result.settings.get("concurrency", "?")
    batch = result.settings.get("batch_size", 32)
    table = Table(title="coldbrew bench: figures (this machine, one run)", title_justify="left")
    table.add_column("figure (unit)")
    for r in result.variants:
        table.add_column(r.variant.label, justify="right")
    rows: list[tuple[str, Callable[[VariantResult], str]]] = [
        ("cold start, client: min / median / p90 (ms)", lambda r: _triple(r.cold_summary())),
        ("  Init Duration, REPORT: median (ms)", lambda r: ms(r.init_summary().median)),
        (
            "  fresh sandboxes answered / run",
            lambda r: f"{len(r.cold_ok)} / {len(r.cold)}",
        ),
        ("warm, batch 1: p50 / p99 (ms)", lambda r: _pair(r.warm_b1_ms)),
        (f"warm, batch {batch}: p50 / p99 (ms)", lambda r: _pair(r.warm_b32_ms)),
        (f"throughput, batch 1, {concurrency} clients (req/s)", _throughput),
        ("artifact zipped (MB)", lambda r: megabytes(r.variant.zipped_bytes)),
        ("artifact unzipped (MB)", _unzipped),
        (
            "max memory used, REPORT (MB)",
            lambda r: NA if r.max_memory_mb is None else str(r.max_memory_mb),
        ),
        ("python (runtime)", lambda r: r.runtime_python or r.variant.python_version),
    ]
    for name, cell in rows:
        table.add_row(name, *(cell(r) for r in result.variants))
    return table


def ratios_table(result: BenchResult) -> Table:
    """coldbrew / baseline for each figure, with the acceptance targets."""
    labels = {r.variant.key: r.variant.label for r in result.variants}
    table = Table(title="coldbrew / baseline (lower is better)", title_justify="left")
    for column, justify in (
        ("figure", "left"),
        ("baseline", "left"),
        ("ratio", "right"),
        ("target", "right"),
        ("met", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for ratio in result.ratios:
        table.add_row(
            ratio.figure,
            labels.get(ratio.baseline, ratio.baseline),
            ratio_text(ratio.value),
            ratio.target_text,
            _met(ratio),
        )
    return table


def _met(ratio: Ratio) -> Text:
    if ratio.met is None:
        return Text("n/a (not measured)" if ratio.target is not None else "")
    return Text("yes", style="green") if ratio.met else Text("NO", style="bold red")


def notes(result: BenchResult) -> list[str]:
    """The lines printed under the tables: conditions, caveats, order."""
    env = result.environment
    load = f"{env.get('load_before')} before, {env.get('load_after')} after"
    lines = [
        f"machine: {env.get('cpu_model')}, {env.get('cores')} cores; load average {load}",
        f"page cache: {env.get('page_cache', {}).get('state', 'unknown')}",
        f"order: {result.settings.get('order', '')}",
        f"run took {result.duration_s / 60:.1f} min",
    ]
    for r in result.variants:
        lines += [f"{r.variant.label}: {note}" for note in r.variant.notes]
    return lines


def render(result: BenchResult) -> RenderableType:
    """Both tables and the notes, ready for ``Console.print``."""
    parts: list[RenderableType] = [figures_table(result), ratios_table(result)]
    parts += [Text(line) for line in notes(result)]
    return Group(*parts)
