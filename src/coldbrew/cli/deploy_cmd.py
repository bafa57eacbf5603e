"""``coldbrew deploy``: a built zip as a Lambda function, version, alias and URL.

Thin: what to call is planned by :mod:`coldbrew.deploy.plan` (pure) from the
state :mod:`coldbrew.deploy.observe` reads, and the calls are made by
:mod:`coldbrew.deploy.execute`. boto3 clients come from
:mod:`coldbrew.deploy.aws`; ``--local`` points them at moto
(:mod:`coldbrew.deploy.local_cloud`) and then serves the deployed bytes with
what ``coldbrew serve`` uses (:mod:`coldbrew.cli.serve_cmd`).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coldbrew import config
from coldbrew.cli.options import cache_dir_option
from coldbrew.errors import ConfigurationError, DeployError

if TYPE_CHECKING:
    from rich.console import Console

    from coldbrew.deploy.clients import DeployClients
    from coldbrew.deploy.execute import DeployResult
    from coldbrew.deploy.plan import DeploySpec

LOCAL_BUCKET = "coldbrew-local-artifacts"
LOCAL_REGION = "us-east-1"
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def _plain(console: Console, line: str) -> None:
    """A line printed as is: no markup, no highlighting, never wrapped (it may be parsed)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _locate_artifact(artifact: Path | None) -> Path:
    if artifact is None:
        found = sorted(Path("dist").glob("*.zip"))
        if len(found) != 1:
            what = "no zip" if not found else f"{len(found)} zips"
            raise DeployError(
                f"dist/ holds {what}: build one with `coldbrew build`, or name the ARTIFACT"
            )
        artifact = found[0]
    if not artifact.is_file():
        raise DeployError(f"{artifact}: no such artifact: build it with `coldbrew build`")
    return artifact


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _read_build(artifact: Path) -> tuple[Mapping[str, Any], str]:
    """The artifact's build report, checked against the zip; and the zip's sha256."""
    from coldbrew.build.report import read_report_json, report_path

    report = read_report_json(artifact)
    if not report.get("python") or not report.get("arch"):
        raise DeployError(
            f"{artifact} has no build report ({report_path(artifact).name}) naming its python "
            "and arch: build it with `coldbrew build`"
        )
    layout = str((report.get("layout") or {}).get("layout", "zip"))
    if layout != "zip":
        raise DeployError(
            f"{artifact} was built with the {layout} layout; coldbrew deploy ships one zip: "
            "deploy it with `cdk deploy` (infra/), or rebuild with `coldbrew build --layout zip`"
        )
    sha256 = _sha256(artifact)
    if report.get("sha256") and report["sha256"] != sha256:
        raise DeployError(
            f"{artifact} is not the zip its build report describes (sha256 {sha256[:12]}..., "
            f"report {str(report['sha256'])[:12]}...): rebuild it with `coldbrew build`"
        )
    return report, sha256


def _default_function_name(report: Mapping[str, Any]) -> str:
    model = _NOT_A_NAME.sub("-", str(report.get("model") or "model")).strip("-")
    return f"coldbrew-{model}"[:64]


def _deploy(
    console: Console, spec: DeploySpec, clients: DeployClients, *, dry_run: bool
) -> DeployResult | None:
    """Observe, plan, print, execute (unless ``dry_run``); AWS errors become one line."""
    from coldbrew.deploy.aws import aws_errors
    from coldbrew.deploy.execute import execute_plan
    from coldbrew.deploy.observe import observe
    from coldbrew.deploy.plan import plan_deploy

    try:
        observed = observe(spec, clients)
    except aws_errors() as exc:
        raise DeployError(
            f"reading the account failed: {exc} (check the AWS credentials and region, "
            "or use --local)"
        ) from None
    plan = plan_deploy(spec, observed)
    if plan.notes:
        console.print("[bold]found[/]:")
        for note in plan.notes:
            _plain(console, f"  {note}")
    if dry_run:
        console.print(f"[bold]plan[/] (--dry-run: nothing is changed), {len(plan.calls)} calls:")
        for call in plan.calls:
            _plain(console, f"  {call.describe()}")
        return None
    console.print(f"[bold]calls[/] ({len(plan.calls)}):")
    result = execute_plan(plan, clients, echo=lambda line: _plain(console, f"  {line}"))
    if not plan.calls:
        _plain(console, "  none: everything is as this deploy wants it")
    return result


def _summary(
    console: Console, spec: DeploySpec, result: DeployResult, clients: DeployClients
) -> None:
    _plain(
        console,
        f"deployed {spec.function_name}: alias {spec.alias} -> version {result.version}; "
        f"function URL ({spec.url_auth}): {result.url}",
    )
    if spec.provisioned_concurrency is not None:
        if clients.provisioned.applied:
            _plain(
                console,
                f"provisioned concurrency: {spec.provisioned_concurrency} requested on "
                f"{spec.alias}; Lambda allocates it over the next minutes",
            )
        else:
            _plain(
                console,
                f"provisioned concurrency: {spec.provisioned_concurrency} on {spec.alias} was "
                "recorded by an in-memory fake, NOT applied: moto has no "
                "provisioned-concurrency API",
            )
    if result.schedule is not None:
        deleted = result.schedule.deleted
        _plain(
            console,
            f"schedule on {result.schedule.resource_id}: {len(result.schedule.put)} scheduled "
            f"actions put ({', '.join(result.schedule.put)}), {len(deleted)} stale deleted"
            + (f" ({', '.join(deleted)})" if deleted else ""),
        )


@click.command("deploy")
@click.argument(
    "artifact",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=config.DEPLOY_ARTIFACT,
)
@click.option(
    "--local",
    is_flag=True,
    envvar=config.DEPLOY_LOCAL,
    show_envvar=True,
    help="Deploy onto moto in this process, then serve the deployed bytes until Ctrl-C.",
)
@click.option(
    "--function-name",
    default=None,
    envvar=config.DEPLOY_FUNCTION_NAME,
    show_envvar=True,
    help="Lambda function name [default: coldbrew-MODEL, from the build report].",
)
@click.option(
    "--role-arn",
    default=None,
    envvar=config.DEPLOY_ROLE_ARN,
    show_envvar=True,
    help="The function's execution role; required unless --local (which creates one in moto).",
)
@click.option(
    "--bucket",
    default=None,
    envvar=config.DEPLOY_BUCKET,
    show_envvar=True,
    help=f"S3 bucket for the zip; required unless --local [--local: {LOCAL_BUCKET}, created].",
)
@click.option(
    "--region",
    default=None,
    envvar=config.DEPLOY_REGION,
    show_envvar=True,
    help=f"AWS region [default: AWS_REGION / the profile's; --local: {LOCAL_REGION}].",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(128, 10_240),
    default=1024,
    show_default=True,
    envvar=config.DEPLOY_MEMORY_MB,
    show_envvar=True,
    help="Function memory in MB (CPU share scales with it).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.IntRange(1, 900),
    default=30,
    show_default=True,
    envvar=config.DEPLOY_TIMEOUT_S,
    show_envvar=True,
    help="Function timeout in seconds.",
)
@click.option(
    "--alias",
    default="live",
    show_default=True,
    envvar=config.DEPLOY_ALIAS,
    show_envvar=True,
    help="The alias moved to each new version; the URL and provisioned concurrency are on it.",
)
@click.option(
    "--url-auth",
    type=click.Choice(["AWS_IAM", "NONE"]),
    default="AWS_IAM",
    show_default=True,
    envvar=config.DEPLOY_URL_AUTH,
    show_envvar=True,
    help="Function URL auth: AWS_IAM (signed requests) or NONE (public). "
    "The local URL checks no auth.",
)
@click.option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Function environment variable; repeatable.",
)
@click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    envvar=config.DEPLOY_SCHEDULE,
    show_envvar=True,
    help="A `coldbrew tune` schedule: its scalable target and scheduled actions are put.",
)
@click.option(
    "--provisioned",
    type=click.IntRange(0),
    default=None,
    envvar=config.DEPLOY_PROVISIONED,
    show_envvar=True,
    help="A fixed provisioned-concurrency level on the alias (instead of --schedule).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    envvar=config.DEPLOY_DRY_RUN,
    show_envvar=True,
    help="Read the account and print the planned calls; change nothing.",
)
@click.option(
    "--moto-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    envvar=config.DEPLOY_MOTO_PORT,
    show_envvar=True,
    help="--local: port of the moto server (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar=config.HOST,
    show_envvar=True,
    help="--local: address the function URL listens on.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=9000,
    show_default=True,
    envvar=config.PORT,
    show_envvar=True,
    help="--local: port of the function URL (0: any free one).",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    envvar=config.MAX_CONCURRENCY,
    show_envvar=True,
    help="--local: most sandboxes at once.",
)
@click.option(
    "--runtime-python",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    envvar=config.RUNTIME_PYTHON,
    show_envvar=True,
    help="--local: interpreter for the runtime venv [default: found by version].",
)
@click.option(
    "--serve-for",
    type=click.FloatRange(min=0),
    default=None,
    envvar=config.DEPLOY_SERVE_FOR,
    show_envvar=True,
    help="--local: serve this many seconds, then stop (0: deploy and check, do not serve) "
    "[default: until Ctrl-C].",
)
@cache_dir_option
def command(
    *,
    artifact: Path | None,
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
    dry_run: bool,
    moto_port: int,
    host: str,
    port: int,
    max_concurrency: int,
    runtime_python: Path | None,
    serve_for: float | None,
    cache_dir: Path,
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

    from coldbrew.deploy.plan import DeploySpec
    from coldbrew.emulate.settings import parse_env_pairs

    console = Console(highlight=False)
    artifact = _locate_artifact(artifact)
    report, sha256 = _read_build(artifact)
    schedule = None
    if schedule_path is not None:
        from coldbrew.capacity.schedule import read_schedule

        schedule = read_schedule(schedule_path)
    env = parse_env_pairs(env_pairs)
    name = function_name or _default_function_name(report)
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
            create_bucket=create_bucket,
        )

    size_mb = artifact.stat().st_size / 1024 / 1024
    head = f"{artifact} (sha256 {sha256[:12]}..., python {python}, {arch}, {size_mb:.1f} MB)"
    if not local:
        from coldbrew.deploy.aws import boto3_clients, resolve_region

        missing = [f for f, v in (("--role-arn", role_arn), ("--bucket", bucket)) if not v]
        if missing:
            raise ConfigurationError(
                f"deploying to AWS needs {' and '.join(missing)} (managed elsewhere); "
                "or deploy with `cdk deploy` (infra/), or try it locally with --local"
            )
        assert role_arn is not None and bucket is not None
        region = resolve_region(region)
        spec = spec_for(role_arn, bucket, region, create_bucket=False)
        _plain(console, f"deploying {head} as {name} in {region}")
        clients = boto3_clients(region=region)
        result = _deploy(console, spec, clients, dry_run=dry_run)
        if result is not None:
            _summary(console, spec, result, clients)
        return
    serving = None
    if not dry_run and serve_for != 0:
        serving = _Serving(host, port, max_concurrency, runtime_python, cache_dir, serve_for)
    region = region or LOCAL_REGION
    _deploy_local(
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


@dataclass(frozen=True)
class _Serving:
    """How ``--local`` serves the deployed code afterwards."""

    host: str
    port: int
    max_concurrency: int
    runtime_python: Path | None
    cache_dir: Path
    stop_after_s: float | None


def _deploy_local(
    console: Console,
    artifact: Path,
    report: Mapping[str, Any],
    *,
    head: str,
    make_spec: Callable[[str], DeploySpec],
    role_arn: str | None,
    role_name: str,
    dry_run: bool,
    moto_port: int,
    serving: _Serving | None,
) -> None:
    from coldbrew.cli.serve_cmd import emulator_config, serve_until_stopped
    from coldbrew.deploy.aws import aws_errors
    from coldbrew.deploy.execute import fetch_deployed_artifact
    from coldbrew.deploy.local_cloud import LocalCloud

    placeholder = make_spec(role_arn or "arn:aws:iam::000000000000:role/placeholder")
    settings = None
    if serving is not None:  # refuse an unservable artifact (arm64 here) before deploying
        settings = emulator_config(
            console,
            artifact,
            python=None,
            report=report,
            cache_dir=serving.cache_dir,
            runtime_python=serving.runtime_python,
            memory_mb=placeholder.memory_mb,
            timeout_s=float(placeholder.timeout_s),
            max_concurrency=serving.max_concurrency,
            env=placeholder.env,
            function_name=placeholder.function_name,
            region=placeholder.region,
            handler=placeholder.handler,
        )
    with LocalCloud(region=placeholder.region, port=moto_port) as cloud:
        _plain(console, f"local cloud: {cloud.note}")
        role = role_arn
        if role is None:
            try:
                role, created = cloud.ensure_role(role_name)
            except aws_errors() as exc:
                raise DeployError(f"creating the IAM role in moto failed: {exc}") from None
            if created:
                _plain(console, f"local cloud: created IAM role {role}")
        spec = make_spec(role)
        _plain(console, f"deploying {head} as {spec.function_name} in {spec.region} (moto)")
        clients = cloud.clients()
        result = _deploy(console, spec, clients, dry_run=dry_run)
        if result is None:
            return
        _summary(console, spec, result, clients)
        if cloud.endpoint:
            _plain(
                console,
                f"moto endpoint: {cloud.endpoint} (while this runs; any credentials), e.g. "
                f"aws --endpoint-url {cloud.endpoint} --region {spec.region} lambda get-alias "
                f"--function-name {spec.function_name} --name {spec.alias}",
            )
        with tempfile.TemporaryDirectory(prefix="coldbrew-deploy-") as tmp:
            try:
                served = fetch_deployed_artifact(spec, clients, Path(tmp) / artifact.name)
            except aws_errors() as exc:
                raise DeployError(f"fetching the deployed code back failed: {exc}") from None
            _plain(
                console,
                f"verified: {spec.function_name}:{spec.alias} runs CodeSha256 "
                f"{spec.code_sha256}, and s3://{spec.bucket}/{spec.key} is the built zip "
                f"byte for byte (sha256 {spec.sha256})",
            )
            if serving is None or settings is None:
                return
            serve_until_stopped(
                console,
                settings.with_changes(artifact=served),
                host=serving.host,
                port=serving.port,
                label=f"{spec.function_name}:{spec.alias} (version {result.version}, "
                f"fetched from s3://{spec.bucket}/{spec.key})",
                stop_after_s=serving.stop_after_s,
            )
