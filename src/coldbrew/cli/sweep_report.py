"""``coldbrew simulate --sweep``: run the frontier for each function and report it."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from coldbrew.capacity.rolling import split_days
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.sweep import REFERENCE_TARGET, FunctionSweep, sweep_function
from coldbrew.capacity.tuner import TunerSettings


def _summary(sweep: FunctionSweep) -> dict[str, Any]:
    """The acceptance comparisons for one function."""
    reference = sweep.reference()
    out: dict[str, Any] = {"function": sweep.function, "mean_concurrency": sweep.mean_concurrency}
    if reference is None:
        return out
    fewest = sweep.fewest_cold_starts_within("coldbrew", reference.cost_usd)
    out.update(
        tt_cost_usd=reference.cost_usd,
        tt_cold_starts=reference.cold_starts,
        coldbrew_cold_starts_at_tt_cost=fewest,
        # What even perfect knowledge reaches at that cost: is the target reachable at all?
        oracle_cold_starts_at_tt_cost=sweep.fewest_cold_starts_within("oracle", reference.cost_usd),
        ratio=None
        if fewest is None or not reference.cold_starts
        else fewest / reference.cold_starts,
    )
    # coldbrew's cost against the oracle's cheapest with at most as many cold starts.
    ratios = []
    for point in sweep.of("coldbrew"):
        oracle = sweep.cheapest_with_at_most("oracle", point.cold_starts)
        if oracle:
            ratios.append(point.cost_usd / oracle)
    out["best_cost_ratio_to_oracle"] = min(ratios) if ratios else None
    return out


def run_sweep(
    console: Console,
    chosen: Sequence[TrafficSeries],
    *,
    trace: Path,
    train_days: int,
    block_minutes: int,
    median_ms: float,
    keep_alive_s: int,
    seed: int,
    json_path: Path | None,
) -> None:
    """Sweep every chosen function, print the frontier and the acceptance table, draw it."""
    from coldbrew.capacity.frontier_chart import draw

    sweeps = []
    for series in chosen:
        _, evaluated = split_days(series, train_days)
        settings = TunerSettings(
            block_s=block_minutes * 60,
            duration_s=median_ms / 1000,
            memory_mb=series.memory_mb or 128,
        )
        with console.status(f"{series.name}: sweeping") as status:
            sweeps.append(
                sweep_function(
                    evaluated,
                    series,
                    train_days=train_days,
                    settings=settings,
                    seed=seed,
                    median_ms=median_ms,
                    keep_alive_s=keep_alive_s,
                    progress=status.update,
                )
            )
    points = Table(title="Frontier points (cost over the evaluation days)")
    for column in ("function", "policy", "knob", "cost $", "cold starts", "utilisation"):
        points.add_column(column, justify="left" if column in ("function", "policy") else "right")
    for sweep in sweeps:
        for p in sweep.points:
            util = "-" if math.isnan(p.utilisation) else f"{p.utilisation:.2f}"
            points.add_row(
                sweep.function,
                p.policy,
                f"{p.knob:g}",
                f"{p.cost_usd:.2f}",
                f"{p.cold_starts:,}",
                util,
            )
    console.print(points)
    summary = Table(title=f"coldbrew vs target tracking at {REFERENCE_TARGET} (same cost)")
    for column in (
        "function",
        "mean conc.",
        "TT cost $",
        "TT cold starts",
        "coldbrew cold starts",
        "oracle cold starts",
        "ratio (target <= 0.5)",
        "cost / oracle (<= 1.5)",
    ):
        summary.add_column(column, justify="left" if column == "function" else "right")
    rows = [_summary(s) for s in sweeps]
    for row in rows:
        ratio = row.get("ratio")
        oracle = row.get("best_cost_ratio_to_oracle")
        summary.add_row(
            row["function"],
            f"{row['mean_concurrency']:.2f}",
            f"{row.get('tt_cost_usd', float('nan')):.2f}",
            f"{row.get('tt_cold_starts', '-')}",
            f"{row.get('coldbrew_cold_starts_at_tt_cost')}",
            f"{row.get('oracle_cold_starts_at_tt_cost')}",
            "-" if ratio is None else f"{ratio:.2f}",
            "-" if oracle is None else f"{oracle:.2f}",
        )
    console.print(summary)
    target = json_path or Path("simulate-results") / "sweep.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {
                "trace": str(trace),
                "seed": seed,
                "summary": rows,
                "sweeps": [asdict(s) for s in sweeps],
            },
            indent=2,
        )
        + "\n"
    )
    chart = draw(sweeps, target.with_suffix(".png"), title=f"{trace.name}, seed {seed}")
    console.print(f"JSON: {target}\nchart: {chart}")
