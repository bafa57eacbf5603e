"""Operations: the alert topic, alarms, the monthly budget and the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from construct_harness import Harness, Synthesized, dashboard_body, make_harness

from coldbrew.errors import ConfigurationError
from infra.async_queue import AsyncQueue
from infra.operations import COST_TAG_KEY, Operations

P99_MS = 1500
ON_CALL = "oncall@example.com"
FINANCE = "finance@example.com"
PROPS: dict[str, Any] = {
    "dead_letter_queue": None,
    "p99_duration_ms": P99_MS,
    "alarm_email": ON_CALL,
    "monthly_budget_usd": 25.0,
    "budget_thresholds": (100, 50, 80),
    "budget_email": FINANCE,
}


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Operations, AsyncQueue, Synthesized]:
    """With the async path (queue and DLQ), both emails, a cost tag and the forecast."""
    harness = make_harness(tmp_path_factory.mktemp("ops-full"))
    queue = AsyncQueue(
        harness.stack,
        "Async",
        function=harness.alias,
        function_timeout_s=30,
        batch_size=10,
        max_batching_window_s=0,
        max_receive_count=5,
        max_concurrency=None,
        result_retention_days=7,
    )
    ops = Operations(
        harness.stack,
        "Ops",
        function=harness.function,
        alias=harness.alias,
        **{
            **PROPS,
            "dead_letter_queue": queue.dead_letter_queue,
            "queue": queue.queue,
            "cost_tag": (COST_TAG_KEY, "coldbrew-test"),
        },
    )
    return ops, queue, harness.synth()


@pytest.fixture(scope="module")
def lean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Operations, Synthesized]:
    """No async path, no forecast, no cost tag; the budget email is the on-call one."""
    harness = make_harness(tmp_path_factory.mktemp("ops-lean"))
    ops = Operations(
        harness.stack,
        "Ops",
        function=harness.function,
        alias=harness.alias,
        **{**PROPS, "budget_email": ON_CALL, "forecast_threshold": None},
    )
    return ops, harness.synth()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """A stack never synthesized: bad props must be refused before anything is added."""
    return make_harness(tmp_path_factory.mktemp("ops-scratch"))


def _alarm(synth: Synthesized, alarm: Any) -> dict[str, Any]:
    props: dict[str, Any] = synth.resources("AWS::CloudWatch::Alarm")[synth.logical_id(alarm)][
        "Properties"
    ]
    return props


def test_the_topic_requires_tls_and_admits_only_this_accounts_alarms_and_budgets(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    ops, _, synth = full
    topic_id, topic = synth.only("AWS::SNS::Topic")
    assert topic_id == synth.logical_id(ops.topic)
    assert "KmsMasterKeyId" not in topic["Properties"]
    _, policy = synth.only("AWS::SNS::TopicPolicy")
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    account = {"Ref": "AWS::AccountId"}
    partition = {"Ref": "AWS::Partition"}
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "AllowPublishThroughSSLOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                partition,
                                ":cloudwatch:",
                                {"Ref": "AWS::Region"},
                                ":",
                                account,
                                ":alarm:*",
                            ],
                        ]
                    }
                },
            },
        },
        {
            "Sid": "BudgetsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "budgets.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Join": ["", ["arn:", partition, ":budgets::", account, ":*"]]
                    }
                },
            },
        },
    ]


def test_the_alarm_email_subscribes_to_the_topic(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    ops, _, synth = full
    _, subscription = synth.only("AWS::SNS::Subscription")
    assert subscription["Properties"] == {
        "Protocol": "email",
        "Endpoint": ON_CALL,
        "TopicArn": {"Ref": synth.logical_id(ops.topic)},
    }


def test_function_errors_and_throttles_alarm_on_the_first_one(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    ops, _, synth = full
    function_id = synth.logical_id(synth.harness.function)
    for name, metric in (("errors", "Errors"), ("throttles", "Throttles")):
        props = _alarm(synth, ops.alarms[name])
        assert {k: props[k] for k in props if k != "AlarmDescription"} == {
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}],
            "Statistic": "Sum",
            "Period": 300,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": synth.logical_id(ops.topic)}],
            "OKActions": [{"Ref": synth.logical_id(ops.topic)}],
        }


def test_p99_duration_alarms_in_two_of_three_periods(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    ops, _, synth = full
    props = _alarm(synth, ops.alarms["p99_duration"])
    assert props["MetricName"] == "Duration"
    assert props["ExtendedStatistic"] == "p99"
    assert "Statistic" not in props
    assert props["Threshold"] == P99_MS
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (3, 2)
    assert props["Period"] == 300
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": synth.logical_id(ops.topic)}]


def test_a_single_dead_letter_alarms(full: tuple[Operations, AsyncQueue, Synthesized]) -> None:
    ops, queue, synth = full
    props = _alarm(synth, ops.alarms["dead_letters"])
    dlq_id = synth.logical_id(queue.dead_letter_queue)
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}
    ]
    assert props["Statistic"] == "Maximum"
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
    assert props["TreatMissingData"] == "notBreaching"
    assert props["OKActions"] == [{"Ref": synth.logical_id(ops.topic)}]


def test_alarms_exist_only_for_what_is_deployed(
    full: tuple[Operations, AsyncQueue, Synthesized], lean: tuple[Operations, Synthesized]
) -> None:
    full_ops, _, full_synth = full
    lean_ops, lean_synth = lean
    assert set(full_ops.alarms) == {"errors", "throttles", "p99_duration", "dead_letters"}
    assert set(lean_ops.alarms) == {"errors", "throttles", "p99_duration"}
    assert len(full_synth.resources("AWS::CloudWatch::Alarm")) == 4
    assert len(lean_synth.resources("AWS::CloudWatch::Alarm")) == 3


def test_the_budget_notifies_actual_spend_at_each_threshold_and_the_forecast(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    ops, _, synth = full
    budget_id, budget = synth.only("AWS::Budgets::Budget")
    assert budget_id == synth.logical_id(ops.budget)
    assert budget["Properties"]["Budget"] == {
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": 25, "Unit": "USD"},
        "CostFilters": {"TagKeyValue": ["user:coldbrew:stack$coldbrew-test"]},
    }
    subscribers = [
        {"SubscriptionType": "SNS", "Address": {"Ref": synth.logical_id(ops.topic)}},
        {"SubscriptionType": "EMAIL", "Address": FINANCE},
    ]
    assert budget["Properties"]["NotificationsWithSubscribers"] == [
        {
            "Notification": {
                "NotificationType": kind,
                "ComparisonOperator": "GREATER_THAN",
                "Threshold": threshold,
                "ThresholdType": "PERCENTAGE",
            },
            "Subscribers": subscribers,
        }
        for kind, threshold in [
            ("ACTUAL", 50),
            ("ACTUAL", 80),
            ("ACTUAL", 100),
            ("FORECASTED", 100),
        ]
    ]


def test_the_budget_waits_for_the_topic_policy(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    _, _, synth = full
    policy_id, _ = synth.only("AWS::SNS::TopicPolicy")
    _, budget = synth.only("AWS::Budgets::Budget")
    assert budget["DependsOn"] == [policy_id]


def test_a_lean_budget_counts_the_account_and_does_not_email_on_call_twice(
    lean: tuple[Operations, Synthesized],
) -> None:
    ops, synth = lean
    _, budget = synth.only("AWS::Budgets::Budget")
    assert "CostFilters" not in budget["Properties"]["Budget"]
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    assert [n["Notification"]["NotificationType"] for n in notifications] == ["ACTUAL"] * 3
    # On-call hears the budget through the topic it subscribed to.
    for notification in notifications:
        assert notification["Subscribers"] == [
            {"SubscriptionType": "SNS", "Address": {"Ref": synth.logical_id(ops.topic)}}
        ]


def _widgets(synth: Synthesized) -> dict[str, dict[str, Any]]:
    _, dashboard = synth.only("AWS::CloudWatch::Dashboard")
    body = dashboard_body(dashboard)
    return {w["properties"]["title"]: w for w in body["widgets"]}


def _metric_names(widget: dict[str, Any]) -> list[str]:
    # Each metric is [namespace, name, dimension..., options]; a "." repeats the one above.
    return [row[1] for row in widget["properties"]["metrics"]]


def test_the_dashboard_shows_traffic_latency_concurrency_queues_and_alarms(
    full: tuple[Operations, AsyncQueue, Synthesized],
) -> None:
    ops, _, synth = full
    widgets = _widgets(synth)
    assert set(widgets) == {
        "Invocations",
        "Errors and throttles",
        "Duration (ms)",
        "Concurrent executions",
        "Provisioned concurrency (alias live)",
        "Request queue",
        "Dead-letter queue",
        "Alarms",
    }
    assert _metric_names(widgets["Invocations"]) == ["Invocations"]
    assert _metric_names(widgets["Errors and throttles"]) == ["Errors", "Throttles"]
    duration = widgets["Duration (ms)"]["properties"]
    assert [row[-1]["stat"] for row in duration["metrics"]] == ["p50", "p99"]
    assert duration["annotations"]["horizontal"] == [
        {"value": P99_MS, "label": "p99 alarm", "yAxis": "left"}
    ]
    assert _metric_names(widgets["Concurrent executions"]) == ["ConcurrentExecutions"]
    provisioned = widgets["Provisioned concurrency (alias live)"]["properties"]["metrics"]
    assert [row[1] for row in provisioned] == [
        "ProvisionedConcurrencyUtilization",
        "ProvisionedConcurrencySpilloverInvocations",
    ]
    # Per alias: Lambda reports provisioned concurrency under Resource "<function>:live".
    assert all("Resource" in row for row in provisioned)
    assert _metric_names(widgets["Request queue"]) == [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    ]
    assert _metric_names(widgets["Dead-letter queue"]) == ["ApproximateNumberOfMessagesVisible"]
    assert len(widgets["Alarms"]["properties"]["alarms"]) == len(ops.alarms)


def test_a_lean_dashboard_has_no_queue_widgets(lean: tuple[Operations, Synthesized]) -> None:
    _, synth = lean
    widgets = _widgets(synth)
    assert "Request queue" not in widgets
    assert "Dead-letter queue" not in widgets
    assert len(widgets["Alarms"]["properties"]["alarms"]) == 3


@pytest.mark.parametrize("name", ["full", "lean"])
def test_cdk_nag_passes_with_nothing_acknowledged_by_operations(
    name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synthesized = request.getfixturevalue(name)[-1]
    assert synth.nag_conclusions() == {"AwsSolutions": "success"}
    assert [entry for entry in synth.suppressed() if entry[1].startswith("harness/Ops/")] == []


@pytest.mark.parametrize("name", ["full", "lean"])
def test_cfn_lint_finds_nothing(name: str, request: pytest.FixtureRequest) -> None:
    synth: Synthesized = request.getfixturevalue(name)[-1]
    assert synth.lint() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"budget_thresholds": ()}, "budget_thresholds must name at least one percent"),
        (
            {"budget_thresholds": (0, 80)},
            "budget_thresholds must be percents from 1 to 1000, got [0]",
        ),
        ({"budget_thresholds": (1001,)}, "got [1001]"),
        ({"budget_thresholds": (80, 80)}, "budget_thresholds has duplicates: (80, 80)"),
        (
            {"budget_thresholds": tuple(range(10, 101, 10))},
            "AWS Budgets allows 10 notifications per budget; 10 thresholds plus the forecast "
            "one make 11",
        ),
        ({"forecast_threshold": 0}, "forecast_threshold must be a percent from 1 to 1000 or None"),
        ({"monthly_budget_usd": 0}, "monthly_budget_usd must be a positive amount, got 0"),
        ({"monthly_budget_usd": -5.0}, "got -5.0"),
        ({"monthly_budget_usd": float("nan")}, "got nan"),
        ({"monthly_budget_usd": float("inf")}, "got inf"),
        ({"p99_duration_ms": 0}, "p99_duration_ms must be from 1 to 900000, got 0"),
        ({"alarm_email": "on call@example.com"}, "alarm_email must be an email address"),
        ({"budget_email": "finance"}, "budget_email must be an email address, got 'finance'"),
        ({"cost_tag": (COST_TAG_KEY, " ")}, "cost_tag must be a (key, value) of non-blank"),
    ],
)
def test_props_outside_the_limits_are_refused(
    scratch: Harness, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Operations(
            scratch.stack,
            "Bad",
            function=scratch.function,
            alias=scratch.alias,
            **{**PROPS, **changes},
        )
    assert message in str(caught.value)
    assert scratch.stack.node.try_find_child("Bad") is None


def test_ten_notifications_fit_when_there_is_no_forecast(scratch: Harness) -> None:
    ops = Operations(
        scratch.stack,
        "Ten",
        function=scratch.function,
        alias=scratch.alias,
        **{**PROPS, "budget_thresholds": tuple(range(10, 101, 10)), "forecast_threshold": None},
    )
    assert len(ops.budget.notifications_with_subscribers) == 10
