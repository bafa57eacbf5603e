"""``coldbrew simulate``: replay a trace against provisioned-concurrency policies."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from coldbrew.cli.options import argument, option

POLICIES = ("on-demand", "static", "target-tracking", "coldbrew", "oracle")


def _policy(name: str, series: Any, options: dict[str, Any]) -> tuple[Any, list[str]]:
    from coldbrew.capacity.policies import OnDemandOnly, Oracle, StaticLevel, TargetTracking
    from coldbrew.capacity.rolling import rolling_schedule
    from coldbrew.capacity.tuner import TunerSettings

    if name == "on-demand":
        return OnDemandOnly(), []
    if name == "static":
        return StaticLevel(options["level"]), []
    if name == "target-tracking":
        return TargetTracking(target=options["target"]), []
    if name == "oracle":
        return Oracle(), []
    settings = TunerSettings(
        block_s=options["block_minutes"] * 60,
        duration_s=options["median_ms"] / 1000,
        memory_mb=series.memory_mb or 128,
        max_cold_start_fraction=options["overflow"],
    )
    plan = rolling_schedule(
        series,
        train_days=options["train_days"],
        quantile=options["quantile"],
        settings=settings,
        allocation_lead_s=60,
    )
    notes = [
        f"{d.day}: {d.forecaster}"
        + ("" if d.beats_naive else " (no model beat seasonal naive: " + d.reason + ")")
        for d in plan.days[:1]
    ]
    return plan.policy, notes


@click.command("simulate")
@argument(
    "trace",
    env="SIMULATE_TRACE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@option(
    "--function",
    "functions",
    env="SIMULATE_FUNCTIONS",
    multiple=True,
    help="Function (trace column) to replay; repeat; default all.",
)
@option(
    "--policy",
    "policies",
    env="SIMULATE_POLICIES",
    type=click.Choice(POLICIES),
    multiple=True,
    help="Policy to replay; repeat; default all five.",
)
@option(
    "--train-days",
    env="SIMULATE_TRAIN_DAYS",
    type=click.IntRange(3, 365),
    default=21,
    show_default=True,
    help="Days the forecaster learns from; the rest is replayed.",
)
@option(
    "--level",
    env="SIMULATE_LEVEL",
    type=click.IntRange(0, 10_000),
    default=1,
    show_default=True,
    help="Provisioned level of the static policy.",
)
@option(
    "--target",
    env="SIMULATE_TARGET",
    type=click.FloatRange(0.1, 0.9),
    default=0.7,
    show_default=True,
    help="Target utilisation of AWS target tracking.",
)
@option(
    "--quantile",
    env="SIMULATE_QUANTILE",
    type=click.FloatRange(0.5, 0.999),
    default=0.9,
    show_default=True,
    help="Forecast quantile coldbrew provisions for.",
)
@option(
    "--overflow",
    env="SIMULATE_OVERFLOW",
    type=click.FloatRange(0.0001, 1.0),
    default=0.01,
    show_default=True,
    help="Most fraction of a block's requests coldbrew lets spill to on demand "
    "(--sweep sweeps it, 1 = cost alone).",
)
@option(
    "--block-minutes",
    env="SIMULATE_BLOCK_MINUTES",
    type=click.IntRange(5, 1440),
    default=60,
    show_default=True,
    help="coldbrew's schedule block (a multiple of 5 that divides a day).",
)
@option(
    "--median-ms",
    env="SIMULATE_MEDIAN_MS",
    type=click.FloatRange(1, 900_000),
    default=100.0,
    show_default=True,
    help="Median duration when the trace has none (lognormal).",
)
@option(
    "--keep-alive-s",
    env="SIMULATE_KEEP_ALIVE_S",
    type=click.IntRange(0, 7200),
    default=600,
    show_default=True,
    help="How long an idle on-demand environment stays warm.",
)
@option(
    "--seed",
    env="SIMULATE_SEED",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the arrival and duration draws.",
)
@option(
    "--json",
    "json_path",
    env="SIMULATE_JSON",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every report as JSON here.",
)
@option(
    "--sweep",
    env="SIMULATE_SWEEP",
    is_flag=True,
    help="Sweep each policy's knob (coldbrew's: --overflow, on the median forecast of each "
    "block's busiest bin) and draw the cost vs cold-start frontier (PNG + table).",
)
def command(
    trace: Path,
    functions: tuple[str, ...],
    policies: tuple[str, ...],
    train_days: int,
    level: int,
    target: float,
    quantile: float,
    overflow: float,
    block_minutes: int,
    median_ms: float,
    keep_alive_s: int,
    seed: int,
    json_path: Path | None,
    sweep: bool,
) -> None:
    """Replay TRACE's evaluation days (after --train-days) under each policy.

    Per function and policy: requests, cold starts, cost (us-east-1 prices,
    split by component), provisioned utilisation and the latency cold starts
    added. Arrivals are each bin's count at random times; durations are the
    trace's or lognormal around --median-ms: every result states its assumptions.
    """
    from rich.console import Console
    from rich.table import Table

    from coldbrew.capacity.arrivals import check_replayable
    from coldbrew.capacity.rolling import split_days
    from coldbrew.capacity.simulate import simulate
    from coldbrew.capacity.traces import load_trace
    from coldbrew.errors import ConfigurationError

    console = Console()
    every = load_trace(trace)
    chosen = [s for s in every if not functions or s.name in functions]
    missing = sorted(set(functions) - {s.name for s in every})
    if missing:
        raise ConfigurationError(
            f"no function {', '.join(missing)} in {trace}; "
            f"it has: {', '.join(s.name for s in every)}"
        )
    for series in chosen:
        check_replayable(split_days(series, train_days)[1])  # before any slow step
        if series.fill_note:  # filled bins are replayed as traffic: say so before any figure
            console.print(f"{series.name}: {series.fill_note}", markup=False, highlight=False)
    if sweep:
        from coldbrew.cli.sweep_report import run_sweep

        run_sweep(
            console,
            chosen,
            trace=trace,
            train_days=train_days,
            block_minutes=block_minutes,
            median_ms=median_ms,
            keep_alive_s=keep_alive_s,
            seed=seed,
            json_path=json_path,
        )
        return
    options = {
        "level": level,
        "target": target,
        "quantile": quantile,
        "overflow": overflow,
        "median_ms": median_ms,
        "block_minutes": block_minutes,
        "train_days": train_days,
    }
    table = Table(title=f"{trace.name}: days after {train_days} replayed, seed {seed}")
    for column in (
        "function",
        "policy",
        "requests",
        "cold starts",
        "fraction",
        "cost $",
        "utilisation",
        "added latency s",
    ):
        table.add_column(column, justify="left" if column in ("function", "policy") else "right")
    reports: list[dict[str, Any]] = []
    assumptions: tuple[str, ...] = ()
    for series in chosen:
        _, evaluated = split_days(series, train_days)
        for name in policies or POLICIES:
            with console.status(f"{series.name}: {name}"):
                policy, notes = _policy(name, series, options)
                report = simulate(
                    evaluated,
                    policy,
                    seed=seed,
                    median_ms=median_ms,
                    keep_alive_s=keep_alive_s,
                    memory_mb=series.memory_mb or 128,
                )
            assumptions = report.assumptions
            for note in notes:
                console.print(f"[dim]{series.name}: forecaster {note}[/]")
            utilisation = report.provisioned_utilisation
            table.add_row(
                series.name,
                report.policy,
                f"{report.requests:,}",
                f"{report.cold_starts:,}",
                f"{report.cold_start_fraction:.2e}",
                f"{report.cost.total_usd:.2f}",
                "-" if math.isnan(utilisation) else f"{utilisation:.2f}",
                f"{report.cold_start_added_latency_s:.1f}",
            )
            reports.append(json.loads(report.to_json()))
    console.print(table)
    console.print("assumptions: " + "; ".join(assumptions))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
        console.print(f"JSON: {json_path}")
