"""The acceptance check of the one deployment description: the CLI path (``coldbrew
deploy``'s spec) and the CDK path (``cdk.json`` context) refuse the same bad
setting with the same words, each naming the setting as its user wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from coldbrew.capacity.schedule import read_schedule
from coldbrew.deploy.spec import CLI_SETTING_NAMES, DeploySpec
from coldbrew.errors import ConfigurationError
from infra import context_keys as k
from infra.settings import CDK_SETTING_NAMES, DeploymentSettings

if TYPE_CHECKING:
    from conftest import ArtifactFactory, ScheduleFactory


def _cli_refusal(**changes: Any) -> str:
    values: dict[str, Any] = {
        "artifact": "dist/x.zip",
        "sha256": "ab" * 32,
        "function_name": "embed",
        "role_arn": "arn:aws:iam::123456789012:role/r",
        "bucket": "my-artifacts",
    }
    with pytest.raises(ConfigurationError) as info:
        DeploySpec(**{**values, **changes})
    return info.value.message


def _cdk_refusal_in_cli_names(artifact: Path, schedule: Path | None = None, **context: Any) -> str:
    """The CDK path's refusal, each context key swapped for the CLI flag of that field."""
    if schedule is not None:
        context[k.SCHEDULE] = str(schedule)
    with pytest.raises(ConfigurationError) as info:
        DeploymentSettings.from_context({k.ARTIFACT: str(artifact), **context})
    message = info.value.message
    if schedule is not None:
        message = message.replace(f"{k.SCHEDULE}: {schedule}", CLI_SETTING_NAMES["schedule"])
    for field, key in CDK_SETTING_NAMES.items():
        if field in CLI_SETTING_NAMES:
            message = message.replace(key, CLI_SETTING_NAMES[field])
    return message


def test_memory_out_of_lambdas_range_is_refused_alike(artifact_factory: ArtifactFactory) -> None:
    cli = _cli_refusal(memory_mb=20_000)
    cdk = _cdk_refusal_in_cli_names(artifact_factory(), **{k.MEMORY: 20_000})
    assert cli == cdk == "--memory must be 128-10240 MB on AWS Lambda, got 20000"


def test_a_schedule_tuned_at_another_memory_size_is_refused_alike(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory(function="embed", memory_mb=1024)
    cli = _cli_refusal(schedule=read_schedule(path), memory_mb=2048)
    cdk = _cdk_refusal_in_cli_names(
        artifact_factory(),
        path,
        **{k.COLD_START: "provisioned", k.FUNCTION_NAME: "embed", k.MEMORY: 2048},
    )
    expected = (
        "--schedule was tuned for 1024 MB, but --memory is 2048; re-run "
        "`coldbrew tune --memory 2048` or set --memory"
    )
    assert cli == cdk == expected


def test_reserved_environment_names_are_one_list() -> None:
    # The emulator, the spec and the description read the same frozenset.
    from coldbrew.deployment import aws_lambda
    from coldbrew.emulate import settings as emulator_settings

    assert emulator_settings.RESERVED_ENV is aws_lambda.RESERVED_ENV


def test_the_real_deploy_command_refuses_in_the_cdk_paths_words(
    artifact_factory: ArtifactFactory,
) -> None:
    # Through `coldbrew deploy` itself, not only its spec: click no longer checks
    # --memory against one target's range, the description does, per --platform.
    from click.testing import CliRunner

    from coldbrew.cli import main

    artifact = artifact_factory()
    args = ["deploy", "--dry-run", "--memory", "20000", "--function-name", "embed"]
    args += ["--role-arn", "arn:aws:iam::123456789012:role/r", "--bucket", "my-artifacts"]
    result = CliRunner().invoke(main, [*args, "--region", "us-east-1", str(artifact)])
    assert result.exit_code == 1
    cdk = _cdk_refusal_in_cli_names(artifact, **{k.MEMORY: 20_000})
    assert result.output.strip() == f"Error: DeploymentError: {cdk}"
