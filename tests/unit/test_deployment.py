"""The one deployment description: each target's limits and the rules across fields."""

from __future__ import annotations

from typing import Any

import pytest

from coldbrew.capacity.schedule import Schedule, parse_schedule
from coldbrew.deployment import aws_lambda
from coldbrew.deployment.description import Deployment, DeploymentError


def _lambda(**changes: Any) -> Deployment:
    values: dict[str, Any] = {
        "target": "aws-lambda",
        "artifact": "dist/x.zip",
        "python": "3.12",
        "arch": "x86_64",
        "memory_mb": 1024,
        "timeout_s": 30,
        "function_name": "embed",
        "alias": "live",
    }
    return Deployment(**{**values, **changes})


def _gcf(**changes: Any) -> Deployment:
    values: dict[str, Any] = {
        "target": "gcf",
        "artifact": "dist/x.zip",
        "python": "3.12",
        "arch": "x86_64",
        "memory_mb": 1024,
        "timeout_s": 30,
        "function_name": "embed",
        "auth": "IAM",
    }
    return Deployment(**{**values, **changes})


def _problems(make: Any, **changes: Any) -> tuple[str, ...]:
    with pytest.raises(DeploymentError) as info:
        make(**changes)
    return info.value.problems


def _schedule(*, function: str = "embed", alias: str = "live", memory_mb: int = 1024) -> Schedule:
    return parse_schedule(
        {
            "schema": 1,
            "function": function,
            "alias": alias,
            "timezone": "UTC",
            "block_minutes": 60,
            "memory_mb": memory_mb,
            "blocks": [
                {
                    "start": "00:00",
                    "end": "24:00",
                    "min_capacity": 1,
                    "max_capacity": 1,
                    "cron": "cron(0 0 * * ? *)",
                },
            ],
        }
    )


def test_a_valid_description_is_frozen_and_keeps_its_fields() -> None:
    got = _lambda(env={"LOG_LEVEL": "debug"})
    assert got.limits is aws_lambda.LAMBDA
    with pytest.raises(AttributeError):
        got.memory_mb = 2048  # type: ignore[misc]
    with pytest.raises(TypeError):
        got.env["X"] = "y"  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"memory_mb": 20_000}, "memory_mb must be 128-10240 MB on AWS Lambda, got 20000"),
        ({"memory_mb": 64}, "memory_mb must be 128-10240 MB on AWS Lambda, got 64"),
        ({"timeout_s": 901}, "timeout_s must be 1-900 s on AWS Lambda, got 901"),
        ({"ephemeral_storage_mb": 511}, "ephemeral_storage_mb must be 512-10240 MB"),
        ({"python": "3.10"}, "python must be one of 3.11, 3.12, 3.13 on AWS Lambda, got '3.10'"),
        ({"arch": "aarch64"}, "arch must be one of x86_64, arm64 on AWS Lambda, got 'aarch64'"),
        ({"function_name": "bad name!"}, "function_name must be 1-64 letters, digits"),
        ({"alias": "123"}, "alias must be letters, digits, - or _ (not all digits)"),
        ({"auth": "IAM"}, "auth must be one of AWS_IAM, NONE on AWS Lambda, got 'IAM'"),
        ({"cold_start": "min-instances"}, "cold_start must be one of none, snapstart"),
        ({"env": {"AWS_REGION": "x"}}, "env: AWS_REGION is reserved by AWS Lambda"),
        ({"env": {"1X": "x"}}, "env: bad environment variable name '1X'"),
        ({"cpu": 2.0}, "cpu does not apply on AWS Lambda; drop it"),
        ({"reserved_concurrency": 0}, "reserved_concurrency must be at least 1, got 0"),
        ({"provisioned": -1}, "provisioned must be 0 or more, got -1"),
    ],
)
def test_lambda_limits_name_the_allowed_values(changes: dict[str, Any], expected: str) -> None:
    (problem,) = _problems(_lambda, **changes)
    assert problem.startswith(expected)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"memory_mb": 32_769}, "memory_mb must be 128-32768 MB on Google Cloud Functions"),
        ({"timeout_s": 3_601}, "timeout_s must be 1-3600 s on Google Cloud Functions"),
        ({"python": "3.11"}, "python must be one of 3.12, 3.13 on Google Cloud Functions"),
        ({"function_name": "Embed"}, "function_name must be 1-63 lowercase letters"),
        ({"auth": "AWS_IAM"}, "auth must be one of IAM, NONE"),
        ({"ingress": "PRIVATE"}, "ingress must be one of ALLOW_ALL, ALLOW_INTERNAL_ONLY"),
        ({"env": {"PORT": "1"}}, "env: PORT is reserved by Google Cloud Functions"),
        ({"cpu": 9.0}, "cpu must be 0.083-8 vCPUs on Google Cloud Functions (2nd gen), got 9"),
        ({"max_instances": 0}, "max_instances must be 1-1000 instances"),
        ({"min_instances": 3, "max_instances": 2}, "min_instances (3) must not exceed"),
        ({"reserved_concurrency": 5}, "reserved_concurrency does not apply on Google Cloud"),
        ({"cold_start": "snapstart"}, "cold_start must be one of none, min-instances"),
        ({"cold_start": "min-instances"}, "cold_start min-instances needs min_instances"),
    ],
)
def test_cloud_functions_limits_name_the_allowed_values(
    changes: dict[str, Any], expected: str
) -> None:
    (problem,) = _problems(_gcf, **changes)
    assert problem.startswith(expected)


def test_concurrent_requests_per_instance_need_a_whole_cpu() -> None:
    (problem,) = _problems(_gcf, instance_concurrency=8, cpu=0.5)
    assert problem.startswith("instance_concurrency 8 needs cpu of at least 1 on Google Cloud")
    assert _gcf(instance_concurrency=8, cpu=1.0).instance_concurrency == 8
    assert _gcf(instance_concurrency=1).cpu is None


def test_a_public_lambda_url_needs_reserved_concurrency() -> None:
    (problem,) = _problems(_lambda, auth="NONE")
    assert problem.startswith("reserved_concurrency is required with auth=NONE")
    assert _lambda(auth="NONE", reserved_concurrency=10).auth == "NONE"
    assert _lambda(auth="NONE", public_needs_reservation=False).reserved_concurrency is None


def test_snapstart_rules() -> None:
    assert _lambda(cold_start="snapstart", layout="layer", python="3.13").cold_start == "snapstart"
    problems = _problems(
        _lambda, cold_start="snapstart", layout="image", python="3.11", ephemeral_storage_mb=513
    )
    assert [p.split(";")[0].split(",")[0] for p in problems] == [
        "cold_start snapstart does not support container images (the artifact's layout is image)",
        "cold_start snapstart needs a Python runtime of 3.12 or later (3.12",
        "cold_start snapstart supports at most 512 MB of ephemeral storage",
    ]
    (problem,) = _problems(_lambda, cold_start="snapstart", provisioned=2)
    assert "cannot be combined with provisioned concurrency" in problem


def test_a_schedule_must_match_function_alias_and_memory() -> None:
    assert _lambda(schedule=_schedule()).schedule is not None
    problems = _problems(
        _lambda, schedule=_schedule(function="other", alias="blue", memory_mb=2048)
    )
    assert problems == (
        "schedule scales alias 'blue', but alias is 'live'; re-run `coldbrew tune --alias live`",
        "schedule was tuned for function 'other', but function_name is 'embed'; re-run "
        "`coldbrew tune --function-name embed` or fix function_name",
        "schedule was tuned for 2048 MB, but memory_mb is 1024; re-run "
        "`coldbrew tune --memory 1024` or set memory_mb",
    )
    # Without a name the schedule's function is only a label.
    assert _lambda(function_name=None, schedule=_schedule(function="x")).function_name is None


def test_every_problem_is_reported_at_once_in_the_users_names() -> None:
    names = {"memory_mb": "--memory", "timeout_s": "--timeout", "env": "--env"}
    with pytest.raises(DeploymentError) as info:
        _lambda(memory_mb=20_000, timeout_s=0, env={"AWS_REGION": "x"}, setting_names=names)
    assert info.value.message == (
        "invalid deployment settings:\n"
        "  - --memory must be 128-10240 MB on AWS Lambda, got 20000\n"
        "  - --timeout must be 1-900 s on AWS Lambda, got 0\n"
        "  - --env: AWS_REGION is reserved by AWS Lambda and cannot be set"
    )
    assert len(info.value.problems) == 3


def test_setting_names_take_no_part_in_equality() -> None:
    assert _lambda(setting_names={"memory_mb": "--memory"}) == _lambda()


def test_an_unknown_target_is_named() -> None:
    with pytest.raises(DeploymentError, match="target must be one of aws-lambda, gcf, got 'k8s'"):
        _lambda(target="k8s")
