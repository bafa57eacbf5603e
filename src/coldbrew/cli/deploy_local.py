"""``coldbrew deploy --local``: deploy onto moto in this process, then serve the deployed bytes.

::

    deploy_local(console, artifact, report, head=..., make_spec=spec_for_role,
                 role_arn=None, role_name="embed-role", dry_run=False, moto_port=0,
                 serving=LocalServing("127.0.0.1", 9000, 4, None, cache_dir, None))

The code served is fetched back from moto's S3 and checked against the
built zip byte for byte, then served as ``coldbrew serve`` does
(:mod:`coldbrew.cli.serve_cmd`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coldbrew.cli.deploy_output import deploy_and_print, print_plain, print_summary
from coldbrew.errors import DeployError

if TYPE_CHECKING:
    from rich.console import Console

    from coldbrew.deploy.spec import DeploySpec

#: Stands in for the role until moto's is made: the spec is checked before the cloud starts.
_PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/placeholder"


@dataclass(frozen=True)
class LocalServing:
    """How ``--local`` serves the deployed code afterwards."""

    host: str
    port: int
    max_concurrency: int
    runtime_python: Path | None
    cache_dir: Path
    stop_after_s: float | None


def deploy_local(
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
    serving: LocalServing | None,
) -> None:
    """Deploy ``artifact`` onto a local moto, verify the deployed bytes, then serve them.

    ``make_spec`` gives the spec for a role ARN (``role_arn``, or the role
    ``role_name`` made in moto). ``serving`` ``None``: deploy and check, do not serve.
    """
    from coldbrew.cli.serve_cmd import emulator_config, serve_until_stopped
    from coldbrew.deploy.aws import aws_errors
    from coldbrew.deploy.execute import fetch_deployed_artifact
    from coldbrew.deploy.local_cloud import LocalCloud

    placeholder = make_spec(role_arn or _PLACEHOLDER_ROLE)
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
        print_plain(console, f"local cloud: {cloud.note}")
        role = role_arn
        if role is None:
            try:
                role, created = cloud.ensure_role(role_name)
            except aws_errors() as exc:
                raise DeployError(f"creating the IAM role in moto failed: {exc}") from None
            if created:
                print_plain(console, f"local cloud: created IAM role {role}")
        spec = make_spec(role)
        print_plain(console, f"deploying {head} as {spec.function_name} in {spec.region} (moto)")
        clients = cloud.clients()
        result = deploy_and_print(console, spec, clients, dry_run=dry_run)
        if result is None:
            return
        print_summary(console, spec, result, clients)
        if cloud.endpoint:
            print_plain(
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
            print_plain(
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
