"""``coldbrew tune --platform gcf``: the schedule as Cloud Functions min instances.

:func:`tune_gcf_options` adds the flags; :func:`print_gcf_cost` prices the
tuner's levels as min instances at Cloud Run functions' rates;
:func:`apply_to_gcf` plans the Cloud Scheduler jobs
(:mod:`coldbrew.capacity.gcf_schedule`) against those that exist and makes
the calls (:mod:`coldbrew.deploy.gcf_scheduler`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from coldbrew.cli.options import option, require_flags

if TYPE_CHECKING:
    from coldbrew.capacity.tuner import Tuning

F = TypeVar("F", bound=Callable[..., Any])


def tune_gcf_options(command: F) -> F:
    """``--platform``, and the gcf flags (each also ``COLDBREW_TUNE_GCF_<NAME>``)."""
    options = [
        option(
            "--platform",
            env="TUNE_PLATFORM",
            type=click.Choice(["lambda", "gcf"]),
            default="lambda",
            show_default=True,
            help="Price and --apply for AWS Lambda (provisioned concurrency) or Google "
            "Cloud Functions (min instances through Cloud Scheduler jobs).",
        ),
        option(
            "--project",
            "gcf_project",
            env="TUNE_GCF_PROJECT",
            default=None,
            help="gcf: the Google Cloud project id.",
        ),
        option(
            "--scheduler-service-account",
            "gcf_service_account",
            env="TUNE_GCF_SERVICE_ACCOUNT",
            default=None,
            help="gcf --apply: the e-mail the jobs call the API as "
            "(needs roles/cloudfunctions.developer on the function).",
        ),
        option(
            "--cpu",
            "gcf_cpu",
            env="TUNE_GCF_CPU",
            type=click.FloatRange(min=0.001),
            default=1.0,
            show_default=True,
            help="gcf: vCPUs per instance, for the price.",
        ),
        option(
            "--api-endpoint",
            "gcf_api_endpoint",
            env="TUNE_GCF_API_ENDPOINT",
            default=None,
            help="gcf: send the API calls here, with anonymous credentials (a local fake).",
        ),
    ]
    for add_option in reversed(options):
        command = add_option(command)
    return command


def print_gcf_cost(say: Callable[[str], None], tuning: Tuning, cpu: float) -> None:
    """The day's cost with the levels as min instances, against none, at Tier 1 prices."""
    from coldbrew.capacity.gcf_pricing import TIER1, GcfInstance
    from coldbrew.capacity.gcf_schedule import price_tuning

    instance = GcfInstance(cpu=cpu, memory_mb=tuning.settings.memory_mb)
    scheduled, none = price_tuning(tuning, instance)
    say(
        f"Cloud Functions, {cpu:g} vCPU / {instance.memory_mb} MB, one request per instance: "
        f"${scheduled:.2f} per day with these min instances (idle at the idle rate), "
        f"${none:.2f} with none ({TIER1.source})"
    )


def apply_to_gcf(
    say: Callable[[str], None],
    schedule_path: Path,
    *,
    function: str | None,
    region: str | None,
    settings: Mapping[str, Any],
) -> None:
    """One Cloud Scheduler job per block; unchanged jobs left alone, stale ones deleted."""
    from coldbrew.capacity.gcf_schedule import GcfTarget, desired_jobs, plan_jobs
    from coldbrew.capacity.schedule import read_schedule
    from coldbrew.deploy.gcf_scheduler import apply_jobs, google_scheduler, list_jobs

    project = settings["gcf_project"]
    require_flags(
        "--apply --platform gcf",
        (("--project", project), ("--region", region)),
        "(e.g. --project my-project --region europe-west1)",
    )
    schedule = read_schedule(schedule_path)  # apply exactly what was written
    target = GcfTarget(
        project=str(project),
        region=str(region),
        function=function or schedule.function,
        service_account=str(settings["gcf_service_account"] or ""),
    )
    client = google_scheduler(settings["gcf_api_endpoint"])
    calls = plan_jobs(desired_jobs(schedule, target), list_jobs(client, target), target.prefix)
    say(f"applying to {target.parent}/functions/{target.function} (Cloud Scheduler jobs):")
    apply_jobs(client, target, calls, say=lambda line: say(f"  {line}"))
    counts = {a: sum(c.action == a for c in calls) for a in ("create", "update", "delete")}
    unchanged = len(schedule.blocks) - counts["create"] - counts["update"]
    say(
        f"applied: {counts['create']} jobs created, {counts['update']} updated, "
        f"{counts['delete']} stale deleted, {unchanged} unchanged"
    )
