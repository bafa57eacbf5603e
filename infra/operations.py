"""The :class:`Operations` construct: alarms, a cost budget and a dashboard, all to one topic.

**Topic.** One SNS topic takes every notification: CloudWatch alarms (on
entering ALARM and on returning to OK) and AWS Budgets. Its policy denies
publishing without TLS and allows exactly two services to publish, each only
for this account: ``cloudwatch.amazonaws.com`` for this account's alarms, and
``budgets.amazonaws.com`` (the statement AWS's Budgets guide gives). A topic
policy replaces SNS's default one, which admitted the owner account's
publishers, so CloudWatch is named explicitly rather than left to a default.

The topic is not KMS-encrypted. cdk-nag 3's AwsSolutions pack has no SSE rule
for SNS (SNS3, TLS, is met); alarm and budget messages carry alarm names and
dollar amounts, never request data; and encrypting would need a customer
managed key whose policy admits both services (AWS-managed ``aws/sns`` cannot
be used by CloudWatch) at $1 a month per key.

**Missing data.** Lambda publishes Errors, Throttles and Duration only for
periods with invocations, and SQS stops publishing for an inactive queue,
which an empty dead-letter queue is (one holding messages stays active). So a
missing datapoint means "nothing happened" and every alarm treats it as not
breaching: an idle function is healthy, not INSUFFICIENT_DATA forever.
"""

from __future__ import annotations

import math
import re

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from coldbrew.errors import ConfigurationError
from infra.dashboard import build_dashboard

#: The tag a stack can carry so its budget counts only its own costs.
COST_TAG_KEY = "coldbrew:stack"
PERIOD = Duration.minutes(5)
THRESHOLD_RANGE = (1, 1000)  # percent of the monthly limit
#: AWS Budgets allows at most ten notifications per budget.
MAX_NOTIFICATIONS = 10
DEFAULT_FORECAST_THRESHOLD = 100
MAX_DURATION_MS = 900_000  # Lambda's longest timeout
# Deliberately loose: AWS validates the address; this catches a missing "@" or a space.
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Operations(Construct):
    """Alarms on the function (and the dead-letter queue), a monthly cost budget, a dashboard.

    :param function: the function whose metrics are watched. Alarms use its
        function-wide metrics, which count every version, so a failure is seen
        whichever version served it.
    :param alias: alias ``live``; the dashboard shows its provisioned
        concurrency utilization and spillover, which Lambda reports per alias.
    :param dead_letter_queue: alarm as soon as it holds a message; ``None``
        when there is no async path.
    :param p99_duration_ms: alarm when the p99 of Duration reaches this, in
        two of three 5-minute periods (one slow cold start does not page anyone).
    :param alarm_email: subscribed to the topic (SNS asks it to confirm first).
    :param monthly_budget_usd: the budget's monthly limit in USD.
    :param budget_thresholds: percents of the limit (1-1000) at which actual
        spend notifies.
    :param budget_email: also notified directly by AWS Budgets, unless it is
        ``alarm_email``, which already hears the budget through the topic.
    :param forecast_threshold: percent of the limit at which *forecasted*
        spend notifies (early warning), or ``None``.
    :param cost_tag: ``(key, value)`` of a cost allocation tag, e.g.
        ``(COST_TAG_KEY, stack_name)``: the budget then counts only resources
        carrying it. The stack must carry the tag, and the tag must be
        activated in Billing (cost allocation tags, up to 24 h to take
        effect) or the budget sees nothing. ``None`` counts the whole
        account, right for an account dedicated to this stack.
    :param queue: the async request queue, if any: its depth and oldest
        message age go on the dashboard.

    Attributes: ``topic``, ``alarms`` (by name: ``errors``, ``throttles``,
    ``p99_duration`` and, with a DLQ, ``dead_letters``), ``budget``,
    ``dashboard``. Raises :class:`~coldbrew.errors.ConfigurationError` naming
    every bad prop.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.Function,
        alias: lambda_.Alias,
        dead_letter_queue: sqs.IQueue | None,
        p99_duration_ms: int,
        alarm_email: str | None,
        monthly_budget_usd: float,
        budget_thresholds: tuple[int, ...],
        budget_email: str | None,
        forecast_threshold: int | None = DEFAULT_FORECAST_THRESHOLD,
        cost_tag: tuple[str, str] | None = None,
        queue: sqs.IQueue | None = None,
    ) -> None:
        _validate(
            p99_duration_ms=p99_duration_ms,
            alarm_email=alarm_email,
            monthly_budget_usd=monthly_budget_usd,
            budget_thresholds=budget_thresholds,
            budget_email=budget_email,
            forecast_threshold=forecast_threshold,
            cost_tag=cost_tag,
        )
        super().__init__(scope, construct_id)

        self.topic = self._topic(alarm_email)
        self.alarms = self._alarms(function, dead_letter_queue, p99_duration_ms)
        self.budget = self._budget(
            monthly_budget_usd,
            budget_thresholds,
            forecast_threshold,
            None if budget_email == alarm_email else budget_email,
            cost_tag,
        )
        self.dashboard = build_dashboard(
            self,
            function=function,
            alias=alias,
            queue=queue,
            dead_letter_queue=dead_letter_queue,
            p99_duration_ms=p99_duration_ms,
            alarms=self.alarms.values(),
            period=PERIOD,
        )

    def _topic(self, alarm_email: str | None) -> sns.Topic:
        topic = sns.Topic(self, "Alerts", display_name="coldbrew alerts", enforce_ssl=True)
        stack = Stack.of(self)

        def allow(sid: str, service: str, source_arn: str) -> None:
            # aws:SourceAccount and aws:SourceArn keep another account's alarms
            # or budgets from publishing here through the service (confused deputy).
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": source_arn},
                    },
                )
            )

        alarms_arn = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        allow("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com", alarms_arn)
        # Budgets is global: its ARNs have no region.
        budgets_arn = stack.format_arn(service="budgets", region="", resource="*")
        allow("BudgetsPublish", "budgets.amazonaws.com", budgets_arn)
        if alarm_email is not None:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic

    def _alarms(
        self,
        function: lambda_.Function,
        dead_letter_queue: sqs.IQueue | None,
        p99_duration_ms: int,
    ) -> dict[str, cloudwatch.Alarm]:
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD

        def alarm(
            construct_id: str,
            metric: cloudwatch.Metric,
            threshold: int,
            description: str,
            *,
            comparison: cloudwatch.ComparisonOperator = at_least,
            datapoints: tuple[int, int] = (1, 1),
        ) -> cloudwatch.Alarm:
            to_alarm, periods = datapoints
            created = metric.create_alarm(
                self,
                construct_id,
                threshold=threshold,
                comparison_operator=comparison,
                evaluation_periods=periods,
                datapoints_to_alarm=to_alarm if to_alarm != periods else None,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            action = cw_actions.SnsAction(self.topic)
            created.add_alarm_action(action)
            created.add_ok_action(action)
            return created

        alarms = {
            # Crashes, timeouts and out-of-memory: refused requests are 4xx
            # responses and failed SQS messages are batchItemFailures, neither
            # of which Lambda counts as an error. So any error is worth a look.
            "errors": alarm(
                "Errors",
                function.metric_errors(statistic="Sum", period=PERIOD),
                1,
                "The function failed (crash, timeout or out of memory).",
            ),
            # Reserved concurrency is used up: URL callers get 429s, the
            # queue's pollers back off and retry.
            "throttles": alarm(
                "Throttles",
                function.metric_throttles(statistic="Sum", period=PERIOD),
                1,
                "Invocations were throttled: concurrency is exhausted.",
            ),
            "p99_duration": alarm(
                "P99Duration",
                function.metric_duration(statistic="p99", period=PERIOD),
                p99_duration_ms,
                f"p99 duration reached {p99_duration_ms} ms in 2 of the last 3 5-minute periods.",
                datapoints=(2, 3),
            ),
        }
        if dead_letter_queue is not None:
            alarms["dead_letters"] = alarm(
                "DeadLetters",
                dead_letter_queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=PERIOD
                ),
                0,
                "Async requests failed every retry and wait in the dead-letter queue; "
                "fix the cause, then redrive them.",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )
        return alarms

    def _budget(
        self,
        limit_usd: float,
        thresholds: tuple[int, ...],
        forecast_threshold: int | None,
        budget_email: str | None,
        cost_tag: tuple[str, str] | None,
    ) -> budgets.CfnBudget:
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(
                subscription_type="SNS", address=self.topic.topic_arn
            )
        ]
        if budget_email is not None:
            subscribers.append(
                budgets.CfnBudget.SubscriberProperty(
                    subscription_type="EMAIL", address=budget_email
                )
            )
        notices = [("ACTUAL", threshold) for threshold in sorted(thresholds)]
        if forecast_threshold is not None:
            notices.append(("FORECASTED", forecast_threshold))
        budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=limit_usd, unit="USD"),
                # Billing names user-defined cost allocation tags "user:<key>".
                cost_filters=(
                    {"TagKeyValue": [f"user:{cost_tag[0]}${cost_tag[1]}"]} if cost_tag else None
                ),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=threshold,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=subscribers,
                )
                for kind, threshold in notices
            ],
        )
        # Budgets checks that it may publish when the budget is created, so
        # the topic policy must exist first.
        policy = self.topic.node.try_find_child("Policy")
        assert policy is not None, "sns.Topic(enforce_ssl=True) always creates its policy"
        budget.node.add_dependency(policy)
        return budget


def _validate(
    *,
    p99_duration_ms: int,
    alarm_email: str | None,
    monthly_budget_usd: float,
    budget_thresholds: tuple[int, ...],
    budget_email: str | None,
    forecast_threshold: int | None,
    cost_tag: tuple[str, str] | None,
) -> None:
    errors: list[str] = []
    if not 1 <= p99_duration_ms <= MAX_DURATION_MS:
        errors.append(f"p99_duration_ms must be from 1 to {MAX_DURATION_MS}, got {p99_duration_ms}")
    if not (math.isfinite(monthly_budget_usd) and monthly_budget_usd > 0):
        errors.append(f"monthly_budget_usd must be a positive amount, got {monthly_budget_usd}")
    low, high = THRESHOLD_RANGE
    if not budget_thresholds:
        errors.append("budget_thresholds must name at least one percent, e.g. (80, 100)")
    bad = [t for t in budget_thresholds if not low <= t <= high]
    if bad:
        errors.append(f"budget_thresholds must be percents from {low} to {high}, got {bad}")
    if len(set(budget_thresholds)) != len(budget_thresholds):
        errors.append(f"budget_thresholds has duplicates: {budget_thresholds}")
    if forecast_threshold is not None and not low <= forecast_threshold <= high:
        errors.append(
            f"forecast_threshold must be a percent from {low} to {high} or None, "
            f"got {forecast_threshold}"
        )
    notifications = len(set(budget_thresholds)) + (forecast_threshold is not None)
    if notifications > MAX_NOTIFICATIONS:
        errors.append(
            f"AWS Budgets allows {MAX_NOTIFICATIONS} notifications per budget; "
            f"{len(set(budget_thresholds))} thresholds"
            f"{' plus the forecast one' if forecast_threshold is not None else ''} "
            f"make {notifications}"
        )
    for name, email in (("alarm_email", alarm_email), ("budget_email", budget_email)):
        if email is not None and not _EMAIL_RE.fullmatch(email):
            errors.append(f"{name} must be an email address, got {email!r}")
    if cost_tag is not None and not all(part.strip() for part in cost_tag):
        errors.append(f"cost_tag must be a (key, value) of non-blank strings, got {cost_tag!r}")
    if errors:
        if len(errors) == 1:
            raise ConfigurationError(f"Operations: {errors[0]}")
        raise ConfigurationError(
            "Operations: invalid props:\n" + "\n".join(f"  - {e}" for e in errors)
        )
