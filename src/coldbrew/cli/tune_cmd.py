"""``coldbrew tune``: a trace in, a provisioned-concurrency schedule out (and, on request, applied).

Thin: the work is in :mod:`coldbrew.capacity.tuner` (forecast and levels),
:mod:`coldbrew.capacity.schedule` (the file) and
:mod:`coldbrew.capacity.apply` (Application Auto Scaling). This is the only
place a boto3 client is created.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coldbrew.cli.options import argument, option
from coldbrew.cli.tune_gcf import apply_to_gcf, print_gcf_cost, tune_gcf_options
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.errors import ConfigurationError

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from coldbrew.capacity.day_forecast import DayForecast
    from coldbrew.capacity.series import TrafficSeries
    from coldbrew.capacity.tuner import Tuning

DEFAULT_OUT = Path("schedule.json")
DEFAULT_DURATION_MS = 100.0
DEFAULT_MEMORY_MB = 1024


def _pick(series: list[TrafficSeries], name: str | None, trace: Path) -> TrafficSeries:
    if name is None and len(series) == 1:
        return series[0]
    by_name = {s.name: s for s in series}
    if name in by_name:
        return by_name[name]
    shown = ", ".join(list(by_name)[:10]) + (", ..." if len(by_name) > 10 else "")
    what = "pass --function NAME" if name is None else f"no function {name!r}"
    raise ConfigurationError(f"{trace}: {what}; it holds {len(by_name)}: {shown}")


def _plain(console: Console, line: str) -> None:
    """A line printed as is: no markup, no highlighting, never wrapped (it may be parsed)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _table(tuning: Tuning, forecast: DayForecast) -> object:
    from rich.table import Table

    from coldbrew.capacity.schedule import hhmm

    budget = tuning.settings.max_cold_start_fraction
    table = Table(
        title=f"{forecast.selection.function} on {forecast.day_start:%Y-%m-%d} (UTC)",
        title_justify="left",
    )
    for header in ("block", "req/s", "load", "needed", "level", "spill", "cold", "$", "$ o-d"):
        table.add_column(header, justify="left" if header == "block" else "right")
    for b in tuning.blocks:
        table.add_row(
            f"{hhmm(b.start_s)}-{hhmm(b.end_s)}",
            f"{b.rate_per_s:.2f}",
            f"{b.load:.2f}",
            f">{b.max_capacity}" if b.over_cap else "-" if b.required is None else str(b.required),
            f"[bold]{b.level}[/]" + (" [red]![/]" if b.note else ""),
            f"{b.blocking:.2%}",
            f"{b.expected_cold_starts:.0f}",
            f"{b.cost.total:.4f}",
            f"{b.on_demand_cost.total:.4f}",
        )
    table.caption = (
        f"req/s: forecast q{forecast.quantile:g} ({forecast.fitted_name}); load: req/s x "
        f"{tuning.settings.duration_s * 1000:g} ms (Erlangs); needed: Erlang B level for "
        f"spill <= {budget if budget is not None else '(no budget)'}; cold: spilled requests "
        f"(upper bound on cold starts); $: expected USD at the level, $ o-d: with none"
    )
    table.caption_justify = "left"
    return table


def _apply(console: Console, schedule_path: Path, region: str | None) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from coldbrew.capacity.apply import apply_schedule
    from coldbrew.capacity.schedule import read_schedule

    schedule = read_schedule(schedule_path)  # apply exactly what was written
    console.print(f"applying to {schedule.resource_id} ({region or 'region from the AWS env'}):")
    try:
        client = boto3.client("application-autoscaling", region_name=region)
        result = apply_schedule(client, schedule, echo=lambda line: _plain(console, f"  {line}"))
    except (BotoCoreError, ClientError) as exc:
        raise click.ClickException(f"AWS: {exc}") from None
    console.print(
        f"applied: {len(result.put)} scheduled actions put ({', '.join(result.put)}), "
        f"{len(result.deleted)} stale deleted"
        + (f" ({', '.join(result.deleted)})" if result.deleted else "")
    )


@click.command("tune")
@argument(
    "trace",
    env="TUNE_TRACE",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@option(
    "--function",
    "function",
    env="TUNE_FUNCTION",
    default=None,
    help="The function (column/series name) in TRACE [default: the only one].",
)
@option(
    "--train-days",
    env="TUNE_TRAIN_DAYS",
    type=click.IntRange(3, 365),
    default=21,
    show_default=True,
    help="Whole days of the trace's end to choose and fit the forecaster on.",
)
@option(
    "--quantile",
    env="TUNE_QUANTILE",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Forecast quantile of each block's requests to provision for.",
)
@option(
    "--block-minutes",
    env="TUNE_BLOCK_MINUTES",
    type=click.IntRange(5, 1440),
    default=60,
    show_default=True,
    help="Schedule block: a multiple of 5 (Lambda's billing increment) dividing a day.",
)
@option(
    "--duration-ms",
    env="TUNE_DURATION_MS",
    type=click.FloatRange(0, 900_000, min_open=True),
    default=None,
    help="Mean request duration [default: the trace's, else 100].",
)
@option(
    "--memory",
    "memory_mb",
    env="TUNE_MEMORY_MB",
    type=click.IntRange(LAMBDA.memory_mb.low, LAMBDA.memory_mb.high),
    default=None,
    help="Function memory in MB [default: the trace's, else 1024].",
)
@option(
    "--overflow",
    env="TUNE_OVERFLOW",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.01,
    show_default=True,
    help="Budget: most requests per block that may spill to on demand (1: no budget).",
)
@option(
    "--cold-start-penalty-usd",
    env="TUNE_COLD_START_PENALTY_USD",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="What one cold start is worth to you, in USD (priced into the cost).",
)
@option(
    "--min-capacity",
    env="TUNE_MIN_CAPACITY",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Lowest level in any block.",
)
@option(
    "--max-capacity",
    env="TUNE_MAX_CAPACITY",
    type=click.IntRange(0),
    default=None,
    help="Highest level in any block [default: what the account allows].",
)
@option(
    "--account-concurrency",
    env="TUNE_ACCOUNT_CONCURRENCY",
    type=click.IntRange(100),
    default=1000,
    show_default=True,
    help="The account's concurrency limit; 100 must stay unreserved.",
)
@option(
    "--out",
    env="TUNE_OUT",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="The schedule file to write.",
)
@option(
    "--apply",
    "apply_",
    env="TUNE_APPLY",
    is_flag=True,
    help="Also put the schedule on AWS (Application Auto Scaling scheduled actions).",
)
@option(
    "--function-name",
    env="TUNE_FUNCTION_NAME",
    default=None,
    help="The Lambda function the schedule is for [default: --function].",
)
@option(
    "--alias",
    env="TUNE_ALIAS",
    default="live",
    show_default=True,
    help="The Lambda alias whose provisioned concurrency is scheduled.",
)
@option(
    "--region",
    env="TUNE_REGION",
    default=None,
    help="AWS region for --apply [default: AWS_REGION / AWS_DEFAULT_REGION]; "
    "gcf: the function's region.",
)
@tune_gcf_options
def command(
    trace: Path,
    function: str | None,
    train_days: int,
    quantile: float,
    block_minutes: int,
    duration_ms: float | None,
    memory_mb: int | None,
    overflow: float,
    cold_start_penalty_usd: float,
    min_capacity: int,
    max_capacity: int | None,
    account_concurrency: int,
    out: Path,
    apply_: bool,
    function_name: str | None,
    alias: str,
    region: str | None,
    platform: str,
    **gcf_settings: Any,
) -> None:
    """Forecast TRACE's next day, choose provisioned concurrency per block, write the schedule.

    \b
    1. The forecaster is chosen for the function by a rolling-origin backtest
       over the last --train-days whole days (it must beat seasonal naive to
       be used), then forecasts the --quantile of each block's requests.
    2. Per block, Erlang B gives the spill fraction at each level c; the
       level minimises provisioned + execution + on-demand cost + cold starts
       x --cold-start-penalty-usd, with spill <= --overflow, within the
       bounds and the account's unreserved concurrency.
    3. Adjacent equal levels merge; the schedule file (--out) holds one
       block per scheduled action, with its cron (UTC).

    With --apply, the scalable target is registered and one scheduled
    action per block is put (stale coldbrew-* actions deleted), after the
    calls are printed.

    \b
    --platform gcf prices the levels as Cloud Functions min instances, and
    --apply there puts one Cloud Scheduler job per block that sets the
    function's min instance count at the block's start (--function-name,
    --project, --region, --scheduler-service-account).
    """
    from rich.console import Console

    from coldbrew.capacity.day_forecast import forecast_day
    from coldbrew.capacity.schedule import hhmm, schedule_from_tuning, write_schedule
    from coldbrew.capacity.traces import load_trace
    from coldbrew.capacity.tuner import TunerSettings, tune

    console = Console()
    chosen = _pick(load_trace(trace), function, trace)
    # Validate the settings before the (slower) backtest, so a bad flag fails at once.
    settings = TunerSettings(
        block_s=block_minutes * 60,
        duration_s=(duration_ms or _trace_duration_ms(chosen) or DEFAULT_DURATION_MS) / 1000,
        memory_mb=memory_mb or chosen.memory_mb or DEFAULT_MEMORY_MB,
        cold_start_penalty_usd=cold_start_penalty_usd,
        max_cold_start_fraction=overflow,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        account_concurrency=account_concurrency,
    )
    with Console(stderr=True).status(f"backtesting forecasters on {chosen.name}"):
        forecast = forecast_day(
            chosen, quantile=quantile, block_s=settings.block_s, train_days=train_days
        )
    selection = forecast.selection
    verdict = "yes" if selection.beats_naive else "no"
    _plain(console, f"forecaster: {selection.chosen}; beats seasonal naive: {verdict}")
    _plain(console, f"  why: {selection.reason}")
    if forecast.fit_note:
        _plain(console, f"  note: {forecast.fit_note}")
    gaps = _gaps(chosen, forecast.train_start)
    if gaps:
        _plain(
            console,
            f"  gaps: {gaps['note']} {gaps['filled_in_training']} of them are in the "
            f"{train_days} training days.",
        )
    tuning = tune(forecast.counts, settings)
    console.print(_table(tuning, forecast))
    for block in tuning.blocks:
        if block.note:
            console.print(f"[red]![/] {hhmm(block.start_s)}: {block.note}")
    schedule = schedule_from_tuning(
        tuning,
        function=function_name or chosen.name,
        alias=alias,
        assumptions={
            "quantile": quantile,
            "memory_source": "flag" if memory_mb else ("trace" if chosen.memory_mb else "default"),
        },
        forecaster={
            "chosen": selection.chosen,
            "fitted": forecast.fitted_name,
            "beats_seasonal_naive": selection.beats_naive,
            "reason": selection.reason,
            "pinball_losses": {name: round(loss, 6) for name, loss in selection.losses},
            "quantile": quantile,
            "train_days": train_days,
            "train_start": forecast.train_start.isoformat(),
            "forecast_day": forecast.day_start.date().isoformat(),
            "trace": str(trace),
            "trace_function": chosen.name,
            **({"trace_gaps": gaps} if gaps else {}),
        },
    )
    path = write_schedule(schedule, out)
    saving = tuning.on_demand_daily_cost - tuning.daily_cost
    console.print(
        f"expected per day: ${tuning.daily_cost:.2f} (on demand only: "
        f"${tuning.on_demand_daily_cost:.2f}, {'saves' if saving >= 0 else 'costs'} "
        f"${abs(saving):.2f}), {tuning.expected_cold_starts:,.0f} cold starts at most"
    )
    actions = ", ".join(f"{b.start}->{b.min_capacity}" for b in schedule.blocks)
    _plain(console, f"{len(schedule.blocks)} scheduled actions (UTC): {actions}")
    _plain(console, f"schedule: {path}")
    if platform == "gcf":

        def say(line: str) -> None:
            _plain(console, line)

        print_gcf_cost(say, tuning, gcf_settings["gcf_cpu"])
        if apply_:
            apply_to_gcf(say, path, function=function_name, region=region, settings=gcf_settings)
    elif apply_:
        _apply(console, path, region)


def _gaps(series: TrafficSeries, train_start: datetime) -> dict[str, object]:
    """The trace's filled bins, for the terminal and the schedule file ({} if none)."""
    if not series.filled:
        return {}
    first = math.ceil((train_start - series.start).total_seconds() / series.step_s)
    return {
        "note": series.fill_note,
        "filled_bins": len(series.filled),
        "filled_in_training": sum(1 for i in series.filled if i >= first),
    }


def _trace_duration_ms(series: TrafficSeries) -> float | None:
    """The mean duration a trace recorded (Azure 2021 has them), if any."""
    if not series.durations_ms:
        return None
    return sum(series.durations_ms) / len(series.durations_ms)
