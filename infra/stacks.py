"""The coldbrew stack: the function, its cold-start strategy, the async path, operations."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from coldbrew.runtime import settings as runtime_settings
from infra.async_queue import AsyncQueue
from infra.inference_function import InferenceFunction
from infra.operations import Operations
from infra.provisioned import add_provisioned_concurrency
from infra.settings import DeploymentSettings


class ColdbrewStack(Stack):
    """Deploys a built artifact as a Lambda function behind a function URL.

    With the settings' choices: SnapStart or provisioned concurrency (target
    tracking and/or a ``coldbrew tune`` schedule) on alias ``live``; an SQS
    queue feeding the same alias, with results in S3 (``coldbrew:async``);
    and always the operations around it: alarms, their topic, a dashboard and
    a monthly budget.

    The stack is environment-agnostic (no account or region), so ``cdk synth``
    works offline and without credentials; the account and region come from
    the deploying credentials.

    Outputs: ``FunctionUrl``, ``FunctionName``, ``AliasArn``; with the async
    path also ``QueueUrl``, ``DeadLetterQueueUrl`` and ``ResultBucket``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploymentSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=settings.stack_name,
            description=(
                f"coldbrew inference endpoint: {settings.artifact.name} "
                f"({settings.artifact.layout}, python{settings.python}, {settings.arch}, "
                f"cold start {settings.cold_start.strategy})"
            ),
            **kwargs,
        )
        self.settings = settings
        # cfn-lint's W3005 (a DependsOn a GetAtt already implies) is how CDK orders
        # the function after its role's policy: redundant, not wrong. Said in the
        # template, so `sam validate --lint` and a bare `cfn-lint` agree with our checks.
        self.template_options.metadata = {"cfn-lint": {"config": {"ignore_checks": ["W3005"]}}}
        environment: dict[str, str] = {}
        if settings.intra_op_threads is not None:
            environment[runtime_settings.INTRA_OP_THREADS] = str(settings.intra_op_threads)
        self.inference = InferenceFunction(
            self,
            "Inference",
            artifact=settings.artifact,
            python=settings.python,
            arch=settings.arch,
            memory_mb=settings.memory_mb,
            timeout_s=settings.timeout_s,
            ephemeral_storage_mb=settings.ephemeral_storage_mb,
            url_auth=settings.auth,
            cors=settings.cors,
            log_retention_days=settings.log_retention_days,
            environment=environment,
            reserved_concurrency=settings.reserved_concurrency,
            snap_start=settings.cold_start.snap_start,
            function_name=settings.function_name,
        )
        provisioned = settings.cold_start.provisioned
        if provisioned is not None:
            add_provisioned_concurrency(self.inference.alias, settings=provisioned)

        self.async_queue: AsyncQueue | None = None
        if settings.async_queue is not None:
            queue_settings = settings.async_queue
            # The queue invokes the alias, like every other caller, so queued
            # work runs on the same published version (and provisioned
            # concurrency) as the URL.
            self.async_queue = AsyncQueue(
                self,
                "Async",
                function=self.inference.alias,
                function_timeout_s=settings.timeout_s,
                batch_size=queue_settings.batch_size,
                max_batching_window_s=queue_settings.batch_window_s,
                max_receive_count=queue_settings.max_receive_count,
                max_concurrency=queue_settings.max_concurrency,
                result_retention_days=queue_settings.result_retention_days,
            )
            # Added after the alias exists: current_version's hash is computed
            # at synthesis over the final configuration, so these variables are
            # part of the published version (a test checks the version changes).
            for name, value in sorted(self.async_queue.environment.items()):
                self.inference.function.add_environment(name, value)
            self.async_queue.grant_to(self.inference.role)

        operations = settings.operations
        self.operations = Operations(
            self,
            "Operations",
            function=self.inference.function,
            alias=self.inference.alias,
            dead_letter_queue=(
                self.async_queue.dead_letter_queue if self.async_queue is not None else None
            ),
            p99_duration_ms=operations.p99_duration_ms,
            alarm_email=operations.alarm_email,
            monthly_budget_usd=operations.monthly_budget_usd,
            budget_thresholds=operations.budget_thresholds,
            budget_email=operations.budget_email,
            queue=self.async_queue.queue if self.async_queue is not None else None,
        )
        self._outputs()

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "FunctionUrl",
            value=self.inference.url.url,
            description="Function URL, served by alias live",
        )
        CfnOutput(self, "FunctionName", value=self.inference.function.function_name)
        CfnOutput(
            self,
            "AliasArn",
            value=self.inference.alias.function_arn,
            description="Callers of an AWS_IAM URL need lambda:InvokeFunctionUrl on this ARN",
        )
        if self.async_queue is not None:
            CfnOutput(
                self,
                "QueueUrl",
                value=self.async_queue.queue.queue_url,
                description="Send /embed bodies here; results land in ResultBucket",
            )
            CfnOutput(
                self,
                "DeadLetterQueueUrl",
                value=self.async_queue.dead_letter_queue.queue_url,
                description="Messages that failed every receive",
            )
            CfnOutput(self, "ResultBucket", value=self.async_queue.results.bucket_name)
