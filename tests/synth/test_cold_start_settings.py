"""The cold-start keys: none, SnapStart, provisioned concurrency, and what AWS refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from coldbrew.capacity.schedule import read_schedule
from coldbrew.errors import ConfigurationError
from infra import context_keys as k
from infra.cold_start_settings import ColdStartSettings, ProvisionedSettings
from infra.settings import DeploymentSettings

if TYPE_CHECKING:
    from conftest import ArtifactFactory, LayoutFactory, ScheduleFactory


def settings_for(artifact: Path, **context: Any) -> DeploymentSettings:
    return DeploymentSettings.from_context({k.ARTIFACT: str(artifact), **context})


def errors_for(artifact: Path, **context: Any) -> list[str]:
    """Every error of the settings, one per line (the single-error form too)."""
    with pytest.raises(ConfigurationError) as info:
        settings_for(artifact, **context)
    lines = info.value.message.splitlines()
    if lines[0] == "invalid deployment settings:":
        return [line.removeprefix("  - ") for line in lines[1:]]
    return [info.value.message]


PROVISIONED = {k.COLD_START: "provisioned"}


def test_none_is_the_default(artifact_factory: ArtifactFactory) -> None:
    assert settings_for(artifact_factory()).cold_start == ColdStartSettings("none", None)


def test_snapstart(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory(), **{k.COLD_START: "snapstart"})
    assert got.cold_start == ColdStartSettings("snapstart", None)
    assert got.cold_start.snap_start


def test_unknown_strategy_names_the_choices(artifact_factory: ArtifactFactory) -> None:
    assert errors_for(artifact_factory(), **{k.COLD_START: "warm"}) == [
        "coldbrew:cold_start must be one of none, snapstart, provisioned, got 'warm'"
    ]


def test_snapstart_refuses_container_images(layout_factory: LayoutFactory) -> None:
    assert errors_for(layout_factory("image"), **{k.COLD_START: "snapstart"}) == [
        "coldbrew:cold_start snapstart does not support container images (the artifact's "
        "layout is image); use provisioned or none, or build a zip with "
        "`coldbrew build --layout zip|layer`"
    ]


def test_snapstart_accepts_the_layer_layout_on_arm64(layout_factory: LayoutFactory) -> None:
    got = settings_for(layout_factory("layer", arch="arm64"), **{k.COLD_START: "snapstart"})
    assert (got.cold_start.strategy, got.arch, got.artifact.layout) == (
        "snapstart",
        "arm64",
        "layer",
    )


def test_snapstart_refuses_more_than_512_mb_of_ephemeral_storage(
    artifact_factory: ArtifactFactory,
) -> None:
    artifact = artifact_factory()
    assert settings_for(artifact, **{k.COLD_START: "snapstart", k.EPHEMERAL_STORAGE: 512})
    assert errors_for(artifact, **{k.COLD_START: "snapstart", k.EPHEMERAL_STORAGE: 513}) == [
        "coldbrew:cold_start snapstart supports at most 512 MB of ephemeral storage, "
        "coldbrew:ephemeral_storage is 513; lower it or use provisioned"
    ]


@pytest.mark.parametrize("key", k.PROVISIONED_KEYS)
def test_snapstart_refuses_provisioned_concurrency(
    artifact_factory: ArtifactFactory, key: str
) -> None:
    assert errors_for(artifact_factory(), **{k.COLD_START: "snapstart", key: "1"}) == [
        f"{key}: SnapStart cannot be combined with provisioned concurrency (AWS refuses both "
        f"on one function); drop {key} or set coldbrew:cold_start=provisioned"
    ]


@pytest.mark.parametrize("key", k.PROVISIONED_KEYS)
def test_provisioned_keys_without_provisioned_would_be_ignored(
    artifact_factory: ArtifactFactory, key: str
) -> None:
    assert errors_for(artifact_factory(), **{key: "1"}) == [
        f"{key} applies only when coldbrew:cold_start is provisioned; "
        "set coldbrew:cold_start=provisioned or drop the key"
    ]


def test_provisioned_needs_a_policy_or_a_schedule(artifact_factory: ArtifactFactory) -> None:
    assert errors_for(artifact_factory(), **PROVISIONED) == [
        "coldbrew:cold_start provisioned needs coldbrew:target_utilization (target tracking, "
        "0.1-0.9) and/or coldbrew:schedule (a schedule file written by `coldbrew tune`)"
    ]


def test_target_tracking_defaults(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(artifact_factory(), **PROVISIONED, **{k.TARGET_UTILIZATION: "0.7"})
    assert got.cold_start == ColdStartSettings("provisioned", ProvisionedSettings(1, 10, 0.7, None))


@pytest.mark.parametrize("value", [0.1, "0.9", 0.55])
def test_target_utilization_range_is_inclusive(
    artifact_factory: ArtifactFactory, value: object
) -> None:
    got = settings_for(artifact_factory(), **PROVISIONED, **{k.TARGET_UTILIZATION: value})
    assert got.cold_start.provisioned is not None
    assert got.cold_start.provisioned.target_utilization == float(str(value))


@pytest.mark.parametrize("value", [0.09, "0.95", 1, "70%", True])
def test_target_utilization_out_of_range(artifact_factory: ArtifactFactory, value: object) -> None:
    assert errors_for(artifact_factory(), **PROVISIONED, **{k.TARGET_UTILIZATION: value}) == [
        f"coldbrew:target_utilization must be a fraction from 0.1 to 0.9, got {value!r}"
    ]


def test_explicit_min_and_max(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(
        artifact_factory(),
        **PROVISIONED,
        **{k.TARGET_UTILIZATION: 0.5, k.PROVISIONED_MIN: "3", k.PROVISIONED_MAX: "30"},
    )
    assert got.cold_start.provisioned == ProvisionedSettings(3, 30, 0.5, None)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {k.PROVISIONED_MIN: 5, k.PROVISIONED_MAX: 4},
            "coldbrew:provisioned_min (5) must not exceed coldbrew:provisioned_max (4)",
        ),
        (
            {k.PROVISIONED_MIN: 0},
            "coldbrew:provisioned_min must be at least 1 with coldbrew:target_utilization, got 0: "
            "the utilization metric exists only while something is provisioned, so target "
            "tracking cannot scale up from 0",
        ),
        (
            {k.PROVISIONED_MAX: 901},
            "coldbrew:provisioned_max must be a whole number from 1 to 900 (the account's "
            "concurrency minus the 100 Lambda keeps unreserved), got 901",
        ),
        (
            {k.RESERVED_CONCURRENCY: 8, k.PROVISIONED_MAX: 9},
            "coldbrew:provisioned_max must be a whole number from 1 to 8 "
            "(coldbrew:reserved_concurrency is 8), got 9",
        ),
    ],
)
def test_provisioned_capacity_limits(
    artifact_factory: ArtifactFactory, context: dict[str, Any], expected: str
) -> None:
    context = {**PROVISIONED, k.TARGET_UTILIZATION: 0.7, **context}
    assert errors_for(artifact_factory(), **context) == [expected]


def test_the_default_max_stays_within_the_reservation(artifact_factory: ArtifactFactory) -> None:
    got = settings_for(
        artifact_factory(),
        **PROVISIONED,
        **{k.TARGET_UTILIZATION: 0.7, k.RESERVED_CONCURRENCY: 4},
    )
    assert got.cold_start.provisioned == ProvisionedSettings(1, 4, 0.7, None)


def test_a_schedule_sets_min_and_max_from_its_blocks(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory()
    got = settings_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)})
    # The fixture's blocks hold 1, 4 and 2.
    assert got.cold_start.provisioned == ProvisionedSettings(1, 4, None, read_schedule(path))


def test_a_relative_schedule_resolves_against_cwd(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory("plan.json")
    got = DeploymentSettings.from_context(
        {k.ARTIFACT: str(artifact_factory()), **PROVISIONED, k.SCHEDULE: "plan.json"},
        cwd=path.parent,
    )
    assert got.cold_start.provisioned is not None
    assert got.cold_start.provisioned.schedule == read_schedule(path)


def test_schedule_and_target_tracking_together(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory()
    got = settings_for(
        artifact_factory(),
        **PROVISIONED,
        **{k.SCHEDULE: str(path), k.TARGET_UTILIZATION: 0.6, k.PROVISIONED_MAX: 12},
    )
    assert got.cold_start.provisioned == ProvisionedSettings(1, 12, 0.6, read_schedule(path))


def test_a_block_above_the_configured_max_is_refused(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    context = {**PROVISIONED, k.SCHEDULE: str(schedule_factory()), k.PROVISIONED_MAX: 3}
    assert errors_for(artifact_factory(), **context) == [
        "coldbrew:schedule: blocks[1] (08:00-20:00) has max_capacity 4, above "
        "coldbrew:provisioned_max (3); raise coldbrew:provisioned_max or re-run "
        "`coldbrew tune --max-capacity`"
    ]


def test_a_schedule_for_another_alias_is_refused(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory(alias="blue")
    assert errors_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)}) == [
        f"coldbrew:schedule: {path} scales alias 'blue', but the stack's alias is 'live'; "
        "re-run `coldbrew tune --alias live`"
    ]


def test_a_schedule_for_another_named_function_is_refused(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory(function="embed")
    context = {**PROVISIONED, k.SCHEDULE: str(path), k.FUNCTION_NAME: "coldbrew-prod"}
    assert errors_for(artifact_factory(), **context) == [
        f"coldbrew:schedule: {path} was tuned for function 'embed', but "
        "coldbrew:function_name is 'coldbrew-prod'; re-run `coldbrew tune --function-name "
        "coldbrew-prod` or fix coldbrew:function_name"
    ]


def test_the_schedule_function_name_is_a_label_without_an_explicit_name(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory(function="whatever-the-trace-called-it")
    got = settings_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)})
    assert got.function_name is None
    assert got.cold_start.provisioned is not None


def test_a_schedule_matching_the_explicit_name_is_fine(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory(function="coldbrew-prod")
    context = {**PROVISIONED, k.SCHEDULE: str(path), k.FUNCTION_NAME: "coldbrew-prod"}
    assert settings_for(artifact_factory(), **context).function_name == "coldbrew-prod"


def test_a_schedule_tuned_at_another_memory_size_is_refused(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory(memory_mb=2048)
    assert errors_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)}) == [
        f"coldbrew:schedule: {path} was tuned for 2048 MB, but coldbrew:memory is 1024; "
        "re-run `coldbrew tune --memory 1024` or set coldbrew:memory"
    ]


def test_a_missing_schedule_names_the_key(
    artifact_factory: ArtifactFactory, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.json"
    (error,) = errors_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(missing)})
    assert error.startswith(f"coldbrew:schedule: {missing}: cannot read the schedule: ")
    assert error.endswith("; fix the file or re-run `coldbrew tune`")


def test_a_malformed_schedule_names_the_key_and_the_field(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory()
    data = json.loads(path.read_text())
    data["blocks"][1]["min_capacity"] = 9
    path.write_text(json.dumps(data))
    assert errors_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)}) == [
        f"coldbrew:schedule: {path}: blocks[1].min_capacity must be <= max_capacity (9 > 4); "
        "fix the file or re-run `coldbrew tune`"
    ]


def test_a_schedule_that_is_not_json_names_the_key(
    artifact_factory: ArtifactFactory, tmp_path: Path
) -> None:
    path = tmp_path / "schedule.json"
    path.write_text("{")
    (error,) = errors_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)})
    assert error.startswith(f"coldbrew:schedule: {path}:1: not JSON: ")


def test_target_tracking_may_not_start_from_a_schedule_minimum_of_zero(
    artifact_factory: ArtifactFactory, schedule_factory: ScheduleFactory
) -> None:
    path = schedule_factory()
    data = json.loads(path.read_text())
    data["blocks"][0].update(min_capacity=0, max_capacity=0)
    data["blocks"][0]["gcf"]["min_instance_count"] = 0
    path.write_text(json.dumps(data))
    context = {**PROVISIONED, k.SCHEDULE: str(path), k.TARGET_UTILIZATION: 0.7}
    (error,) = errors_for(artifact_factory(), **context)
    assert error.startswith("coldbrew:provisioned_min must be at least 1 with ")
    # Schedule-only, a night at 0 is what the tuner may well ask for.
    got = settings_for(artifact_factory(), **PROVISIONED, **{k.SCHEDULE: str(path)})
    assert got.cold_start.provisioned is not None
    assert got.cold_start.provisioned.min_capacity == 0
