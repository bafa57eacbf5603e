"""Cloud Scheduler jobs for a min-instances schedule, through Google's real client.

::

    client = google_scheduler()                     # or api_endpoint=fake.endpoint
    existing = list_jobs(client, target)
    calls = plan_jobs(desired_jobs(schedule, target), existing, target.prefix)
    apply_jobs(client, calls, say=print)

The plan is pure (:mod:`coldbrew.capacity.gcf_schedule`); here the jobs are
read and written with ``scheduler_v1.CloudSchedulerClient`` over REST.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from coldbrew.capacity.gcf_schedule import SCOPE, GcfTarget, JobCall, MinInstancesJob
from coldbrew.deploy.gcf_client import api_errors, client_kwargs
from coldbrew.errors import DeployError

#: What a refused scheduler call needs (the rest as for a deploy).
FIXES = {
    403: "the applying identity needs roles/cloudscheduler.admin in --project and "
    "roles/iam.serviceAccountUser on --scheduler-service-account, and the Cloud Scheduler "
    "API enabled",
    409: "a job of that name exists already: run the apply again",
}
#: The fields coldbrew sets on a job, and so the update mask of an update.
JOB_FIELDS = ("schedule", "time_zone", "http_target", "description")


def google_scheduler(api_endpoint: str | None = None) -> Any:
    """The real client: default credentials, or anonymous ones against ``api_endpoint``."""
    try:
        from google.cloud import scheduler_v1
    except ImportError:
        raise DeployError(
            "applying to Cloud Functions needs Google's clients: pip install 'coldbrew[gcp]'"
        ) from None
    kwargs = client_kwargs(api_endpoint)
    try:
        return scheduler_v1.CloudSchedulerClient(**kwargs)
    except Exception as error:  # google.auth's DefaultCredentialsError and kin
        raise DeployError(
            f"no Google credentials ({' '.join(str(error).split())[:200]}): "
            "run `gcloud auth application-default login`"
        ) from None


def list_jobs(client: Any, target: GcfTarget) -> tuple[MinInstancesJob, ...]:
    """The jobs under ``target``'s location that carry an HTTP target, reduced."""
    with api_errors("list_jobs", FIXES):
        jobs = list(client.list_jobs(parent=target.parent))
    return tuple(
        MinInstancesJob(
            name=job.name,
            cron=job.schedule,
            time_zone=job.time_zone,
            uri=job.http_target.uri,
            body=bytes(job.http_target.body).decode("utf-8", "replace"),
            service_account=job.http_target.oauth_token.service_account_email,
        )
        for job in jobs
        if job.http_target.uri
    )


def _job(job: MinInstancesJob) -> Any:
    from google.cloud import scheduler_v1

    return scheduler_v1.Job(
        name=job.name,
        description="coldbrew: the min instance count of a Cloud Function from `coldbrew tune`",
        schedule=job.cron,
        time_zone=job.time_zone,
        http_target=scheduler_v1.HttpTarget(
            uri=job.uri,
            http_method=scheduler_v1.HttpMethod.PATCH,
            headers={"Content-Type": "application/json"},
            body=job.body.encode(),
            oauth_token=scheduler_v1.OAuthToken(
                service_account_email=job.service_account, scope=SCOPE
            ),
        ),
    )


def apply_jobs(
    client: Any, target: GcfTarget, calls: Sequence[JobCall], say: Callable[[str], None]
) -> None:
    """Make each call in order, announcing it first."""
    mask: Any = importlib.import_module("google.protobuf.field_mask_pb2")
    for call in calls:
        say(call.describe())
        with api_errors(f"{call.action}_job", FIXES):
            if call.action == "create":
                client.create_job(parent=target.parent, job=_job(call.job))
            elif call.action == "update":
                client.update_job(
                    job=_job(call.job), update_mask=mask.FieldMask(paths=list(JOB_FIELDS))
                )
            else:
                client.delete_job(name=call.job.name)
