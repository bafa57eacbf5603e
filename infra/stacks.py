"""The coldbrew stack: one :class:`~infra.inference_function.InferenceFunction` and its outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.inference_function import InferenceFunction
from infra.settings import DeploymentSettings


class ColdbrewStack(Stack):
    """Deploys a built artifact as a Lambda function behind a function URL.

    The stack is environment-agnostic (no account or region), so ``cdk synth``
    works offline and without credentials; the account and region come from
    the deploying credentials.

    Outputs: ``FunctionUrl``, ``FunctionName``, ``AliasArn``.
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
                f"(python{settings.python}, {settings.arch})"
            ),
            **kwargs,
        )
        self.settings = settings
        self.inference = InferenceFunction(
            self,
            "Inference",
            artifact=settings.artifact,
            python=settings.python,
            arch=settings.arch,
            memory_mb=settings.memory_mb,
            timeout_s=settings.timeout_s,
            url_auth=settings.auth,
            log_retention_days=settings.log_retention_days,
            function_name=settings.function_name,
        )
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
