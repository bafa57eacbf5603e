"""The synthesized stack: function, log group, role, version, alias, URL, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import Token

if TYPE_CHECKING:
    from conftest import Synth

LAMBDA = "AWS::Lambda::Function"


def test_default_function_runs_the_artifact_handler_on_python312_x86(default_synth: Synth) -> None:
    default_synth.template.resource_count_is(LAMBDA, 1)
    default_synth.template.has_resource_properties(
        LAMBDA,
        {
            "Runtime": "python3.12",
            "Architectures": ["x86_64"],
            "Handler": "lambda_function.handler",
            "MemorySize": 1024,
            "Timeout": 30,
        },
    )


def test_default_function_name_is_left_to_cloudformation(default_synth: Synth) -> None:
    _, function = default_synth.only(LAMBDA)
    assert "FunctionName" not in function["Properties"]


def test_context_overrides_every_setting(custom_synth: Synth) -> None:
    custom_synth.template.has_resource_properties(
        LAMBDA,
        {
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Handler": "lambda_function.handler",
            "MemorySize": 2048,
            "Timeout": 120,
            "FunctionName": "coldbrew-test-fn",
        },
    )
    custom_synth.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    assert custom_synth.stack.stack_name == "coldbrew-custom"


def test_python_and_arch_default_to_the_build_report(report_synth: Synth) -> None:
    report_synth.template.has_resource_properties(
        LAMBDA, {"Runtime": "python3.13", "Architectures": ["arm64"]}
    )


def test_the_function_logs_to_its_own_group_with_retention(default_synth: Synth) -> None:
    log_group_id, log_group = default_synth.only("AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] == 14
    default_synth.template.has_resource_properties(
        LAMBDA, {"LoggingConfig": {"LogGroup": {"Ref": log_group_id}}}
    )


def test_the_role_can_only_write_to_its_log_group(default_synth: Synth) -> None:
    _, role = default_synth.only("AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]
    log_group_id, _ = default_synth.only("AWS::Logs::LogGroup")
    _, policy = default_synth.only("AWS::IAM::Policy")
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
        }
    ]


def test_alias_live_points_at_a_published_version_of_the_function(default_synth: Synth) -> None:
    function_id, _ = default_synth.only(LAMBDA)
    version_id, version = default_synth.only("AWS::Lambda::Version")
    assert version["Properties"]["FunctionName"] == {"Ref": function_id}
    _, alias = default_synth.only("AWS::Lambda::Alias")
    assert alias["Properties"] == {
        "FunctionName": {"Ref": function_id},
        "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
        "Name": "live",
    }


@pytest.mark.parametrize(
    ("synth_name", "auth"), [("default_synth", "AWS_IAM"), ("custom_synth", "NONE")]
)
def test_function_url_is_attached_to_the_alias(
    synth_name: str, auth: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    function_id, _ = synth.only(LAMBDA)
    alias_id, _ = synth.only("AWS::Lambda::Alias")
    _, url = synth.only("AWS::Lambda::Url")
    assert url["Properties"] == {
        "AuthType": auth,
        "Qualifier": "live",
        "TargetFunctionArn": {"Fn::GetAtt": [function_id, "Arn"]},
    }
    # Without the dependency CloudFormation may create the URL before the alias exists.
    assert alias_id in url["DependsOn"]


def test_iam_auth_grants_nobody_public_access(default_synth: Synth) -> None:
    default_synth.template.resource_count_is("AWS::Lambda::Permission", 0)


def test_public_url_permissions_exist_only_when_asked(custom_synth: Synth) -> None:
    alias_id, _ = custom_synth.only("AWS::Lambda::Alias")
    custom_synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunctionUrl",
            "FunctionName": {"Ref": alias_id},
            "FunctionUrlAuthType": "NONE",
            "Principal": "*",
        },
    )
    # Since 2025 a public URL also needs lambda:InvokeFunction, scoped to URL calls.
    custom_synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": alias_id},
            "InvokedViaFunctionUrl": True,
            "Principal": "*",
        },
    )


def test_outputs_name_the_url_function_and_alias(default_synth: Synth) -> None:
    function_id, _ = default_synth.only(LAMBDA)
    alias_id, _ = default_synth.only("AWS::Lambda::Alias")
    url_id, _ = default_synth.only("AWS::Lambda::Url")
    outputs: dict[str, Any] = default_synth.template.find_outputs("*")
    assert {name: output["Value"] for name, output in outputs.items()} == {
        "FunctionUrl": {"Fn::GetAtt": [url_id, "FunctionUrl"]},
        "FunctionName": {"Ref": function_id},
        "AliasArn": {"Ref": alias_id},
    }


def test_the_deployed_code_is_the_artifact_byte_for_byte(default_synth: Synth) -> None:
    _, function = default_synth.only(LAMBDA)
    s3_key = function["Properties"]["Code"]["S3Key"]
    assets = json.loads((default_synth.outdir / "coldbrew-minilm.assets.json").read_text())
    sources = [
        asset["source"]
        for asset in assets["files"].values()
        if any(dest["objectKey"] == s3_key for dest in asset["destinations"].values())
    ]
    assert len(sources) == 1
    assert sources[0]["packaging"] == "file"  # uploaded as-is, not re-zipped
    staged = default_synth.outdir / sources[0]["path"]
    assert staged.read_bytes() == default_synth.artifact.read_bytes()


def test_the_stack_is_environment_agnostic(default_synth: Synth) -> None:
    # No account or region baked in: synth needs no credentials.
    assert Token.is_unresolved(default_synth.stack.account)
    assert Token.is_unresolved(default_synth.stack.region)


@pytest.mark.parametrize("synth_name", ["default_synth", "custom_synth"])
def test_cdk_nag_ran_and_passed(synth_name: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    conclusions = {r["pluginName"]: r["conclusion"] for r in report["pluginReports"]}
    assert conclusions == {"AwsSolutions": "success"}


@pytest.mark.parametrize("synth_name", ["default_synth", "custom_synth"])
def test_cfn_lint_finds_no_errors(synth_name: str, request: pytest.FixtureRequest) -> None:
    from cfnlint.api import ManualArgs, lint_file

    synth: Synth = request.getfixturevalue(synth_name)
    template_path = Path(synth.outdir) / f"{synth.stack.artifact_id}.template.json"
    matches = lint_file(template_path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    # W3005 (DependsOn already implied by a GetAtt) is how CDK orders a function
    # after its role's policy; it is redundant, not wrong.
    problems = [str(m) for m in matches if m.rule.id != "W3005"]
    assert problems == []
