"""A ``coldbrew tune`` schedule as Cloud Functions min instances, through Cloud Scheduler.

Cloud Functions has no scheduled minimum, so each block of the schedule
becomes one Cloud Scheduler job, ``coldbrew-<function>-HHMM``, that at the
block's start (cron in UTC) sends the Cloud Functions v2 API::

    PATCH https://cloudfunctions.googleapis.com/v2/projects/P/locations/R/functions/N
          ?updateMask=serviceConfig.minInstanceCount
    {"serviceConfig": {"minInstanceCount": <the block's gcf.min_instance_count>}}

with an OAuth token for the scheduler's service account (which needs
``roles/cloudfunctions.developer`` on the function). The level holds until
the next block's job. A ``coldbrew deploy --platform gcf`` afterwards sets
``--min-instances`` again until the next job runs.

Pure: :func:`desired_jobs` turns a schedule into :class:`MinInstancesJob`\\ s,
:func:`plan_jobs` compares them with the jobs that exist and gives the
creates, updates and deletes (an unchanged schedule: none), and
:func:`price_tuning` prices the tuner's blocks at Cloud Run functions' rates
(:mod:`coldbrew.capacity.gcf_pricing`). The calls are made by
:mod:`coldbrew.deploy.gcf_scheduler`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from coldbrew.capacity.gcf_pricing import TIER1, GcfBlockCost, GcfInstance, GcfPrices, block_cost
from coldbrew.capacity.schedule_types import Schedule, minutes_of
from coldbrew.capacity.tuner import Tuning
from coldbrew.deployment import gcf
from coldbrew.errors import ConfigurationError

API = "https://cloudfunctions.googleapis.com/v2"
MASK = "serviceConfig.minInstanceCount"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TIME_ZONE = "Etc/UTC"


@dataclass(frozen=True)
class GcfTarget:
    """The function a schedule is applied to, and who the scheduler calls as."""

    project: str
    region: str
    function: str
    service_account: str

    def __post_init__(self) -> None:
        if not re.fullmatch(gcf.FUNCTION_NAME_PATTERN, self.function):
            raise ConfigurationError(
                f"Cloud Function name {self.function!r}: lowercase letters, digits and "
                "hyphens, starting with a letter: pass --function-name"
            )
        if not self.service_account or "@" not in self.service_account:
            raise ConfigurationError(
                "--scheduler-service-account must be a service account e-mail "
                "(it needs roles/cloudfunctions.developer on the function)"
            )

    @property
    def parent(self) -> str:
        """``projects/P/locations/R``: where the jobs live."""
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def prefix(self) -> str:
        """Jobs named with this are coldbrew's for this function (and deleted when stale)."""
        return f"{self.parent}/jobs/coldbrew-{self.function}-"


@dataclass(frozen=True)
class MinInstancesJob:
    """One Cloud Scheduler job, reduced to what coldbrew sets and compares."""

    name: str
    cron: str
    time_zone: str
    uri: str
    body: str
    service_account: str


@dataclass(frozen=True)
class JobCall:
    """``create``, ``update`` or ``delete`` of one job."""

    action: Literal["create", "update", "delete"]
    job: MinInstancesJob

    def describe(self) -> str:
        """One line: the action, the job's short name, its cron and body."""
        short = self.job.name.rsplit("/", 1)[-1]
        if self.action == "delete":
            return f"scheduler delete_job {short}"
        return f"scheduler {self.action}_job {short} '{self.job.cron}' {self.job.body}"


def cron_of(start: str) -> str:
    """Cloud Scheduler's unix-cron for every day at ``start`` (UTC)."""
    minutes = minutes_of(start)
    return f"{minutes % 60} {minutes // 60} * * *"


def desired_jobs(schedule: Schedule, target: GcfTarget) -> tuple[MinInstancesJob, ...]:
    """One job per block: at its start, PATCH the function's min instance count."""
    function = f"{target.parent}/functions/{target.function}"
    return tuple(
        MinInstancesJob(
            name=target.prefix + block.start.replace(":", ""),
            cron=cron_of(block.start),
            time_zone=TIME_ZONE,
            uri=f"{API}/{function}?updateMask={MASK}",
            body=json.dumps(
                {"serviceConfig": {"minInstanceCount": block.gcf_min_instance_count}},
                separators=(",", ":"),
            ),
            service_account=target.service_account,
        )
        for block in schedule.blocks
    )


def plan_jobs(
    desired: Sequence[MinInstancesJob], existing: Sequence[MinInstancesJob], prefix: str
) -> tuple[JobCall, ...]:
    """Creates for new blocks, updates for changed ones, deletes for stale coldbrew jobs.

    Only jobs whose name starts with ``prefix`` are ever deleted; a job equal
    to its desired one is left alone.
    """
    there = {job.name: job for job in existing}
    wanted = {job.name for job in desired}
    calls = [
        JobCall("create" if job.name not in there else "update", job)
        for job in desired
        if there.get(job.name) != job
    ]
    calls += [
        JobCall("delete", job)
        for job in existing
        if job.name.startswith(prefix) and job.name not in wanted
    ]
    return tuple(calls)


def price_tuning(
    tuning: Tuning, instance: GcfInstance, prices: GcfPrices = TIER1
) -> tuple[float, float]:
    """The day's cost with the tuner's levels as min instances, and with none."""
    scheduled: list[GcfBlockCost] = []
    none: list[GcfBlockCost] = []
    for block in tuning.blocks:
        seconds = block.end_s - block.start_s
        for level, out in ((block.level, scheduled), (0, none)):
            out.append(
                block_cost(
                    seconds=seconds,
                    load=block.load,
                    rate_per_s=block.rate_per_s,
                    min_instances=level,
                    instance=instance,
                    prices=prices,
                )
            )
    return sum(c.total for c in scheduled), sum(c.total for c in none)
