"""``coldbrew deploy``: a built zip as a Lambda function, version, alias and URL.

Thin: the options here become a :class:`~coldbrew.deploy.spec.DeploySpec` for
the zip :mod:`coldbrew.deploy.built_artifact` found and checked; what to call
is planned by :mod:`coldbrew.deploy.plan` (pure) from the state
:mod:`coldbrew.deploy.observe` reads, and the calls are made by
:mod:`coldbrew.deploy.execute`, printed by :mod:`coldbrew.cli.deploy_output`.
boto3 clients come from :mod:`coldbrew.deploy.aws`; ``--local``
(:mod:`coldbrew.cli.deploy_local`) points them at moto
(:mod:`coldbrew.deploy.local_cloud`) and then serves the deployed bytes with
what ``coldbrew serve`` uses (:mod:`coldbrew.cli.serve_cmd`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coldbrew.cli.deploy_gcf import deploy_to_gcf, gcf_options
from coldbrew.cli.options import (
    argument,
    cache_dir_option,
    host_option,
    max_concurrency_option,
    option,
    port_option,
    require_flags,
    runtime_python_option,
)
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.deployment.gcf import CLOUD_FUNCTIONS

if TYPE_CHECKING:
    from coldbrew.deploy.spec import DeploySpec

LOCAL_BUCKET = "coldbrew-local-artifacts"
LOCAL_REGION = "us-east-1"


@click.command("deploy")
@argument(
    "artifact",
    env="DEPLOY_ARTIFACT",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@option(
    "--platform",
    env="DEPLOY_PLATFORM",
    type=click.Choice(["lambda", "gcf"]),
    default="lambda",
    show_default=True,
    help="Deploy to AWS Lambda, or to Google Cloud Functions (2nd gen): the gcf: flags.",
)
@gcf_options
@option(
    "--local",
    env="DEPLOY_LOCAL",
    is_flag=True,
    help="Deploy onto moto in this process, then serve the deployed bytes until Ctrl-C.",
)
@option(
    "--function-name",
    "--name",
    env="DEPLOY_FUNCTION_NAME",
    default=None,
    help="Lambda function name [default: coldbrew-MODEL, from the build report].",
)
@option(
    "--role-arn",
    env="DEPLOY_ROLE_ARN",
    default=None,
    help="The function's execution role; required unless --local (which creates one in moto).",
)
@option(
    "--bucket",
    env="DEPLOY_BUCKET",
    default=None,
    help=f"S3 bucket for the zip; required unless --local [--local: {LOCAL_BUCKET}, created].",
)
@option(
    "--region",
    env="DEPLOY_REGION",
    default=None,
    help=f"AWS region [default: AWS_REGION / the profile's; --local: {LOCAL_REGION}].",
)
@option(
    "--memory",
    "memory_mb",
    env="DEPLOY_MEMORY_MB",
    type=int,
    default=1024,
    show_default=True,
    # Checked by the deployment description against the --platform's limits, in the
    # same words as `cdk synth`, not by click against one target's range.
    help=f"Function memory in MB (CPU share scales with it): Lambda {LAMBDA.memory_mb}, "
    f"Cloud Functions {CLOUD_FUNCTIONS.memory_mb}.",
)
@option(
    "--timeout",
    "timeout_s",
    env="DEPLOY_TIMEOUT_S",
    type=int,
    default=30,
    show_default=True,
    help=f"Function timeout in seconds: Lambda {LAMBDA.timeout_s}, "
    f"Cloud Functions {CLOUD_FUNCTIONS.timeout_s}.",
)
@option(
    "--alias",
    env="DEPLOY_ALIAS",
    default="live",
    show_default=True,
    help="The alias moved to each new version; the URL and provisioned concurrency are on it.",
)
@option(
    "--url-auth",
    env="DEPLOY_URL_AUTH",
    type=click.Choice(["AWS_IAM", "NONE"]),
    default="AWS_IAM",
    show_default=True,
    help="Function URL auth: AWS_IAM (signed requests) or NONE (public). "
    "The local URL checks no auth.",
)
@option(
    "--env",
    "env_pairs",
    env="DEPLOY_ENV",
    multiple=True,
    metavar="KEY=VALUE",
    help="Function environment variable; repeatable (the variable: space-separated).",
)
@option(
    "--schedule",
    "schedule_path",
    env="DEPLOY_SCHEDULE",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A `coldbrew tune` schedule: its scalable target and scheduled actions are put.",
)
@option(
    "--provisioned",
    env="DEPLOY_PROVISIONED",
    type=click.IntRange(0),
    default=None,
    help="A fixed provisioned-concurrency level on the alias (instead of --schedule).",
)
@option(
    "--reserved-concurrency",
    env="DEPLOY_RESERVED_CONCURRENCY",
    type=click.IntRange(0),
    default=None,
    help="The function's reserved concurrency: the most requests at once it may take. "
    "Required with --url-auth NONE, where it is what bounds a public URL's spend.",
)
@option(
    "--dry-run",
    env="DEPLOY_DRY_RUN",
    is_flag=True,
    help="Read the account and print the planned calls; change nothing.",
)
@option(
    "--moto-port",
    env="DEPLOY_MOTO_PORT",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="--local: port of the moto server (0: any free one).",
)
@host_option("--local: address the function URL listens on.")
@port_option("--local: port of the function URL (0: any free one).")
@max_concurrency_option("--local: most sandboxes at once.")
@runtime_python_option("--local: interpreter for the runtime venv [default: found by version].")
@option(
    "--serve-for",
    env="DEPLOY_SERVE_FOR",
    type=click.FloatRange(min=0),
    default=None,
    help="--local: serve this many seconds, then stop (0: deploy and check, do not serve) "
    "[default: until Ctrl-C].",
)
@cache_dir_option
def command(
    *,
    artifact: Path | None,
    platform: str,
    local: bool,
    function_name: str | None,
    role_arn: str | None,
    bucket: str | None,
    region: str | None,
    memory_mb: int,
    timeout_s: int,
    alias: str,
    url_auth: str,
    env_pairs: tuple[str, ...],
    schedule_path: Path | None,
    provisioned: int | None,
    reserved_concurrency: int | None,
    dry_run: bool,
    moto_port: int,
    host: str,
    port: int,
    max_concurrency: int,
    runtime_python: Path | None,
    serve_for: float | None,
    cache_dir: Path,
    **gcf_settings: Any,
) -> None:
    """Deploy ARTIFACT (a `coldbrew build` zip; default: the one in dist/) to Lambda.

    \b
    The zip goes to S3 under its sha256, then: create or update the function
    (code only when its sha256 changed, configuration only when a setting
    did), publish a version and move --alias to it (nothing when unchanged),
    a function URL on the alias, and --provisioned or --schedule on the
    alias. The account is read first and the calls are planned, then printed
    as they are made.

    \b
    --local deploys onto moto (a local AWS) running in this process, with an
    IAM role it creates, prints moto's endpoint (for `aws --endpoint-url`),
    fetches the deployed code back from S3, checks it is the built zip byte
    for byte, and serves it on a local function URL as `coldbrew serve` does.
    moto has no provisioned-concurrency API: --provisioned is recorded by an
    in-memory fake there, and the output says so.

    \b
    Without --local it deploys to your AWS account. `cdk deploy` (infra/) is
    the recommended path there: the stack also makes the role, the log group
    and least-privilege grants. This command is for accounts whose role and
    bucket are managed elsewhere: it needs --role-arn and --bucket, and
    creates neither. Use --dry-run to see the calls first.
    """
    from rich.console import Console

    from coldbrew.deploy.built_artifact import default_function_name, locate_artifact, read_build
    from coldbrew.deploy.spec import DeploySpec
    from coldbrew.emulate.settings import parse_env_pairs

    if platform == "gcf":
        env = parse_env_pairs(env_pairs)

        def serve(built: Path) -> None:
            if serve_for == 0:
                return
            from coldbrew.cli.serve_cmd import gcf_server, serve_gcf_until_stopped

            console = Console(highlight=False)
            report, _ = read_build(built)
            server = gcf_server(
                console, built, str(report["python"]), cache_dir, runtime_python, host, port,
                env=env,
            )  # fmt: skip
            serve_gcf_until_stopped(console, server, stop_after_s=serve_for)

        deploy_to_gcf(
            artifact=artifact,
            name=function_name,
            region=region,
            memory_mb=memory_mb,
            timeout_s=timeout_s,
            env=env,
            dry_run=dry_run,
            settings=gcf_settings,
            local=local,
            serve=serve,
        )
        return

    console = Console(highlight=False)
    artifact = locate_artifact(artifact)
    report, sha256 = read_build(artifact)
    schedule = None
    if schedule_path is not None:
        from coldbrew.capacity.schedule import read_schedule

        schedule = read_schedule(schedule_path)
    env = parse_env_pairs(env_pairs)
    name = function_name or default_function_name(report)
    python, arch = str(report["python"]), str(report["arch"])

    def spec_for(role: str, bucket_name: str, region_name: str, create_bucket: bool) -> DeploySpec:
        return DeploySpec(
            artifact=str(artifact),
            sha256=sha256,
            function_name=name,
            role_arn=role,
            bucket=bucket_name,
            region=region_name,
            runtime=f"python{python}",
            arch=arch,
            memory_mb=memory_mb,
            timeout_s=timeout_s,
            env=env,
            alias=alias,
            url_auth="NONE" if url_auth == "NONE" else "AWS_IAM",
            description=f"coldbrew: {artifact.name}",
            schedule=schedule,
            provisioned_concurrency=provisioned,
            reserved_concurrency=reserved_concurrency,
            create_bucket=create_bucket,
        )

    size_mb = artifact.stat().st_size / 1024 / 1024
    head = f"{artifact} (sha256 {sha256[:12]}..., python {python}, {arch}, {size_mb:.1f} MB)"
    if not local:
        from coldbrew.cli.deploy_output import deploy_and_print, print_plain, print_summary
        from coldbrew.deploy.aws import boto3_clients, resolve_region

        require_flags(
            "deploying to AWS",
            (("--role-arn", role_arn), ("--bucket", bucket)),
            "(managed elsewhere); or deploy with `cdk deploy` (infra/), "
            "or try it locally with --local",
        )
        assert role_arn is not None and bucket is not None
        region = resolve_region(region)
        spec = spec_for(role_arn, bucket, region, create_bucket=False)
        print_plain(console, f"deploying {head} as {name} in {region}")
        clients = boto3_clients(region=region)
        result = deploy_and_print(console, spec, clients, dry_run=dry_run)
        if result is not None:
            print_summary(console, spec, result, clients)
        return
    from coldbrew.cli.deploy_local import LocalServing, deploy_local

    serving = None
    if not dry_run and serve_for != 0:
        serving = LocalServing(host, port, max_concurrency, runtime_python, cache_dir, serve_for)
    region = region or LOCAL_REGION
    deploy_local(
        console,
        artifact,
        report,
        head=head,
        make_spec=lambda role: spec_for(role, bucket or LOCAL_BUCKET, region, create_bucket=True),
        role_arn=role_arn or None,
        role_name=f"{name}-role"[:64],
        dry_run=dry_run,
        moto_port=moto_port,
        serving=serving,
    )
