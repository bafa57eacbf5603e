"""The :class:`InferenceFunction` construct: a built artifact served by Lambda.

One function, its own log group and least-privilege role, a version published
from the exact zip, an alias ``live`` on that version, and a function URL on
the alias. Callers always go through the alias, so a deploy moves ``live`` to
the new version in one step and the URL never points at ``$LATEST``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.settings import RETENTION_DAYS, Arch, PythonVersion, UrlAuth

#: ``lambda_function.py`` at the root of every AWS artifact, function ``handler``.
HANDLER = "lambda_function.handler"
ALIAS_NAME = "live"

_RUNTIMES: dict[PythonVersion, lambda_.Runtime] = {
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
}
_ARCHITECTURES: dict[Arch, lambda_.Architecture] = {
    "arm64": lambda_.Architecture.ARM_64,
    "x86_64": lambda_.Architecture.X86_64,
}
_URL_AUTHS: dict[UrlAuth, lambda_.FunctionUrlAuthType] = {
    "AWS_IAM": lambda_.FunctionUrlAuthType.AWS_IAM,
    "NONE": lambda_.FunctionUrlAuthType.NONE,
}
# jsii exposes RetentionDays by member name, not by number of days.
_RETENTIONS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}
assert tuple(_RETENTIONS) == RETENTION_DAYS, "settings.RETENTION_DAYS and _RETENTIONS drifted"


class InferenceFunction(Construct):
    """A Lambda function running a ``coldbrew build`` zip, behind a URL on alias ``live``.

    The props are keyword-only and take the values :class:`~infra.settings.DeploymentSettings`
    validates; this construct does not re-validate them.

    :param artifact: the zip to deploy, used byte for byte (never rebuilt here).
    :param python: the Python the artifact was built for; picks the Lambda runtime.
    :param arch: the CPU architecture the artifact was built for.
    :param memory_mb: function memory, 128-10240 MB; CPU share scales with it.
    :param timeout_s: function timeout, 1-900 s.
    :param url_auth: ``AWS_IAM`` (callers sign requests) or ``NONE`` (public URL).
    :param log_retention_days: how long CloudWatch keeps the function's logs.
    :param function_name: physical name; ``None`` lets CloudFormation pick one,
        which keeps two stacks in one account from colliding.

    Attributes: ``function``, ``log_group``, ``role``, ``version`` (published
    from the artifact), ``alias`` (``live``, on ``version``), ``url`` (on
    ``alias``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifact: Path,
        python: PythonVersion,
        arch: Arch,
        memory_mb: int,
        timeout_s: int,
        url_auth: UrlAuth,
        log_retention_days: int,
        function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # An explicit log group, rather than Lambda's implicit one, so the
        # retention is set from the first invocation and the group belongs to
        # the stack.
        self.log_group = logs.LogGroup(self, "Logs", retention=_RETENTIONS[log_retention_days])

        # Our own role instead of the default AWSLambdaBasicExecutionRole,
        # which may create and write any log group in the account: this one
        # can only write to the group above.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="coldbrew inference function: writes its own logs, nothing else",
        )
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            # A .zip path becomes a file asset uploaded as-is.
            code=lambda_.Code.from_asset(str(artifact)),
            handler=HANDLER,
            runtime=_RUNTIMES[python],
            architecture=_ARCHITECTURES[arch],
            memory_size=memory_mb,
            timeout=Duration.seconds(timeout_s),
            log_group=self.log_group,
            role=self.role,
            description=f"coldbrew: {artifact.name}",
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=(
                    "The runtime must match the Python the artifact was built for: it ships "
                    "bytecode and native wheels for exactly that version. Moving to a newer "
                    "runtime means rebuilding with `coldbrew build`, not editing the stack."
                ),
            )
        )

        # current_version hashes the code and configuration, so a new zip or
        # setting publishes a new version and leaves unchanged deploys alone.
        self.version = self.function.current_version
        self.alias = lambda_.Alias(self, "Live", alias_name=ALIAS_NAME, version=self.version)
        # On the alias, not the function: the URL must serve a published
        # version, never $LATEST.
        self.url = self.alias.add_function_url(auth_type=_URL_AUTHS[url_auth])
