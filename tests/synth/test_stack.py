"""The synthesized stack: function, log group, role, version, alias, URL, outputs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import Token

from coldbrew.runtime import settings as runtime_settings

if TYPE_CHECKING:
    from conftest import ArtifactFactory, Linter, Synth, SynthFactory

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


def test_defaults_leave_out_what_was_not_asked_for(default_synth: Synth) -> None:
    props = default_synth.function()
    # No environment: the runtime picks its threads from the memory size.
    assert "Environment" not in props
    # No reservation: the function shares the account's unreserved pool.
    assert "ReservedConcurrentExecutions" not in props
    assert "SnapStart" not in props
    assert props["EphemeralStorage"] == {"Size": 512}
    for kind in ("AWS::ApplicationAutoScaling::ScalableTarget", "AWS::SQS::Queue"):
        default_synth.template.resource_count_is(kind, 0)


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
            "EphemeralStorage": {"Size": 4096},
            "ReservedConcurrentExecutions": 25,
            # The variable's name is the runtime's own (coldbrew.runtime_settings.INTRA_OP_THREADS).
            "Environment": {"Variables": {runtime_settings.INTRA_OP_THREADS: "2"}},
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


def test_function_url_is_attached_to_the_alias(default_synth: Synth) -> None:
    function_id, _ = default_synth.only(LAMBDA)
    alias_id, _ = default_synth.only("AWS::Lambda::Alias")
    _, url = default_synth.only("AWS::Lambda::Url")
    # IAM auth by default, and no CORS: pages on other origins cannot read responses.
    assert url["Properties"] == {
        "AuthType": "AWS_IAM",
        "Qualifier": "live",
        "TargetFunctionArn": {"Fn::GetAtt": [function_id, "Arn"]},
    }
    # Without the dependency CloudFormation may create the URL before the alias exists.
    assert alias_id in url["DependsOn"]


def test_public_url_with_cors_from_context(custom_synth: Synth) -> None:
    _, url = custom_synth.only("AWS::Lambda::Url")
    assert url["Properties"]["AuthType"] == "NONE"
    assert url["Properties"]["Qualifier"] == "live"
    assert url["Properties"]["Cors"] == {
        "AllowOrigins": ["https://app.example.com", "http://localhost:8080"],
        "AllowMethods": ["POST"],
        # A public URL needs no signing headers, only the JSON body's type.
        "AllowHeaders": ["content-type"],
        "MaxAge": 300,
    }


def test_cors_on_an_iam_url_allows_the_signing_headers(
    synth_factory: SynthFactory, artifact_factory: ArtifactFactory
) -> None:
    synth = synth_factory(
        artifact_factory(),
        **{"coldbrew:cors_origins": '["https://console.example.com"]'},
    )
    _, url = synth.only("AWS::Lambda::Url")
    assert url["Properties"]["AuthType"] == "AWS_IAM"
    assert url["Properties"]["Cors"]["AllowMethods"] == ["GET", "POST"]
    assert set(url["Properties"]["Cors"]["AllowHeaders"]) == {
        "content-type",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    }


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
    # The report lists the pack because it has acknowledged findings (L1 here);
    # an unacknowledged one would have made the synthesis raise.
    assert synth.nag_conclusions() == {"AwsSolutions": "success"}


def test_cfn_lint_finds_no_problems(
    lint: Linter, default_synth: Synth, custom_synth: Synth, report_synth: Synth
) -> None:
    synths = (default_synth, custom_synth, report_synth)
    findings = lint(s.template_path for s in synths)
    assert findings == {s.template_path: [] for s in synths}


def test_operations_get_the_settings(custom_synth: Synth) -> None:
    template = custom_synth.template
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "Duration", "ExtendedStatistic": "p99", "Threshold": 2500},
    )
    _, budget = custom_synth.only("AWS::Budgets::Budget")
    props = budget["Properties"]
    assert props["Budget"]["BudgetLimit"] == {"Amount": 12.5, "Unit": "USD"}
    actual = [
        n["Notification"]["Threshold"]
        for n in props["NotificationsWithSubscribers"]
        if n["Notification"]["NotificationType"] == "ACTUAL"
    ]
    assert actual == [80, 100]
    emails = {
        s["Address"]
        for n in props["NotificationsWithSubscribers"]
        for s in n["Subscribers"]
        if s["SubscriptionType"] == "EMAIL"
    }
    assert emails == {"billing@example.com"}


def test_operations_watch_the_function_by_default(default_synth: Synth) -> None:
    function_id, _ = default_synth.only(LAMBDA)
    alarms = default_synth.resources("AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {
        "Errors",
        "Throttles",
        "Duration",
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["Dimensions"] == [
            {"Name": "FunctionName", "Value": {"Ref": function_id}}
        ]
    default_synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "Duration", "Threshold": 1000}
    )
    default_synth.template.resource_count_is("AWS::Budgets::Budget", 1)


def test_the_async_path_gets_its_settings_and_the_function_role(
    synth_factory: SynthFactory, artifact_factory: ArtifactFactory
) -> None:
    synth = synth_factory(
        artifact_factory(),
        **{
            "coldbrew:async": "true",
            "coldbrew:reserved_concurrency": "40",
            "coldbrew:async_max_concurrency": "10",
            "coldbrew:async_batch_size": "50",
            "coldbrew:async_batch_window": "2",
            "coldbrew:async_max_receive_count": "7",
            "coldbrew:async_result_retention_days": "3",
        },
    )
    assert synth.function()["ReservedConcurrentExecutions"] == 40
    _, mapping = synth.only("AWS::Lambda::EventSourceMapping")
    assert mapping["Properties"]["BatchSize"] == 50
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == 2
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 10}
    queues = synth.resources("AWS::SQS::Queue")
    (source,) = (q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    assert source["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 7
    # Six times the 30 s timeout, plus the batching window.
    assert source["Properties"]["VisibilityTimeout"] == 182
    bucket_id = synth.function()["Environment"]["Variables"][runtime_settings.RESULT_BUCKET]["Ref"]
    rules = synth.resources("AWS::S3::Bucket")[bucket_id]["Properties"]["LifecycleConfiguration"]
    assert [r.get("ExpirationInDays") for r in rules["Rules"]] == [3]
    # The function's own role may write results, and nothing else in the bucket.
    role_id, _ = synth.only("AWS::IAM::Role")
    writes = [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutObject" in json.dumps(statement["Action"])
    ]
    assert len(writes) == 1
    assert "/results/*" in json.dumps(writes[0]["Resource"])
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible"}
    )
