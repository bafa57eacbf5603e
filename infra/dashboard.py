"""The operations dashboard: traffic, latency, concurrency, queues and alarm states.

Built by :class:`infra.operations.Operations`, which owns the alarms it shows.
Rows of 8-wide graphs: invocations, errors and throttles, duration; then
concurrency and the alias's provisioned concurrency; then the queues, when
there are any; then, full width, every alarm's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def build_dashboard(
    scope: Construct,
    *,
    function: lambda_.Function,
    alias: lambda_.Alias,
    queue: sqs.IQueue | None,
    dead_letter_queue: sqs.IQueue | None,
    p99_duration_ms: int,
    alarms: Iterable[cloudwatch.IAlarm],
    period: Duration,
) -> cloudwatch.Dashboard:
    """Add the dashboard to ``scope`` as ``Dashboard``; metrics at ``period``.

    The duration graph marks ``p99_duration_ms``, the alarm's threshold;
    ``alarms`` fill the last row's status widget, in order.
    """

    def graph(
        title: str,
        left: Sequence[cloudwatch.IMetric],
        right: Sequence[cloudwatch.IMetric] = (),
        annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=list(left),
            right=list(right),
            left_annotations=list(annotations),
            width=8,
            height=6,
        )

    def of(source: lambda_.IFunction | sqs.IQueue, name: str, stat: str) -> cloudwatch.Metric:
        return source.metric(name, statistic=stat, period=period)

    p99_line = cloudwatch.HorizontalAnnotation(value=p99_duration_ms, label="p99 alarm")
    rows: list[list[cloudwatch.IWidget]] = [
        [
            graph("Invocations", [of(function, "Invocations", "Sum")]),
            graph(
                "Errors and throttles",
                [of(function, "Errors", "Sum"), of(function, "Throttles", "Sum")],
            ),
            graph(
                "Duration (ms)",
                [of(function, "Duration", "p50"), of(function, "Duration", "p99")],
                annotations=[p99_line],
            ),
        ],
        [
            graph("Concurrent executions", [of(function, "ConcurrentExecutions", "Maximum")]),
            # Lambda reports provisioned concurrency per alias, not per function.
            graph(
                "Provisioned concurrency (alias live)",
                [of(alias, "ProvisionedConcurrencyUtilization", "Maximum")],
                right=[of(alias, "ProvisionedConcurrencySpilloverInvocations", "Sum")],
            ),
        ],
    ]
    visible = "ApproximateNumberOfMessagesVisible"
    queue_widgets: list[cloudwatch.IWidget] = []
    if queue is not None:
        queue_widgets.append(
            graph(
                "Request queue",
                [of(queue, visible, "Maximum")],
                right=[of(queue, "ApproximateAgeOfOldestMessage", "Maximum")],
            )
        )
    if dead_letter_queue is not None:
        queue_widgets.append(
            graph("Dead-letter queue", [of(dead_letter_queue, visible, "Maximum")])
        )
    if queue_widgets:
        rows.append(queue_widgets)
    rows.append(
        [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24, height=3)]
    )
    return cloudwatch.Dashboard(scope, "Dashboard", widgets=rows)
