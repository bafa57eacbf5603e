"""``coldbrew deploy --platform gcf``: the options and the run, beside the Lambda path.

:func:`gcf_options` adds the Cloud Functions flags to ``coldbrew deploy``;
:func:`deploy_to_gcf` describes the deployment once
(:class:`~coldbrew.deployment.description.Deployment`, validated against Cloud
Functions' limits), plans (:mod:`coldbrew.deploy.gcf_plan`) from what the
service reports and makes the calls (:mod:`coldbrew.deploy.gcf_execute`)
through Google's own clients (:mod:`coldbrew.deploy.gcf_client`), printing
each call, the operations' progress and the function's URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from coldbrew.cli.options import option, require_flags

F = TypeVar("F", bound=Callable[..., Any])

#: The description's fields as this command's flags, for its refusals.
SETTING_NAMES = {
    "function_name": "--name",
    "memory_mb": "--memory",
    "timeout_s": "--timeout",
    "cpu": "--cpu",
    "min_instances": "--min-instances",
    "max_instances": "--max-instances",
    "instance_concurrency": "--concurrency",
    "auth": "--allow-unauthenticated",
    "ingress": "--ingress",
    "env": "--env",
    "python": "the artifact's python (its build report)",
    "arch": "the artifact's arch (its build report)",
}


def gcf_options(command: F) -> F:
    """The ``--platform gcf`` flags (each also ``COLDBREW_DEPLOY_GCF_<NAME>``)."""
    options = [
        option(
            "--project",
            "gcf_project",
            env="DEPLOY_GCF_PROJECT",
            default=None,
            help="gcf: the Google Cloud project id.",
        ),
        option(
            "--cpu",
            "gcf_cpu",
            env="DEPLOY_GCF_CPU",
            type=float,
            default=1.0,
            show_default=True,
            help="gcf: vCPUs per instance.",
        ),
        option(
            "--concurrency",
            "gcf_concurrency",
            env="DEPLOY_GCF_CONCURRENCY",
            type=int,
            default=1,
            show_default=True,
            help="gcf: requests one instance serves at once (above 1 needs --cpu >= 1).",
        ),
        option(
            "--min-instances",
            "gcf_min_instances",
            env="DEPLOY_GCF_MIN_INSTANCES",
            type=int,
            default=0,
            show_default=True,
            help="gcf: instances kept warm (billed at the idle rate).",
        ),
        option(
            "--max-instances",
            "gcf_max_instances",
            env="DEPLOY_GCF_MAX_INSTANCES",
            type=int,
            default=10,
            show_default=True,
            help="gcf: the most instances at once.",
        ),
        option(
            "--ingress",
            "gcf_ingress",
            env="DEPLOY_GCF_INGRESS",
            default="ALLOW_ALL",
            show_default=True,
            help="gcf: ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB.",
        ),
        option(
            "--allow-unauthenticated/--no-allow-unauthenticated",
            "gcf_allow_unauthenticated",
            env="DEPLOY_GCF_ALLOW_UNAUTHENTICATED",
            default=False,
            show_default=True,
            help="gcf: let allUsers invoke (roles/run.invoker on its Cloud Run service).",
        ),
        option(
            "--entry-point",
            "gcf_entry_point",
            env="DEPLOY_GCF_ENTRY_POINT",
            default="handle",
            show_default=True,
            help="gcf: the function in main.py that serves requests.",
        ),
        option(
            "--api-endpoint",
            "gcf_api_endpoint",
            env="DEPLOY_GCF_API_ENDPOINT",
            default=None,
            help="gcf: send the API calls here, with anonymous credentials (a local fake).",
        ),
    ]
    for add_option in reversed(options):
        command = add_option(command)
    return command


#: ``--local``'s project and region: names the fake accepts, never a real project's.
LOCAL_PROJECT = "coldbrew-local"
LOCAL_REGION = "us-central1"


def deploy_to_gcf(
    *,
    artifact: Path | None,
    name: str | None,
    region: str | None,
    memory_mb: int,
    timeout_s: int,
    env: Mapping[str, str],
    dry_run: bool,
    settings: Mapping[str, Any],
    local: bool = False,
    serve: Callable[[Path], None] | None = None,
) -> None:
    """Deploy ``artifact`` as a Cloud Functions (2nd gen) HTTP function; print its URL.

    ``local``: onto the in-process fake of Google's API
    (:class:`~coldbrew.deploy.gcf_fake.FakeGoogleCloud`), through the same real
    clients, then check the uploaded source is the built zip byte for byte and
    hand the artifact to ``serve`` (functions-framework, as ``coldbrew serve``).
    """
    if not local:
        _deploy_to_gcf(artifact, name, region, memory_mb, timeout_s, env, dry_run, settings)
        return
    from rich.console import Console

    from coldbrew.deploy.built_artifact import locate_artifact
    from coldbrew.deploy.gcf_fake import FakeGoogleCloud
    from coldbrew.errors import DeployError

    artifact = locate_artifact(artifact)
    with FakeGoogleCloud(polls=1) as fake:
        Console(highlight=False).print(
            f"local Cloud Functions API (coldbrew's fake of Google's, for these clients): "
            f"{fake.endpoint}",
            markup=False,
        )
        local_settings = {
            **settings,
            "gcf_project": settings["gcf_project"] or LOCAL_PROJECT,
            "gcf_api_endpoint": fake.endpoint,
        }
        region = region or LOCAL_REGION
        _deploy_to_gcf(artifact, name, region, memory_mb, timeout_s, env, dry_run, local_settings)
        if dry_run:
            return
        built = artifact.read_bytes()
        if not any(data == built for data in fake.uploads.values()):
            raise DeployError(f"the source the fake received is not {artifact}, byte for byte")
        Console(highlight=False).print(
            f"checked: the deployed source is {artifact}, byte for byte", markup=False
        )
    if serve is not None:
        serve(artifact)


def _deploy_to_gcf(
    artifact: Path | None,
    name: str | None,
    region: str | None,
    memory_mb: int,
    timeout_s: int,
    env: Mapping[str, str],
    dry_run: bool,
    settings: Mapping[str, Any],
) -> None:
    from rich.console import Console

    from coldbrew.deploy.built_artifact import default_function_name, locate_artifact, read_build
    from coldbrew.deploy.gcf_client import google_gcf
    from coldbrew.deploy.gcf_execute import execute_gcf
    from coldbrew.deploy.gcf_plan import plan_gcf_deploy
    from coldbrew.deploy.gcf_spec import GcfFunctionSpec
    from coldbrew.deployment.description import Deployment

    project = settings["gcf_project"]
    require_flags(
        "deploying to Cloud Functions",
        (("--project", project), ("--region", region)),
        "(e.g. --project my-project --region europe-west1)",
    )
    console = Console(highlight=False)
    artifact = locate_artifact(artifact)
    report, sha256 = read_build(artifact)
    name = name or default_function_name(report).lower().replace("_", "-")[:63]
    deployment = Deployment(
        target="gcf",
        artifact=str(artifact),
        python=str(report["python"]),
        arch=str(report["arch"]),
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        function_name=name,
        cpu=settings["gcf_cpu"],
        min_instances=settings["gcf_min_instances"],
        max_instances=settings["gcf_max_instances"],
        instance_concurrency=settings["gcf_concurrency"],
        cold_start="min-instances" if settings["gcf_min_instances"] else "none",
        auth="NONE" if settings["gcf_allow_unauthenticated"] else "IAM",
        ingress=str(settings["gcf_ingress"]).upper(),
        env=env,
        setting_names=SETTING_NAMES,
    )
    spec = GcfFunctionSpec.from_deployment(
        deployment,
        project=str(project),
        region=str(region),
        source_sha256=sha256,
        entry_point=settings["gcf_entry_point"],
    )

    def say(line: str) -> None:
        console.print(line, markup=False)

    say(f"deploying {artifact} (sha256 {sha256[:12]}...) as {spec.function_name}")
    port = google_gcf(settings["gcf_api_endpoint"])
    observed = port.get_function(spec)
    plan = plan_gcf_deploy(spec, observed)
    for note in plan.notes:
        say(f"  {note}")
    if dry_run:
        for call in plan.calls:
            say(f"would call: {call.describe(spec)}")
        return
    if not plan.calls:
        say("unchanged: no calls made")
    result = execute_gcf(plan, port, observed, artifact.read_bytes(), say=say)
    auth = "public" if result.public else "IAM (roles/run.invoker)"
    say(f"url: {result.uri}  (invoker: {auth})")
