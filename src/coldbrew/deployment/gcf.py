"""Google Cloud Functions (2nd gen, Cloud Run functions) limits: the one place they live.

Figures from Cloud Run functions' "Quotas" page (2nd gen column) and "Configure
memory / CPU / concurrency / min instances" pages (checked 2026-12-03).
"""

from __future__ import annotations

from coldbrew.deployment.limits import MB, IntRange, TargetLimits

#: Max uncompressed HTTP request and (non-streaming) response size, 2nd gen.
HTTP_BYTES = 32 * MB
#: Requests one instance may serve at once (``max_instance_request_concurrency``).
INSTANCE_CONCURRENCY = IntRange(1, 1_000, "requests")
#: Concurrency above 1 needs at least this many vCPUs.
CONCURRENT_MIN_CPU = 1.0
#: vCPUs an instance may have (``available_cpu``).
CPU_RANGE = (0.083, 8.0)
#: Instances (``max_instance_count``; ``min_instance_count`` up to the same).
MAX_INSTANCES = IntRange(1, 1_000, "instances")

#: Variables the platform sets itself (Cloud Run's reserved names and the framework's).
RESERVED_ENV = frozenset(
    {
        "PORT",
        "K_SERVICE",
        "K_REVISION",
        "K_CONFIGURATION",
        "FUNCTION_TARGET",
        "FUNCTION_SIGNATURE_TYPE",
        "CLOUD_RUN_JOB",
        "CLOUD_RUN_EXECUTION",
        "CLOUD_RUN_TASK_INDEX",
        "CLOUD_RUN_TASK_ATTEMPT",
        "CLOUD_RUN_TASK_COUNT",
    }
)

CLOUD_FUNCTIONS = TargetLimits(
    name="Google Cloud Functions (2nd gen)",
    memory_mb=IntRange(128, 32_768, "MB"),
    timeout_s=IntRange(1, 3_600, "s"),
    request_bytes=HTTP_BYTES,
    response_bytes=HTTP_BYTES,
    pythons=("3.12", "3.13"),
    arches=("x86_64",),
    reserved_env=RESERVED_ENV,
    source="cloud.google.com/functions/quotas (2nd gen column) (2026-12-03)",
)

#: Function names: lowercase letters, digits and hyphens, starting with a letter,
#: not ending with a hyphen, at most 63 (Cloud Run service names).
FUNCTION_NAME_PATTERN = r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?"
#: Invoker auth: ``IAM`` (roles/run.invoker required) or ``NONE`` (allUsers may invoke).
INVOKER_AUTHS = ("IAM", "NONE")
#: ``service_config.ingress_settings``.
INGRESSES = ("ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB")
