"""Cold-start strategies in the template: SnapStart, provisioned concurrency on alias live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coldbrew.capacity.schedule import read_schedule

if TYPE_CHECKING:
    from conftest import Matrix, Synth, SynthFactory

TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"


def scalable_target(synth: Synth) -> dict[str, Any]:
    _, target = synth.only(TARGET)
    props: dict[str, Any] = target["Properties"]
    return props


def assert_targets_alias_live(synth: Synth, props: dict[str, Any]) -> None:
    alias_id, _ = synth.only("AWS::Lambda::Alias")
    assert props["ServiceNamespace"] == "lambda"
    assert props["ScalableDimension"] == "lambda:function:ProvisionedConcurrency"
    # function:<name>:live, the name cut from the alias ARN (so it follows the alias).
    assert props["ResourceId"] == {
        "Fn::Join": [
            "",
            [
                "function:",
                {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": alias_id}]}]},
                ":live",
            ],
        ]
    }
    # Application Auto Scaling's service-linked role, not one the stack creates.
    assert "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency" in str(props["RoleARN"])


def test_snapstart_applies_to_published_versions_behind_the_alias(matrix: Matrix) -> None:
    synth = matrix.get("zip", "snapstart", False)
    function_id, function = synth.only("AWS::Lambda::Function")
    assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    version_id, _ = synth.only("AWS::Lambda::Version")
    _, alias = synth.only("AWS::Lambda::Alias")
    # The snapshot is taken when the version is published; the URL serves it via live.
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    assert alias["Properties"]["FunctionName"] == {"Ref": function_id}
    synth.template.resource_count_is(TARGET, 0)


def test_the_schedule_file_becomes_scheduled_actions(matrix: Matrix, schedule_file: Path) -> None:
    synth = matrix.get("zip", "provisioned-schedule", False)
    props = scalable_target(synth)
    assert_targets_alias_live(synth, props)
    schedule = read_schedule(schedule_file)
    assert props["ScheduledActions"] == [
        {
            "ScheduledActionName": block.action_name,
            "Schedule": block.cron,
            "ScalableTargetAction": {
                "MinCapacity": block.min_capacity,
                "MaxCapacity": block.max_capacity,
            },
            "Timezone": "Etc/UTC",
        }
        for block in schedule.blocks
    ]
    # Spelled out, so a change in the fixture or the reader shows here too.
    assert [a["Schedule"] for a in props["ScheduledActions"]] == [
        "cron(0 0 * * ? *)",
        "cron(0 8 * * ? *)",
        "cron(0 20 * * ? *)",
    ]
    # Registered with the day's lowest and highest levels, as `coldbrew tune --apply` does.
    assert (props["MinCapacity"], props["MaxCapacity"]) == (1, 4)
    synth.template.resource_count_is(POLICY, 0)


def test_target_tracking_on_provisioned_concurrency_utilization(matrix: Matrix) -> None:
    synth = matrix.get("layer", "provisioned-target", True)
    props = scalable_target(synth)
    assert_targets_alias_live(synth, props)
    assert (props["MinCapacity"], props["MaxCapacity"]) == (2, 20)
    assert "ScheduledActions" not in props
    target_id, _ = synth.only(TARGET)
    _, policy = synth.only(POLICY)
    assert policy["Properties"]["PolicyType"] == "TargetTrackingScaling"
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert policy["Properties"]["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"
        },
        "TargetValue": 0.7,
    }


def test_schedule_and_target_tracking_together(
    synth_factory: SynthFactory, layouts: dict[str, Path], schedule_file: Path
) -> None:
    synth = synth_factory(
        layouts["image"],
        **{
            "coldbrew:cold_start": "provisioned",
            "coldbrew:schedule": str(schedule_file),
            "coldbrew:target_utilization": "0.5",
            "coldbrew:provisioned_max": "8",
        },
    )
    props = scalable_target(synth)
    assert (props["MinCapacity"], props["MaxCapacity"]) == (1, 8)
    assert len(props["ScheduledActions"]) == 3
    _, policy = synth.only(POLICY)
    assert policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 0.5


def test_provisioned_concurrency_stays_within_the_reservation(
    synth_factory: SynthFactory, layouts: dict[str, Path]
) -> None:
    synth = synth_factory(
        layouts["zip"],
        **{
            "coldbrew:cold_start": "provisioned",
            "coldbrew:target_utilization": "0.7",
            "coldbrew:reserved_concurrency": "6",
        },
    )
    assert synth.function()["ReservedConcurrentExecutions"] == 6
    assert scalable_target(synth)["MaxCapacity"] == 6


def test_snapstart_synthesizes_without_warnings(matrix: Matrix) -> None:
    synth = matrix.get("layer", "snapstart", True)
    metadata = json.loads((synth.outdir / f"{synth.stack.artifact_id}.metadata.json").read_text())
    warnings = [
        entry["data"]
        for entries in metadata.values()
        for entry in entries
        if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
    ]
    assert warnings == []
