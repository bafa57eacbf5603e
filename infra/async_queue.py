"""The :class:`AsyncQueue` construct: the async path, SQS in and S3 out.

**Contract** (the handler side is :mod:`coldbrew.platforms.aws_sqs`). A
client sends each request as one SQS message whose body is an ``/embed``
payload, ``{"inputs": [...]}``, optionally with an ``"id"``. The function,
invoked through alias ``live`` by an event source mapping, writes the
embeddings as JSON to ``s3://<results>/<prefix><id or messageId>.json`` and
answers with ``batchItemFailures`` naming only the messages that failed. Those
return to the queue, are retried, and after ``max_receive_count`` receives
land in the dead-letter queue, which keeps them 14 days: a request is answered
in S3 or parked in the DLQ, never dropped.

**Rate.** The function's reserved concurrency (set on the function, not here)
is the overall ceiling shared by the URL and the queue. ``max_concurrency``
caps only the pollers' share, so a backlog cannot take every instance away
from the URL, and the mapping stops scaling at the cap instead of being
throttled by the function (throttled receives count towards
``max_receive_count``).
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Annotations, Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.errors import ConfigurationError
from coldbrew.runtime.settings import DEFAULT_RESULT_PREFIX, RESULT_BUCKET, RESULT_PREFIX

# Limits from the Lambda and SQS APIs (the CloudFormation schemas agree).
FUNCTION_TIMEOUT_RANGE = (LAMBDA.timeout_s.low, LAMBDA.timeout_s.high)
BATCH_SIZE_RANGE = (1, 10_000)  # standard queues; FIFO would stop at 10
#: Above this batch size Lambda requires a batching window of at least 1 s.
MAX_BATCH_WITHOUT_WINDOW = 10
BATCHING_WINDOW_RANGE = (0, 300)
MAX_RECEIVE_COUNT_RANGE = (1, 1000)
MAX_CONCURRENCY_RANGE = (2, 1000)  # ScalingConfig.MaximumConcurrency
#: Fewer receives than this and a few throttled polls can dead-letter a good message.
RECOMMENDED_MIN_RECEIVES = 5
#: AWS: queue visibility timeout at least six times the function timeout, so a
#: batch retried after throttling is not redelivered while still in flight.
VISIBILITY_FACTOR = 6
MAX_VISIBILITY_S = 43_200  # SQS: 12 hours
SOURCE_RETENTION = Duration.days(4)  # the SQS default, stated so the check below can use it
#: The SQS maximum. Longer than the source queue's, as AWS advises: a message
#: keeps its original enqueue time when it moves to a standard queue's DLQ.
DLQ_RETENTION = Duration.days(14)
DEFAULT_ACCESS_LOG_RETENTION_DAYS = 90

# Safe S3 key characters, segments ending in "/"; no "*", which IAM would read
# as a wildcard in the grant, and no leading "/", which S3 would keep.
_PREFIX_RE = re.compile(r"(?:[A-Za-z0-9!_.'()-]+/)+")


class AsyncQueue(Construct):
    """An SQS queue feeding alias ``live`` in batches, results to a private S3 bucket.

    :param function: what the event source mapping invokes: the alias ``live``.
    :param function_timeout_s: the function's timeout; sets the queue's
        visibility timeout to ``6 * timeout + max_batching_window_s``.
    :param batch_size: messages per invocation, 1-10,000 (above 10 needs
        ``max_batching_window_s >= 1``).
    :param max_batching_window_s: how long Lambda may wait to fill a batch, 0-300 s.
    :param max_receive_count: receives before a message moves to the DLQ, 1-1000.
    :param max_concurrency: cap on concurrent invocations by this mapping,
        2-1000, or ``None`` for no cap beyond the function's own.
    :param result_retention_days: results expire this many days after they are written.
    :param result_prefix: key prefix of the results, e.g. ``results/``.
    :param access_log_retention_days: how long the results bucket's access logs are kept.

    Attributes: ``queue``, ``dead_letter_queue``, ``results`` (the bucket),
    ``access_logs`` (its server access log bucket), ``event_source`` (the
    mapping), ``environment`` (variables the function needs to find the
    bucket). Raises :class:`~coldbrew.errors.ConfigurationError` naming every
    prop outside its limits.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        function_timeout_s: int,
        batch_size: int,
        max_batching_window_s: int,
        max_receive_count: int,
        max_concurrency: int | None,
        result_retention_days: int,
        result_prefix: str = DEFAULT_RESULT_PREFIX,
        access_log_retention_days: int = DEFAULT_ACCESS_LOG_RETENTION_DAYS,
    ) -> None:
        visibility_s = VISIBILITY_FACTOR * function_timeout_s + max_batching_window_s
        _validate(
            function_timeout_s=function_timeout_s,
            batch_size=batch_size,
            max_batching_window_s=max_batching_window_s,
            max_receive_count=max_receive_count,
            max_concurrency=max_concurrency,
            result_retention_days=result_retention_days,
            result_prefix=result_prefix,
            access_log_retention_days=access_log_retention_days,
            visibility_s=visibility_s,
        )
        super().__init__(scope, construct_id)
        # Log delivery through a bucket policy rather than the legacy ACL, so
        # the log bucket can keep ACLs disabled (S3's default since 2023).
        # Set on this construct only, before any child exists, as CDK requires.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.result_prefix = result_prefix

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.queue = sqs.Queue(
            self,
            "Requests",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(visibility_s),
            retention_period=SOURCE_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=max_receive_count, queue=self.dead_letter_queue
            ),
        )
        if max_receive_count < RECOMMENDED_MIN_RECEIVES:
            Annotations.of(self.queue).add_warning_v2(
                "coldbrew:lowMaxReceiveCount",
                f"max_receive_count={max_receive_count}: a throttled poll counts as a receive, "
                f"so under load a good message can reach the DLQ; "
                f"{RECOMMENDED_MIN_RECEIVES} or more is safer",
            )

        # cdk-nag's S1 (server access logging) counts a bucket that receives
        # another's access logs as compliant: logging the log bucket itself
        # would log its own deliveries.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # SSE-S3: log delivery needs no key grant, unlike SSE-KMS (which
            # would need a customer managed key that the logging service may use).
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(access_log_retention_days))],
        )
        self.results = s3.Bucket(
            self,
            "Results",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # No versioning: a result is derived data, rewritten identically
            # when a message is redelivered; old versions would only cost storage
            # and outlive the expiry below.
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(result_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="results-bucket/",
        )

        # The mapping is built here, not through SqsEventSource, so it belongs
        # to this construct (SqsEventSource would place it under the alias) and
        # can be returned; consuming is granted with it, as SqsEventSource does.
        self.event_source = lambda_.EventSourceMapping(
            self,
            "EventSource",
            target=function,
            event_source_arn=self.queue.queue_arn,
            batch_size=batch_size,
            max_batching_window=Duration.seconds(max_batching_window_s),
            report_batch_item_failures=True,
            max_concurrency=max_concurrency,
        )
        self.queue.grant_consume_messages(function)

        self.environment: dict[str, str] = {
            RESULT_BUCKET: self.results.bucket_name,
            RESULT_PREFIX: result_prefix,
        }

    def grant_to(self, role: iam.IRole) -> None:
        """Let ``role`` write results: ``s3:PutObject`` under the prefix, nothing else.

        Not read, list or delete: the function only ever writes a result.
        Consuming the queue was granted with the event source mapping.
        """
        objects = self.results.arn_for_objects(f"{self.result_prefix}*")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[objects])
        )
        bucket_id = Stack.of(self).get_logical_id(self._results_resource())
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{self.result_prefix}*]",
                reason=(
                    "Result keys are chosen per message at run time (its id or messageId), so "
                    "the grant covers the results prefix of this stack's own bucket; the only "
                    "action is s3:PutObject."
                ),
            )
        )

    def _results_resource(self) -> s3.CfnBucket:
        child = self.results.node.default_child
        assert isinstance(child, s3.CfnBucket)
        return child


def _validate(
    *,
    function_timeout_s: int,
    batch_size: int,
    max_batching_window_s: int,
    max_receive_count: int,
    max_concurrency: int | None,
    result_retention_days: int,
    result_prefix: str,
    access_log_retention_days: int,
    visibility_s: int,
) -> None:
    errors: list[str] = []

    def within(name: str, value: int, bounds: tuple[int, int]) -> bool:
        low, high = bounds
        if low <= value <= high:
            return True
        errors.append(f"{name} must be from {low} to {high}, got {value}")
        return False

    timeout_ok = within("function_timeout_s", function_timeout_s, FUNCTION_TIMEOUT_RANGE)
    within("batch_size", batch_size, BATCH_SIZE_RANGE)
    window_ok = within("max_batching_window_s", max_batching_window_s, BATCHING_WINDOW_RANGE)
    receives_ok = within("max_receive_count", max_receive_count, MAX_RECEIVE_COUNT_RANGE)
    if max_concurrency is not None:
        within("max_concurrency", max_concurrency, MAX_CONCURRENCY_RANGE)
    if batch_size > MAX_BATCH_WITHOUT_WINDOW and max_batching_window_s < 1:
        errors.append(
            f"batch_size {batch_size} is over {MAX_BATCH_WITHOUT_WINDOW}, which Lambda allows "
            "only with max_batching_window_s of at least 1"
        )
    if result_retention_days < 1:
        errors.append(f"result_retention_days must be at least 1, got {result_retention_days}")
    if access_log_retention_days < 1:
        errors.append(
            f"access_log_retention_days must be at least 1, got {access_log_retention_days}"
        )
    if not _PREFIX_RE.fullmatch(result_prefix):
        errors.append(
            "result_prefix must be one or more segments of letters, digits or !_.'()- "
            f"each ending in '/', like 'results/', got {result_prefix!r}"
        )
    if timeout_ok and window_ok and receives_ok:
        # Each failed receive waits out the visibility timeout, so this is how
        # long a failing message takes to reach the DLQ. Past the source
        # queue's retention it would expire instead: lost.
        to_dlq_s = max_receive_count * visibility_s
        retention_s = int(SOURCE_RETENTION.to_seconds())
        if to_dlq_s > retention_s:
            errors.append(
                f"max_receive_count {max_receive_count} x visibility timeout {visibility_s} s "
                f"(6 x function_timeout_s + max_batching_window_s) = {to_dlq_s} s exceeds the "
                f"queue's {retention_s} s retention: failing messages would expire before "
                "reaching the dead-letter queue; lower max_receive_count"
            )
        assert visibility_s <= MAX_VISIBILITY_S  # 6 x the longest timeout + 300 < 12 h
    if errors:
        if len(errors) == 1:
            raise ConfigurationError(f"AsyncQueue: {errors[0]}")
        raise ConfigurationError(
            "AsyncQueue: invalid props:\n" + "\n".join(f"  - {e}" for e in errors)
        )
