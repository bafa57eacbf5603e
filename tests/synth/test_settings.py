"""Deployment settings read from CDK context: defaults, the build report, and every error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from coldbrew.build.archive import sha256_file
from coldbrew.build.report import report_path
from coldbrew.errors import ConfigurationError
from infra import settings as s
from infra.settings import DeploymentSettings

if TYPE_CHECKING:
    from conftest import ArtifactFactory


def settings_for(artifact: Path, **context: Any) -> DeploymentSettings:
    return DeploymentSettings.from_context({s.ARTIFACT: str(artifact), **context})


def test_defaults_without_a_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    assert settings_for(artifact) == DeploymentSettings(
        artifact=artifact.resolve(),
        arch="x86_64",
        python="3.12",
        memory_mb=1024,
        timeout_s=30,
        auth="AWS_IAM",
        function_name=None,
        stack_name="coldbrew-minilm",
        log_retention_days=14,
    )


def test_cdk_json_context_matches_the_documented_defaults(
    cdk_json: dict[str, Any], artifact_factory: ArtifactFactory
) -> None:
    ours = {k: v for k, v in cdk_json.items() if k.startswith(s.PREFIX)}
    # arch and python must come from the build report: a value in cdk.json
    # would override it for every artifact and fail every arm64 build.
    assert s.ARCH not in ours
    assert s.PYTHON not in ours
    assert ours[s.ARTIFACT] == s.DEFAULT_ARTIFACT
    artifact = artifact_factory()
    assert DeploymentSettings.from_context({**ours, s.ARTIFACT: str(artifact)}) == settings_for(
        artifact
    )


def test_relative_artifact_resolves_against_cwd(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory("a.zip")
    got = DeploymentSettings.from_context({s.ARTIFACT: "dist/a.zip"}, cwd=artifact.parent.parent)
    assert got.artifact == artifact.resolve()


def test_context_values_given_as_text_are_parsed(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(
        artifact_factory(),
        **{
            s.MEMORY: " 2048 ",
            s.TIMEOUT: "900",
            s.LOG_RETENTION_DAYS: "3653",
            s.FUNCTION_NAME: "my_fn-1",
            s.AUTH: "NONE",
        },
    )
    assert (got.memory_mb, got.timeout_s, got.log_retention_days) == (2048, 900, 3653)
    assert (got.function_name, got.auth) == ("my_fn-1", "NONE")


def test_python_as_a_json_number_is_accepted(artifact_factory: ArtifactFactory) -> None:
    assert settings_for(artifact_factory(), **{s.PYTHON: 3.13}).python == "3.13"


def test_empty_values_mean_not_given(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    assert settings_for(artifact, **{s.ARCH: "", s.FUNCTION_NAME: "", s.MEMORY: None}) == (
        settings_for(artifact)
    )


def test_python_and_arch_default_to_the_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"python": "3.13", "arch": "arm64", "size_mb": 28.6})
    got = settings_for(artifact)
    assert (got.python, got.arch) == ("3.13", "arm64")


def test_context_agreeing_with_the_report_is_fine(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"python": "3.13", "arch": "arm64"})
    got = settings_for(artifact, **{s.ARCH: "arm64", s.PYTHON: "3.13"})
    assert (got.python, got.arch) == ("3.13", "arm64")


def test_report_of_this_zip_is_trusted(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    report_path(artifact).write_text(
        json.dumps({"sha256": sha256_file(artifact), "python": "3.13", "arch": "arm64"})
    )
    assert settings_for(artifact).arch == "arm64"


def test_report_of_another_zip_is_refused(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"sha256": "0" * 64, "python": "3.13", "arch": "arm64"})
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact)
    assert info.value.message.startswith(
        f"build report {report_path(artifact.resolve())} describes a different zip "
        "(sha256 000000000000, the artifact's is "
    )
    assert info.value.message.endswith("; rebuild with `coldbrew build`")


def test_report_without_the_keys_falls_back_to_defaults(
    artifact_factory: ArtifactFactory,
) -> None:
    got = settings_for(artifact_factory(report={"files": 110}))
    assert (got.python, got.arch) == ("3.12", "x86_64")


@pytest.mark.parametrize(
    ("key", "context_value", "report_value"),
    [(s.ARCH, "x86_64", "arm64"), (s.PYTHON, "3.12", "3.13")],
)
def test_context_contradicting_the_report_names_both(
    artifact_factory: ArtifactFactory, key: str, context_value: str, report_value: str
) -> None:
    artifact = artifact_factory(report={key.removeprefix(s.PREFIX): report_value})
    report = report_path(artifact.resolve())
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact, **{key: context_value})
    assert info.value.message == (
        f"{key} is {context_value!r} but the build report {report} says the artifact was "
        f"built for {report_value!r}; drop {key} or rebuild with `coldbrew build`"
    )


def test_the_brief_example_message(artifact_factory: ArtifactFactory) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact_factory(), **{s.ARCH: "arm"})
    assert info.value.message == "coldbrew:arch must be one of arm64, x86_64, got 'arm'"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (s.ARCH, "aarch64", "must be one of arm64, x86_64, got 'aarch64'"),
        (s.PYTHON, "3.11", "must be one of 3.12, 3.13, got '3.11'"),
        (s.MEMORY, "64", "must be a whole number from 128 to 10240, got '64'"),
        (s.MEMORY, 10241, "must be a whole number from 128 to 10240, got 10241"),
        (s.MEMORY, "1g", "must be a whole number from 128 to 10240, got '1g'"),
        (s.MEMORY, True, "must be a whole number from 128 to 10240, got True"),
        (s.MEMORY, 1024.5, "must be a whole number from 128 to 10240, got 1024.5"),
        (s.TIMEOUT, "0", "must be a whole number from 1 to 900, got '0'"),
        (s.TIMEOUT, 901, "must be a whole number from 1 to 900, got 901"),
        (s.TIMEOUT, "-5", "must be a whole number from 1 to 900, got '-5'"),
        (s.AUTH, "iam", "must be one of AWS_IAM, NONE, got 'iam'"),
        (s.AUTH, "none", "must be one of AWS_IAM, NONE, got 'none'"),
        (s.LOG_RETENTION_DAYS, "10", "must be one of 1, 3, 5, 7, 14, 30, 60, "),
        (s.LOG_RETENTION_DAYS, 0, "3288, 3653 (days), got 0"),
        (s.FUNCTION_NAME, "bad name!", "must be 1-64 letters, digits, hyphens or underscores"),
        (s.FUNCTION_NAME, "f" * 65, "must be 1-64 letters"),
        (s.STACK_NAME, "1stack", "must start with a letter and hold only letters, digits"),
        (s.STACK_NAME, "my_stack", "got 'my_stack'"),
        (s.ARTIFACT, 42, "must be a path to a zip file, got 42"),
    ],
)
def test_bad_values_name_the_key_and_what_it_accepts(
    artifact_factory: ArtifactFactory, key: str, value: object, expected: str
) -> None:
    context = {s.ARTIFACT: str(artifact_factory()), key: value}
    with pytest.raises(ConfigurationError) as info:
        DeploymentSettings.from_context(context)
    assert info.value.message.startswith(key)
    assert expected in info.value.message


def test_unknown_coldbrew_keys_are_typos(artifact_factory: ArtifactFactory) -> None:
    context = {"coldbrew:memroy": "2048", "@aws-cdk/core:whatever": True}
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact_factory(), **context)
    assert info.value.message.startswith("coldbrew:memroy is not a coldbrew context key")
    assert "coldbrew:memory" in info.value.message


def test_missing_artifact_names_the_path_and_the_build_command(tmp_path: Path) -> None:
    missing = tmp_path / "dist" / "nothing.zip"
    with pytest.raises(ConfigurationError) as info:
        settings_for(missing)
    assert info.value.message.startswith(f"coldbrew:artifact: no artifact at {missing}")
    assert "`coldbrew build`" in info.value.message


def test_artifact_must_be_a_zip(tmp_path: Path) -> None:
    wheel = tmp_path / "thing.whl"
    wheel.write_bytes(b"")
    with pytest.raises(ConfigurationError, match=r"coldbrew:artifact must be a \.zip file"):
        settings_for(wheel)


def test_unreadable_report_names_the_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    report = report_path(artifact)
    report.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=re.escape(f"build report {report.resolve()}")):
        settings_for(artifact)


def test_report_with_a_bad_value_names_the_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"arch": "aarch64"})
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact)
    report = report_path(artifact.resolve())
    assert info.value.message == (
        f"build report {report}: arch must be one of arm64, x86_64, got 'aarch64'"
    )


def test_every_bad_key_is_reported_at_once(artifact_factory: ArtifactFactory) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact_factory(), **{s.MEMORY: "1", s.TIMEOUT: "1000", s.AUTH: "x"})
    lines = info.value.message.splitlines()
    assert lines[0] == "invalid deployment settings:"
    assert [line.split()[1] for line in lines[1:]] == [s.MEMORY, s.TIMEOUT, s.AUTH]


def test_settings_are_frozen(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory())
    with pytest.raises(AttributeError):
        got.memory_mb = 2048  # type: ignore[misc]


def test_report_python_may_be_a_json_number(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report=json.loads('{"python": 3.13, "arch": "x86_64"}'))
    assert settings_for(artifact).python == "3.13"
