"""AWS Lambda's limits: the one place they are written down.

Figures from the Lambda developer guide, "Lambda quotas" and "Configuring
function timeout/memory/ephemeral storage/concurrency" (checked 2026-12-03).
"""

from __future__ import annotations

from coldbrew.deployment.limits import MB, IntRange, TargetLimits

#: A synchronous (RequestResponse) invocation's request or response payload.
PAYLOAD_BYTES = 6 * MB
#: Function code plus all layers, unzipped.
UNZIPPED_BYTES = 250 * MB
#: A zip uploaded directly with CreateFunction/UpdateFunctionCode.
DIRECT_UPLOAD_BYTES = 50 * MB
#: A container image, uncompressed, base image and all its layers included.
IMAGE_BYTES = 10 * 1024 * MB
#: Layers a function may have.
MAX_LAYERS = 5
#: /tmp, in MB.
EPHEMERAL_STORAGE_MB = IntRange(512, 10_240, "MB")
#: Lambda keeps 100 of the account's concurrency unreserved ("You can reserve up to
#: the Unreserved account concurrency value that is shown, minus 100").
UNRESERVED_MINIMUM = 100

#: Variables Lambda sets itself and refuses as function configuration.
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

LAMBDA = TargetLimits(
    name="AWS Lambda",
    memory_mb=IntRange(128, 10_240, "MB"),
    timeout_s=IntRange(1, 900, "s"),
    request_bytes=PAYLOAD_BYTES,
    response_bytes=PAYLOAD_BYTES,
    pythons=("3.11", "3.12", "3.13"),
    arches=("x86_64", "arm64"),
    reserved_env=RESERVED_ENV,
    source="docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (2026-12-03)",
)

#: Lambda's function names: letters, digits, hyphens and underscores (the name, not an ARN).
FUNCTION_NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"
#: Function URL auth types (``AWS::Lambda::Url`` AuthType).
URL_AUTHS = ("AWS_IAM", "NONE")
#: A function URL is reachable from the internet; Lambda has no ingress setting.
INGRESSES = ("ALLOW_ALL",)
#: Python runtimes SnapStart supports (python3.12 and later; Lambda developer guide,
#: "Improving startup performance with Lambda SnapStart").
SNAPSTART_PYTHONS = ("3.12", "3.13")
#: SnapStart's largest ephemeral storage, in MB (same page).
SNAPSTART_MAX_EPHEMERAL_MB = 512
#: Layouts SnapStart supports: managed runtimes only, so no container image.
SNAPSTART_LAYOUTS = ("zip", "layer")
