"""Deployment settings read from CDK context: defaults, the build report, and every error.

Cold-start keys are in test_cold_start_settings.py; how the artifact's layout
is found, in test_artifact_layout.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from coldbrew.artifact.archive import sha256_file
from coldbrew.artifact.report import report_path
from coldbrew.errors import ConfigurationError
from infra import context_keys as k
from infra.artifact_layout import BuiltArtifact
from infra.cold_start_settings import ColdStartSettings
from infra.settings import AsyncSettings, CorsSettings, DeploymentSettings, OperationsSettings

if TYPE_CHECKING:
    from conftest import ArtifactFactory


def settings_for(artifact: Path, **context: Any) -> DeploymentSettings:
    return DeploymentSettings.from_context({k.ARTIFACT: str(artifact), **context})


def error_for(artifact: Path, **context: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact, **context)
    return info.value.message


def test_defaults_with_a_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    assert settings_for(artifact) == DeploymentSettings(
        artifact=BuiltArtifact("zip", artifact.resolve(), None, report_path(artifact).resolve()),
        arch="x86_64",
        python="3.12",
        memory_mb=1024,
        timeout_s=30,
        auth="AWS_IAM",
        function_name=None,
        stack_name="coldbrew-minilm",
        log_retention_days=14,
        ephemeral_storage_mb=512,
        intra_op_threads=None,
        reserved_concurrency=None,
        cors=None,
        cold_start=ColdStartSettings("none"),
        async_queue=None,
        operations=OperationsSettings(
            p99_duration_ms=1000,
            alarm_email=None,
            monthly_budget_usd=50.0,
            budget_thresholds=(50, 80, 100),
            budget_email=None,
        ),
    )


def test_cdk_json_context_matches_the_documented_defaults(
    cdk_json: dict[str, Any], artifact_factory: ArtifactFactory
) -> None:
    ours = {key: v for key, v in cdk_json.items() if key.startswith(k.PREFIX)}
    # arch and python must come from the build report: a value in cdk.json
    # would override it for every artifact and fail every arm64 build.
    assert k.ARCH not in ours
    assert k.PYTHON not in ours
    # Keys of one strategy or of the async path would be errors with another.
    assert not set(ours) & {*k.PROVISIONED_KEYS, *k.ASYNC_KEYS}
    assert set(ours) <= set(k.CONTEXT_KEYS)
    assert ours[k.ARTIFACT] == k.DEFAULT_ARTIFACT
    artifact = artifact_factory()
    assert DeploymentSettings.from_context({**ours, k.ARTIFACT: str(artifact)}) == settings_for(
        artifact
    )


def test_relative_artifact_resolves_against_cwd(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory("a.zip")
    got = DeploymentSettings.from_context({k.ARTIFACT: "dist/a.zip"}, cwd=artifact.parent.parent)
    assert got.artifact.code == artifact.resolve()


def test_context_values_given_as_text_are_parsed(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(
        artifact_factory(),
        **{
            k.MEMORY: " 2048 ",
            k.TIMEOUT: "900",
            k.LOG_RETENTION_DAYS: "3653",
            k.FUNCTION_NAME: "my_fn-1",
            k.AUTH: "NONE",
            k.EPHEMERAL_STORAGE: "10240",
            k.INTRA_OP_THREADS: "6",
            k.RESERVED_CONCURRENCY: "900",
            k.P99_DURATION_MS: "900000",
            k.MONTHLY_BUDGET_USD: "0.01",
            k.BUDGET_THRESHOLDS: "100, 50",
            k.ALARM_EMAIL: " ops@example.com ",
        },
    )
    assert (got.memory_mb, got.timeout_s, got.log_retention_days) == (2048, 900, 3653)
    assert (got.function_name, got.auth) == ("my_fn-1", "NONE")
    assert (got.ephemeral_storage_mb, got.intra_op_threads, got.reserved_concurrency) == (
        10240,
        6,
        900,
    )
    assert got.operations == OperationsSettings(900_000, "ops@example.com", 0.01, (50, 100), None)


def test_json_values_from_cdk_json_are_parsed(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(
        artifact_factory(),
        **{
            k.ASYNC: True,
            k.MONTHLY_BUDGET_USD: 12.5,
            k.BUDGET_THRESHOLDS: [80, 100, 120],
            k.CORS_ORIGINS: ["*"],
            k.CORS_METHODS: ["post", "GET"],
        },
    )
    assert got.async_queue == AsyncSettings()
    assert got.operations.monthly_budget_usd == 12.5
    assert got.operations.budget_thresholds == (80, 100, 120)
    assert got.cors == CorsSettings(("*",), ("POST", "GET"))


def test_python_as_a_json_number_is_accepted(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report=None)
    assert settings_for(artifact, **{k.PYTHON: 3.13, k.ARCH: "x86_64"}).python == "3.13"


def test_empty_values_mean_not_given(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    assert settings_for(artifact, **{k.ARCH: "", k.FUNCTION_NAME: "", k.MEMORY: None}) == (
        settings_for(artifact)
    )


def test_python_and_arch_default_to_the_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"python": "3.13", "arch": "arm64", "size_mb": 28.6})
    got = settings_for(artifact)
    assert (got.python, got.arch) == ("3.13", "arm64")


def test_context_agreeing_with_the_report_is_fine(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"python": "3.13", "arch": "arm64"})
    got = settings_for(artifact, **{k.ARCH: "arm64", k.PYTHON: "3.13"})
    assert (got.python, got.arch) == ("3.13", "arm64")


def test_report_of_this_zip_is_trusted(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    report_path(artifact).write_text(
        json.dumps({"sha256": sha256_file(artifact), "python": "3.13", "arch": "arm64"})
    )
    assert settings_for(artifact).arch == "arm64"


def test_report_of_another_zip_is_refused(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"sha256": "0" * 64, "python": "3.13", "arch": "arm64"})
    message = error_for(artifact)
    assert message.startswith(
        f"build report {report_path(artifact.resolve())} describes a different zip "
        f"(sha256 000000000000, {artifact.name}'s is "
    )
    assert message.endswith("; rebuild with `coldbrew build`")


def test_report_without_the_keys_is_refused_not_guessed(
    artifact_factory: ArtifactFactory,
) -> None:
    message = error_for(artifact_factory(report={"files": 110}))
    assert f"{k.ARCH}: no build report says which arch" in message
    assert f"{k.PYTHON}: no build report says which python" in message


@pytest.mark.parametrize(
    ("key", "context_value", "report_value"),
    [(k.ARCH, "x86_64", "arm64"), (k.PYTHON, "3.12", "3.13")],
)
def test_context_contradicting_the_report_names_both(
    artifact_factory: ArtifactFactory, key: str, context_value: str, report_value: str
) -> None:
    built = {"python": "3.12", "arch": "x86_64", key.removeprefix(k.PREFIX): report_value}
    artifact = artifact_factory(report=built)
    report = report_path(artifact.resolve())
    assert error_for(artifact, **{key: context_value}) == (
        f"{key} is {context_value!r} but the build report {report} says the artifact was "
        f"built for {report_value!r}; drop {key} or rebuild with `coldbrew build`"
    )


def test_the_brief_example_message(artifact_factory: ArtifactFactory) -> None:
    assert error_for(artifact_factory(), **{k.ARCH: "arm"}) == (
        "coldbrew:arch must be one of arm64, x86_64, got 'arm'"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (k.ARCH, "aarch64", "must be one of arm64, x86_64, got 'aarch64'"),
        (k.PYTHON, "3.11", "must be one of 3.12, 3.13, got '3.11'"),
        (k.MEMORY, "64", "must be 128-10240 MB on AWS Lambda, got 64"),
        (k.MEMORY, 10241, "must be 128-10240 MB on AWS Lambda, got 10241"),
        (k.MEMORY, "1g", "must be a whole number, 128-10240 MB, got '1g'"),
        (k.MEMORY, True, "must be a whole number, 128-10240 MB, got True"),
        (k.MEMORY, 1024.5, "must be a whole number, 128-10240 MB, got 1024.5"),
        (k.TIMEOUT, "0", "must be 1-900 s on AWS Lambda, got 0"),
        (k.TIMEOUT, 901, "must be 1-900 s on AWS Lambda, got 901"),
        (k.TIMEOUT, "-5", "must be a whole number, 1-900 s, got '-5'"),
        (k.EPHEMERAL_STORAGE, 511, "must be 512-10240 MB on AWS Lambda, got 511"),
        (k.EPHEMERAL_STORAGE, "10241", "must be 512-10240 MB on AWS Lambda, got 10241"),
        (k.INTRA_OP_THREADS, 0, "must be a whole number from 1 to 6, got 0"),
        (k.INTRA_OP_THREADS, "7", "must be a whole number from 1 to 6, got '7'"),
        (k.RESERVED_CONCURRENCY, 0, "must be a whole number from 1 to 900"),
        (
            k.RESERVED_CONCURRENCY,
            901,
            "from 1 to 900 (coldbrew:account_concurrency 1000 minus the 100 Lambda keeps "
            "unreserved), got 901",
        ),
        (k.ACCOUNT_CONCURRENCY, 100, "must be a whole number from 101 to 1000000, got 100"),
        (k.AUTH, "iam", "must be one of AWS_IAM, NONE, got 'iam'"),
        (k.AUTH, "none", "must be one of AWS_IAM, NONE, got 'none'"),
        (k.LOG_RETENTION_DAYS, "10", "must be one of 1, 3, 5, 7, 14, 30, 60, "),
        (k.LOG_RETENTION_DAYS, 0, "3288, 3653 (days), got 0"),
        (k.FUNCTION_NAME, "bad name!", "must be 1-64 letters, digits, hyphens or underscores"),
        (k.FUNCTION_NAME, "f" * 65, "must be 1-64 letters"),
        (k.STACK_NAME, "1stack", "must start with a letter and hold only letters, digits"),
        (k.STACK_NAME, "my_stack", "got 'my_stack'"),
        (k.ARTIFACT, 42, "must be a path to a build report, zip or image directory"),
        (k.CORS_ORIGINS, "example.com", "must list 1-100 origins, each * or scheme://host[:port]"),
        (k.CORS_ORIGINS, "https://a.example.com/app", "with no path"),
        (k.CORS_ORIGINS, "[]", "must list 1-100 origins"),
        (k.CORS_ORIGINS, "[not json", "must be a JSON list or comma-separated values"),
        (k.CORS_ORIGINS, {"a": 1}, "must be a list of values, got {'a': 1}"),
        (k.ASYNC, "maybe", "must be true or false, got 'maybe'"),
        (k.ASYNC, 1, "must be true or false, got 1"),
        (k.P99_DURATION_MS, 0, "must be a whole number from 1 to 30000 (coldbrew:timeout in ms)"),
        (k.P99_DURATION_MS, 30_001, "got 30001"),
        (k.MONTHLY_BUDGET_USD, 0, "must be an amount in USD from 0.01 to 1e+06, got 0"),
        (k.MONTHLY_BUDGET_USD, "ten", "got 'ten'"),
        (k.MONTHLY_BUDGET_USD, True, "got True"),
        (k.BUDGET_THRESHOLDS, "0,100", "must list 1-9 different whole percents from 1 to 1000"),
        (k.BUDGET_THRESHOLDS, "80,80", "got ['80', '80']"),
        (k.BUDGET_THRESHOLDS, list(range(10, 110, 10)), "AWS Budgets allows 9 notifications"),
        (k.BUDGET_THRESHOLDS, "1001", "must list 1-9 different whole percents"),
        (k.ALARM_EMAIL, "ops", "must be one e-mail address (name@example.com), got 'ops'"),
        (k.BUDGET_EMAIL, "a@b.com,c@d.com", "must be one e-mail address"),
    ],
)
def test_bad_values_name_the_key_and_what_it_accepts(
    artifact_factory: ArtifactFactory, key: str, value: object, expected: str
) -> None:
    message = error_for(artifact_factory(), **{key: value})
    assert message.startswith(key)
    assert expected in message


def test_cors_methods_must_be_function_url_methods(artifact_factory: ArtifactFactory) -> None:
    message = error_for(artifact_factory(), **{k.CORS_ORIGINS: "*", k.CORS_METHODS: "POST,OPTIONS"})
    assert message == (
        "coldbrew:cors_methods must list some of GET, POST, HEAD, PUT, PATCH, DELETE, *, "
        "got ['POST', 'OPTIONS']"
    )


def test_cors_methods_without_origins_would_be_ignored(artifact_factory: ArtifactFactory) -> None:
    assert error_for(artifact_factory(), **{k.CORS_METHODS: "GET"}) == (
        "coldbrew:cors_methods applies only when coldbrew:cors_origins is set; "
        "set coldbrew:cors_origins too"
    )


def test_cors_defaults_to_the_contract_methods(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory(), **{k.CORS_ORIGINS: "https://a.example.com:8443"})
    assert got.cors == CorsSettings(("https://a.example.com:8443",), ("GET", "POST"))


def test_async_defaults(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory(), **{k.ASYNC: "true"})
    assert got.async_queue == AsyncSettings(
        batch_size=10,
        batch_window_s=0,
        max_receive_count=5,
        result_retention_days=7,
        max_concurrency=None,
    )


def test_async_keys_are_read(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(
        artifact_factory(),
        **{
            k.ASYNC: "yes",
            k.ASYNC_BATCH_SIZE: "100",
            k.ASYNC_BATCH_WINDOW: "5",
            k.ASYNC_MAX_RECEIVE_COUNT: "10",
            k.ASYNC_RESULT_RETENTION_DAYS: "30",
            k.RESERVED_CONCURRENCY: "40",
            k.ASYNC_MAX_CONCURRENCY: "10",
        },
    )
    assert got.async_queue == AsyncSettings(100, 5, 10, 30, 10)


def test_the_reservation_caps_the_queue_by_default(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory(), **{k.ASYNC: True, k.RESERVED_CONCURRENCY: 40})
    assert got.async_queue is not None
    assert got.async_queue.max_concurrency == 40


@pytest.mark.parametrize("key", k.ASYNC_KEYS)
def test_async_keys_without_async_would_be_ignored(
    artifact_factory: ArtifactFactory, key: str
) -> None:
    assert error_for(artifact_factory(), **{k.ASYNC: "false", key: "5"}) == (
        f"{key} applies only when coldbrew:async is true; set coldbrew:async=true or drop the key"
    )


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {k.ASYNC_BATCH_SIZE: 11},
            "coldbrew:async_batch_window must be at least 1 (second) when "
            "coldbrew:async_batch_size is above 10 (11)",
        ),
        (
            {k.RESERVED_CONCURRENCY: 1},
            "coldbrew:reserved_concurrency must be at least 2 with coldbrew:async: it caps the "
            "SQS event source's maximum concurrency, which is 2-1000, got 1",
        ),
        (
            {k.RESERVED_CONCURRENCY: 10, k.ASYNC_MAX_CONCURRENCY: 11},
            "coldbrew:async_max_concurrency must be a whole number from 2 to 10 "
            "(coldbrew:reserved_concurrency), got 11",
        ),
        (
            {k.ASYNC_MAX_CONCURRENCY: 1},
            "coldbrew:async_max_concurrency must be a whole number from 2 to 1000, got 1",
        ),
        (
            {k.TIMEOUT: 900, k.ASYNC_MAX_RECEIVE_COUNT: 65},
            "coldbrew:async_max_receive_count must be at most 64 with coldbrew:timeout 900 and "
            "coldbrew:async_batch_window 0, got 65",
        ),
    ],
)
def test_async_combinations_aws_would_refuse(
    artifact_factory: ArtifactFactory, context: dict[str, Any], expected: str
) -> None:
    assert error_for(artifact_factory(), **{k.ASYNC: True, **context}).startswith(expected)


def test_the_longest_receive_chain_that_fits_the_queue_retention(
    artifact_factory: ArtifactFactory,
) -> None:
    # 64 receives x (6 x 900 s) = 345,600 s: exactly the queue's four days.
    got = settings_for(
        artifact_factory(), **{k.ASYNC: True, k.TIMEOUT: 900, k.ASYNC_MAX_RECEIVE_COUNT: 64}
    )
    assert got.async_queue is not None
    assert got.async_queue.max_receive_count == 64


def test_account_concurrency_moves_the_reservation_ceiling(
    artifact_factory: ArtifactFactory,
) -> None:
    artifact = artifact_factory()
    got = settings_for(artifact, **{k.ACCOUNT_CONCURRENCY: 5000, k.RESERVED_CONCURRENCY: 4900})
    assert got.reserved_concurrency == 4900
    assert "from 1 to 4900" in error_for(
        artifact, **{k.ACCOUNT_CONCURRENCY: 5000, k.RESERVED_CONCURRENCY: 4901}
    )


def test_unknown_coldbrew_keys_are_typos(artifact_factory: ArtifactFactory) -> None:
    context = {"coldbrew:memroy": "2048", "@aws-cdk/core:whatever": True}
    message = error_for(artifact_factory(), **context)
    assert message.startswith("coldbrew:memroy is not a coldbrew context key")
    assert "coldbrew:memory" in message


def test_missing_artifact_names_the_path_and_the_build_command(tmp_path: Path) -> None:
    missing = tmp_path / "dist" / "nothing.zip"
    message = error_for(missing)
    assert message.startswith(f"coldbrew:artifact: no artifact at {missing}")
    assert "`coldbrew build`" in message


def test_artifact_must_be_a_zip(tmp_path: Path) -> None:
    wheel = tmp_path / "thing.whl"
    wheel.write_bytes(b"")
    with pytest.raises(
        ConfigurationError, match=r"coldbrew:artifact must be a build report, a \.zip"
    ):
        settings_for(wheel)


def test_unreadable_report_names_the_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory()
    report = report_path(artifact)
    report.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=re.escape(f"build report {report.resolve()}")):
        settings_for(artifact)


def test_report_with_a_bad_value_names_the_report(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"arch": "aarch64", "python": "3.12"})
    report = report_path(artifact.resolve())
    assert error_for(artifact) == (
        f"build report {report}: arch must be one of arm64, x86_64, got 'aarch64'"
    )


def test_every_bad_key_is_reported_at_once(artifact_factory: ArtifactFactory) -> None:
    message = error_for(
        artifact_factory(),
        **{k.MEMORY: "1", k.TIMEOUT: "1000", k.AUTH: "x", k.ASYNC_BATCH_SIZE: 5},
    )
    lines = message.splitlines()
    assert lines[0] == "invalid deployment settings:"
    assert sorted(line.split()[1] for line in lines[1:]) == sorted(
        [k.MEMORY, k.TIMEOUT, k.AUTH, k.ASYNC_BATCH_SIZE]
    )


def test_settings_are_frozen(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory())
    with pytest.raises(AttributeError):
        got.memory_mb = 2048  # type: ignore[misc]
    with pytest.raises(AttributeError):
        got.operations.p99_duration_ms = 1  # type: ignore[misc]


def test_report_python_may_be_a_json_number(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report=json.loads('{"python": 3.13, "arch": "x86_64"}'))
    assert settings_for(artifact).python == "3.13"


def test_the_async_limits_agree_with_the_queue_construct() -> None:
    # Settings must not import aws_cdk, so they keep their own copy of the
    # numbers AsyncQueue enforces; a drift would turn a clear context error
    # into an "AsyncQueue: ..." one, or refuse what the queue accepts.
    from infra import async_queue as queue

    assert k.VISIBILITY_FACTOR == queue.VISIBILITY_FACTOR
    assert int(queue.SOURCE_RETENTION.to_seconds()) == k.QUEUE_RETENTION_S
    assert k.ASYNC_BATCH_SIZE_RANGE == queue.BATCH_SIZE_RANGE
    assert k.ASYNC_BATCH_WINDOW_RANGE == queue.BATCHING_WINDOW_RANGE
    assert k.ASYNC_MAX_RECEIVE_COUNT_RANGE == queue.MAX_RECEIVE_COUNT_RANGE
    assert k.ESM_MAX_CONCURRENCY_RANGE == queue.MAX_CONCURRENCY_RANGE
    assert k.UNBATCHED_MAX == queue.MAX_BATCH_WITHOUT_WINDOW


def test_the_budget_limits_agree_with_the_operations_construct() -> None:
    from infra import operations

    assert k.BUDGET_THRESHOLD_RANGE == operations.THRESHOLD_RANGE
    # One notification of the ten is the construct's forecast one.
    assert operations.DEFAULT_FORECAST_THRESHOLD is not None
    assert k.MAX_BUDGET_THRESHOLDS == operations.MAX_NOTIFICATIONS - 1


def test_a_zip_without_a_report_is_refused_naming_the_report(
    artifact_factory: ArtifactFactory,
) -> None:
    artifact = artifact_factory(report=None)
    message = error_for(artifact)
    report = report_path(artifact.resolve())
    for key, field in ((k.ARCH, "arch"), (k.PYTHON, "python")):
        assert (
            f"{key}: no build report says which {field} {artifact.name} was built for "
            f"({report} is missing); build it with `coldbrew build`"
        ) in message


def test_a_zip_without_a_report_runs_as_the_context_says(
    artifact_factory: ArtifactFactory,
) -> None:
    got = settings_for(artifact_factory(report=None), **{k.ARCH: "arm64", k.PYTHON: "3.13"})
    assert (got.arch, got.python, got.artifact.report) == ("arm64", "3.13", None)


def test_a_report_without_python_is_refused(artifact_factory: ArtifactFactory) -> None:
    artifact = artifact_factory(report={"arch": "arm64"})
    message = error_for(artifact)
    assert f"{k.PYTHON}: no build report says which python" in message
    assert "lacks it" in message and k.ARCH + ":" not in message


def test_a_public_url_requires_reserved_concurrency(artifact_factory: ArtifactFactory) -> None:
    message = error_for(artifact_factory(), **{k.AUTH: "NONE", k.MEMORY: "1"})
    # Reported with every other bad key, naming the values it accepts.
    assert f"{k.RESERVED_CONCURRENCY} is required with {k.AUTH}=NONE: it is what bounds" in message
    assert k.MEMORY in message
    got = settings_for(artifact_factory(), **{k.AUTH: "NONE", k.RESERVED_CONCURRENCY: "10"})
    assert (got.auth, got.reserved_concurrency) == ("NONE", 10)
    assert settings_for(artifact_factory()).reserved_concurrency is None  # AWS_IAM: optional
