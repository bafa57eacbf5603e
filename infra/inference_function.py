"""The :class:`InferenceFunction` construct: a built artifact served by Lambda.

One function, its own log group and least-privilege role, a version published
from the exact artifact, an alias ``live`` on that version, and a function URL
on the alias. Callers always go through the alias, so a deploy moves ``live``
to the new version in one step and the URL never points at ``$LATEST``.

The artifact may be in any layout ``coldbrew build`` writes: one zip; a
function zip plus a dependency layer; or a container-image build context,
which CDK builds and pushes at deploy time (``cdk synth`` only stages the
directory and needs no Docker).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment, Annotations, Duration, Size, Validations
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.artifact_layout import BuiltArtifact
from infra.context_keys import (
    ALIAS_NAME,
    DEFAULT_EPHEMERAL_STORAGE_MB,
    RETENTION_DAYS,
    Arch,
    PythonVersion,
    UrlAuth,
)
from infra.settings import CorsSettings

#: ``lambda_function.py`` at the root of every AWS artifact, function ``handler``.
HANDLER = "lambda_function.handler"
__all__ = ["ALIAS_NAME", "HANDLER", "InferenceFunction"]

_RUNTIMES: dict[PythonVersion, lambda_.Runtime] = {
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
}
_ARCHITECTURES: dict[Arch, lambda_.Architecture] = {
    "arm64": lambda_.Architecture.ARM_64,
    "x86_64": lambda_.Architecture.X86_64,
}
# The image is built for the function's architecture, whatever the deploying machine's.
_PLATFORMS: dict[Arch, ecr_assets.Platform] = {
    "arm64": ecr_assets.Platform.LINUX_ARM64,
    "x86_64": ecr_assets.Platform.LINUX_AMD64,
}
_URL_AUTHS: dict[UrlAuth, lambda_.FunctionUrlAuthType] = {
    "AWS_IAM": lambda_.FunctionUrlAuthType.AWS_IAM,
    "NONE": lambda_.FunctionUrlAuthType.NONE,
}
_METHODS: dict[str, lambda_.HttpMethod] = {
    "GET": lambda_.HttpMethod.GET,
    "POST": lambda_.HttpMethod.POST,
    "HEAD": lambda_.HttpMethod.HEAD,
    "PUT": lambda_.HttpMethod.PUT,
    "PATCH": lambda_.HttpMethod.PATCH,
    "DELETE": lambda_.HttpMethod.DELETE,
    "*": lambda_.HttpMethod.ALL,
}
# A browser's preflight must be told which request headers it may send: the
# JSON body's content type, plus SigV4's headers when the URL needs signing.
_CORS_HEADERS: dict[UrlAuth, tuple[str, ...]] = {
    "NONE": ("content-type",),
    "AWS_IAM": (
        "content-type",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ),
}
# Browsers cache a preflight this long; short, so a CORS change applies soon.
_CORS_MAX_AGE = Duration.minutes(5)
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
assert tuple(_RETENTIONS) == RETENTION_DAYS, "context_keys.RETENTION_DAYS and _RETENTIONS drifted"


class InferenceFunction(Construct):
    """A Lambda function running a ``coldbrew build`` artifact, behind a URL on alias ``live``.

    The props are keyword-only and take the values
    :class:`~infra.settings.DeploymentSettings` validates; this construct does
    not re-validate them (AWS's combination rules, such as SnapStart's, are
    checked there).

    :param artifact: the built artifact, used byte for byte (never rebuilt
        here): a zip, a function zip plus its layer, or an image build context.
    :param python: the Python the artifact was built for; picks the Lambda
        runtime (and the layer's compatible runtime).
    :param arch: the CPU architecture the artifact was built for; arm64 unless
        told otherwise, but an artifact built for x86_64 must say so.
    :param memory_mb: function memory, in Lambda's range; CPU share scales with it.
    :param timeout_s: function timeout, in Lambda's range.
    :param ephemeral_storage_mb: size of /tmp, in Lambda's range.
    :param url_auth: ``AWS_IAM`` (callers sign requests) or ``NONE`` (public URL).
    :param cors: origins and methods browsers may use; ``None`` sends no CORS
        headers, so pages on other origins cannot read responses.
    :param log_retention_days: how long CloudWatch keeps the function's logs.
    :param environment: environment variables (names from :mod:`coldbrew.runtime.settings`).
    :param reserved_concurrency: the most concurrent executions, reserved for
        this function; ``None`` shares the account's unreserved pool.
    :param snap_start: SnapStart on published versions (zip layouts only).
    :param function_name: physical name; ``None`` lets CloudFormation pick one,
        which keeps two stacks in one account from colliding.

    Attributes: ``function``, ``layer`` (``None`` unless the layer layout),
    ``log_group``, ``role``, ``version`` (published from the artifact),
    ``alias`` (``live``, on ``version``), ``url`` (on ``alias``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifact: BuiltArtifact,
        python: PythonVersion,
        arch: Arch = "arm64",
        memory_mb: int,
        timeout_s: int,
        ephemeral_storage_mb: int = DEFAULT_EPHEMERAL_STORAGE_MB,
        url_auth: UrlAuth,
        cors: CorsSettings | None = None,
        log_retention_days: int,
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int | None = None,
        snap_start: bool = False,
        function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # An explicit log group, rather than Lambda's implicit one, so the
        # retention is set from the first invocation and the group belongs to
        # the stack.
        self.log_group = logs.LogGroup(self, "Logs", retention=_RETENTIONS[log_retention_days])

        # Our own role instead of the default AWSLambdaBasicExecutionRole,
        # which may create and write any log group in the account: this one
        # can only write to the group above (and what the stack grants later).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="coldbrew inference function: writes its own logs, nothing else",
        )
        self.log_group.grant_write(self.role)

        common: dict[str, Any] = {
            "function_name": function_name,
            "architecture": _ARCHITECTURES[arch],
            "memory_size": memory_mb,
            "timeout": Duration.seconds(timeout_s),
            "ephemeral_storage_size": Size.mebibytes(ephemeral_storage_mb),
            "environment": dict(environment or {}),
            "reserved_concurrent_executions": reserved_concurrency,
            "snap_start": lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            "log_group": self.log_group,
            "role": self.role,
            "description": f"coldbrew: {artifact.name} ({artifact.layout} layout)",
        }
        self.layer: lambda_.LayerVersion | None = None
        if artifact.layout == "image":
            self.function: lambda_.Function = lambda_.DockerImageFunction(
                self,
                "Function",
                # The Dockerfile's FROM pins the same platform; CMD names the handler.
                code=lambda_.DockerImageCode.from_image_asset(
                    str(artifact.code), platform=_PLATFORMS[arch]
                ),
                **common,
            )
        else:
            if artifact.layer is not None:
                self.layer = lambda_.LayerVersion(
                    self,
                    "Dependencies",
                    code=lambda_.Code.from_asset(str(artifact.layer)),
                    # Its native wheels and bytecode fit exactly this runtime and CPU.
                    compatible_runtimes=[_RUNTIMES[python]],
                    compatible_architectures=[_ARCHITECTURES[arch]],
                    description=f"coldbrew: third-party packages of {artifact.name}",
                )
            self.function = lambda_.Function(
                self,
                "Function",
                # A .zip path becomes a file asset uploaded as-is.
                code=lambda_.Code.from_asset(str(artifact.code)),
                handler=HANDLER,
                runtime=_RUNTIMES[python],
                layers=[self.layer] if self.layer is not None else None,
                **common,
            )
            Validations.of(self.function).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-L1",
                    reason=(
                        "The runtime must match the Python the artifact was built for: it "
                        "ships bytecode and native wheels for exactly that version. Moving to "
                        "a newer runtime means rebuilding with `coldbrew build`, not editing "
                        "the stack."
                    ),
                )
            )

        if snap_start:
            # CDK warns that SnapStart needs a published version; the next line publishes it.
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "current_version below publishes every deployed configuration, and alias live "
                "serves that version",
            )

        # current_version hashes the code and configuration when the app is
        # synthesized, so a new artifact or setting (environment variables
        # added later included) publishes a new version, and an unchanged
        # deploy publishes nothing.
        self.version = self.function.current_version
        self.alias = lambda_.Alias(self, "Live", alias_name=ALIAS_NAME, version=self.version)
        # On the alias, not the function: the URL must serve a published
        # version, never $LATEST.
        self.url = self.alias.add_function_url(
            auth_type=_URL_AUTHS[url_auth],
            cors=_cors_options(cors, url_auth) if cors is not None else None,
        )


def _cors_options(cors: CorsSettings, auth: UrlAuth) -> lambda_.FunctionUrlCorsOptions:
    return lambda_.FunctionUrlCorsOptions(
        allowed_origins=list(cors.origins),
        allowed_methods=[_METHODS[m] for m in cors.methods],
        allowed_headers=list(_CORS_HEADERS[auth]),
        max_age=_CORS_MAX_AGE,
    )
