"""AsyncQueue: SQS queue and DLQ, the event source mapping on alias live, the results bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match
from construct_harness import Harness, Synthesized, make_harness

from coldbrew.errors import ConfigurationError
from coldbrew.runtime import settings as runtime_settings
from infra.async_queue import AsyncQueue

TIMEOUT_S = 30
PROPS: dict[str, Any] = {
    "function_timeout_s": TIMEOUT_S,
    "batch_size": 10,
    "max_batching_window_s": 2,
    "max_receive_count": 5,
    "max_concurrency": 20,
    "result_retention_days": 7,
}
SECURE_TRANSPORT_DENY = {"Bool": {"aws:SecureTransport": "false"}}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[AsyncQueue, Synthesized]:
    """The queue wired as the stack wires it: mapping on the alias, grant, environment."""
    harness = make_harness(tmp_path_factory.mktemp("async"), timeout_s=TIMEOUT_S)
    queue = AsyncQueue(harness.stack, "Async", function=harness.alias, **PROPS)
    queue.grant_to(harness.role)
    for name, value in queue.environment.items():
        harness.function.add_environment(name, value)
    return queue, harness.synth()


@pytest.fixture(scope="module")
def uncapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[AsyncQueue, Synthesized]:
    """Large batches, no concurrency cap, the longest timeout, few receives."""
    harness = make_harness(tmp_path_factory.mktemp("uncapped"), timeout_s=900)
    queue = AsyncQueue(
        harness.stack,
        "Async",
        function=harness.alias,
        function_timeout_s=900,
        batch_size=100,
        max_batching_window_s=1,
        max_receive_count=3,
        max_concurrency=None,
        result_retention_days=1,
        result_prefix="out/embeddings/",
    )
    queue.grant_to(harness.role)
    return queue, harness.synth()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """A stack never synthesized: bad props must be refused before anything is added."""
    return make_harness(tmp_path_factory.mktemp("scratch"))


def test_the_mapping_invokes_alias_live_with_partial_batch_responses(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    _, mapping = synth.only("AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [synth.logical_id(queue.queue), "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 10
    assert props["MaximumBatchingWindowInSeconds"] == 2
    assert props["ScalingConfig"] == {"MaximumConcurrency": 20}
    # "<function name>:live", cut from the alias ARN: the alias, never $LATEST.
    alias_id = synth.logical_id(synth.harness.alias)
    assert props["FunctionName"] == {
        "Fn::Join": [
            "",
            [{"Fn::Select": [6, {"Fn::Split": [":", {"Ref": alias_id}]}]}, ":live"],
        ]
    }


def test_the_queue_redrives_to_the_dlq_after_max_receive_count(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    synth.template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {
                "deadLetterTargetArn": {
                    "Fn::GetAtt": [synth.logical_id(queue.dead_letter_queue), "Arn"]
                },
                "maxReceiveCount": 5,
            },
        },
    )


def test_visibility_timeout_is_six_function_timeouts_plus_the_batching_window(
    built: tuple[AsyncQueue, Synthesized], uncapped: tuple[AsyncQueue, Synthesized]
) -> None:
    for (queue, synth), expected in ((built, 6 * 30 + 2), (uncapped, 6 * 900 + 1)):
        body = synth.resources("AWS::SQS::Queue")[synth.logical_id(queue.queue)]
        assert body["Properties"]["VisibilityTimeout"] == expected


def test_queues_are_encrypted_and_the_dlq_outlives_the_source(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    queues = synth.resources("AWS::SQS::Queue")
    source = queues[synth.logical_id(queue.queue)]["Properties"]
    dlq = queues[synth.logical_id(queue.dead_letter_queue)]["Properties"]
    assert source["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True
    assert source["MessageRetentionPeriod"] == 4 * 86_400
    assert dlq["MessageRetentionPeriod"] == 14 * 86_400
    assert "RedrivePolicy" not in dlq


def test_both_queues_refuse_requests_without_tls(built: tuple[AsyncQueue, Synthesized]) -> None:
    queue, synth = built
    protected = set()
    for policy in synth.resources("AWS::SQS::QueuePolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            s["Effect"] == "Deny"
            and s["Action"] == "sqs:*"
            and s["Condition"] == SECURE_TRANSPORT_DENY
            for s in statements
        ):
            protected.update(ref["Ref"] for ref in policy["Properties"]["Queues"])
    assert protected == {
        synth.logical_id(queue.queue),
        synth.logical_id(queue.dead_letter_queue),
    }


def test_results_bucket_is_private_encrypted_logged_and_expires(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    results = synth.resources("AWS::S3::Bucket")[synth.logical_id(queue.results)]["Properties"]
    assert results["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert results["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert results["LifecycleConfiguration"] == {
        "Rules": [
            {
                "ExpirationInDays": 7,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                "Status": "Enabled",
            }
        ]
    }
    assert results["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(queue.access_logs)},
        "LogFilePrefix": "results-bucket/",
    }
    assert "VersioningConfiguration" not in results


def test_both_buckets_refuse_requests_without_tls(built: tuple[AsyncQueue, Synthesized]) -> None:
    queue, synth = built
    protected = set()
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == SECURE_TRANSPORT_DENY
            for s in statements
        ):
            protected.add(policy["Properties"]["Bucket"]["Ref"])
    assert protected == {synth.logical_id(queue.results), synth.logical_id(queue.access_logs)}


def test_access_logs_arrive_by_bucket_policy_from_the_results_bucket_only(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    logs_id = synth.logical_id(queue.access_logs)
    logs = synth.resources("AWS::S3::Bucket")[logs_id]["Properties"]
    assert logs["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert logs["LifecycleConfiguration"] == {
        "Rules": [{"ExpirationInDays": 90, "Status": "Enabled"}]
    }
    assert "AccessControl" not in logs  # no legacy LogDeliveryWrite ACL
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logs_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "s3:PutObject",
                            "Effect": "Allow",
                            "Principal": {"Service": "logging.s3.amazonaws.com"},
                            "Condition": {
                                "ArnLike": {
                                    "aws:SourceArn": {
                                        "Fn::GetAtt": [synth.logical_id(queue.results), "Arn"]
                                    }
                                },
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            },
                            "Resource": Match.any_value(),
                        }
                    ]
                )
            },
        },
    )


def test_the_role_may_consume_the_queue_and_put_results_and_nothing_else(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    _, policy = synth.only("AWS::IAM::Policy")
    assert policy["Properties"]["Roles"] == [{"Ref": synth.logical_id(synth.harness.role)}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [synth.logical_id(queue.queue), "Arn"]},
        },
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [{"Fn::GetAtt": [synth.logical_id(queue.results), "Arn"]}, "/results/*"],
                ]
            },
        },
    ]


def test_the_grant_follows_a_custom_prefix(uncapped: tuple[AsyncQueue, Synthesized]) -> None:
    queue, synth = uncapped
    _, policy = synth.only("AWS::IAM::Policy")
    put = policy["Properties"]["PolicyDocument"]["Statement"][-1]
    assert put["Resource"]["Fn::Join"][1][1] == "/out/embeddings/*"
    assert queue.environment[runtime_settings.RESULT_PREFIX] == "out/embeddings/"


def test_environment_names_the_bucket_and_prefix_for_the_handler(
    built: tuple[AsyncQueue, Synthesized],
) -> None:
    queue, synth = built
    assert set(queue.environment) == {
        runtime_settings.RESULT_BUCKET,
        runtime_settings.RESULT_PREFIX,
    }
    synth.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": {
                    runtime_settings.RESULT_BUCKET: {"Ref": synth.logical_id(queue.results)},
                    runtime_settings.RESULT_PREFIX: "results/",
                }
            }
        },
    )


def test_without_a_cap_there_is_no_scaling_config(uncapped: tuple[AsyncQueue, Synthesized]) -> None:
    _, synth = uncapped
    _, mapping = synth.only("AWS::Lambda::EventSourceMapping")
    assert "ScalingConfig" not in mapping["Properties"]
    assert mapping["Properties"]["BatchSize"] == 100


def test_few_receives_warn_that_throttling_can_dead_letter_good_messages(
    built: tuple[AsyncQueue, Synthesized], uncapped: tuple[AsyncQueue, Synthesized]
) -> None:
    _, low = uncapped
    Annotations.from_stack(low.harness.stack).has_warning(
        "*", Match.string_like_regexp("max_receive_count=3: a throttled poll")
    )
    _, default = built
    assert Annotations.from_stack(default.harness.stack).find_warning("*", Match.any_value()) == []


@pytest.mark.parametrize("name", ["built", "uncapped"])
def test_cdk_nag_passes_with_only_the_justified_acknowledgments(
    name: str, request: pytest.FixtureRequest
) -> None:
    queue, synth = request.getfixturevalue(name)
    assert synth.nag_conclusions() == {"AwsSolutions": "success"}
    results_id = synth.logical_id(queue.results)
    prefix = queue.result_prefix
    assert {(rule, path) for rule, path in synth.suppressed() if path.startswith("harness/")} == {
        ("AwsSolutions-L1", "harness/Function/Resource"),  # the fixture's own
        (
            f"AwsSolutions-IAM5[Resource::<{results_id}.Arn>/{prefix}*]",
            "harness/Role/DefaultPolicy/Resource",
        ),
    }


@pytest.mark.parametrize("name", ["built", "uncapped"])
def test_cfn_lint_finds_nothing(name: str, request: pytest.FixtureRequest) -> None:
    _, synth = request.getfixturevalue(name)
    assert synth.lint() == []


def test_the_harness_nag_check_bites(tmp_path: Path) -> None:
    # Proves the tests above can fail: a queue without DLQ or TLS policy is refused.
    harness = make_harness(tmp_path)
    sqs.Queue(harness.stack, "Bare")
    with pytest.raises(RuntimeError, match=r"AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4"):
        harness.synth()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": 0}, "batch_size must be from 1 to 10000, got 0"),
        ({"batch_size": 10_001}, "batch_size must be from 1 to 10000, got 10001"),
        (
            {"batch_size": 11, "max_batching_window_s": 0},
            "batch_size 11 is over 10, which Lambda allows only with max_batching_window_s of at "
            "least 1",
        ),
        ({"max_batching_window_s": 301}, "max_batching_window_s must be from 0 to 300, got 301"),
        ({"max_receive_count": 0}, "max_receive_count must be from 1 to 1000, got 0"),
        ({"max_receive_count": 1001}, "max_receive_count must be from 1 to 1000, got 1001"),
        ({"max_concurrency": 1}, "max_concurrency must be from 2 to 1000, got 1"),
        ({"max_concurrency": 1001}, "max_concurrency must be from 2 to 1000, got 1001"),
        ({"function_timeout_s": 0}, "function_timeout_s must be from 1 to 900, got 0"),
        ({"function_timeout_s": 901}, "function_timeout_s must be from 1 to 900, got 901"),
        ({"result_retention_days": 0}, "result_retention_days must be at least 1, got 0"),
        ({"access_log_retention_days": 0}, "access_log_retention_days must be at least 1, got 0"),
        ({"result_prefix": "results"}, "result_prefix must be one or more segments"),
        ({"result_prefix": "/results/"}, "got '/results/'"),
        ({"result_prefix": "res*/"}, "got 'res*/'"),
        ({"result_prefix": ""}, "got ''"),
        (
            {"function_timeout_s": 900, "max_batching_window_s": 0, "max_receive_count": 65},
            "max_receive_count 65 x visibility timeout 5400 s (6 x function_timeout_s + "
            "max_batching_window_s) = 351000 s exceeds the queue's 345600 s retention",
        ),
    ],
)
def test_props_outside_the_limits_are_refused(
    scratch: Harness, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncQueue(scratch.stack, "Bad", function=scratch.alias, **{**PROPS, **changes})
    assert message in str(caught.value)
    assert str(caught.value).startswith("AsyncQueue: ")
    # Refused before anything was added to the stack.
    assert scratch.stack.node.try_find_child("Bad") is None


def test_the_longest_retry_chain_that_fits_the_retention_is_accepted(scratch: Harness) -> None:
    # 64 receives x 5400 s = 345,600 s: exactly the source queue's retention.
    queue = AsyncQueue(
        scratch.stack,
        "Edge",
        function=scratch.alias,
        **{**PROPS, "function_timeout_s": 900, "max_batching_window_s": 0, "max_receive_count": 64},
    )
    assert queue.queue is not None


def test_every_bad_prop_is_named_at_once(scratch: Harness) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncQueue(
            scratch.stack,
            "Bad",
            function=scratch.alias,
            **{**PROPS, "batch_size": 0, "max_concurrency": 1, "result_prefix": "x"},
        )
    text = str(caught.value)
    assert text.startswith("AsyncQueue: invalid props:\n")
    assert text.count("\n  - ") == 3
