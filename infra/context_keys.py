"""The ``coldbrew:`` CDK context keys, their defaults and the limits behind them.

Every deployment setting is one of these keys, in ``cdk.json``'s ``context``
or on the command line (``cdk synth -c coldbrew:memory=2048``). Only
:mod:`infra.settings` reads them. This module is data: names, defaults and
ranges, with the reason for each limit; Lambda's own limits come from
:mod:`coldbrew.deployment.aws_lambda` (the only place they are written).

=====================================  ============  ==========================================
key                                    default       what
=====================================  ============  ==========================================
``coldbrew:artifact``                  the demo zip  build report, zip, function zip or image
                                                     directory written by ``coldbrew build``
``coldbrew:arch`` / ``coldbrew:python``  the report  to assert what the report says; both are
                                                     required for a zip with no build report
``coldbrew:memory``                    1024          MB, Lambda's range
``coldbrew:timeout``                   30            seconds, Lambda's range
``coldbrew:ephemeral_storage``         512           MB of /tmp, Lambda's range
``coldbrew:intra_op_threads``          (unset)       ONNX Runtime threads, 1-6; unset: runtime
                                                     picks from memory
``coldbrew:reserved_concurrency``      (unset)       1 .. account_concurrency - 100; required
                                                     with auth=NONE (bounds a public URL's spend)
``coldbrew:account_concurrency``       1000          the account's Lambda concurrency quota
``coldbrew:auth``                      AWS_IAM       function URL auth: AWS_IAM or NONE
``coldbrew:cors_origins``              (unset)       origins browsers may call the URL from
``coldbrew:cors_methods``              GET,POST      with cors_origins only
``coldbrew:function_name``             (generated)   physical function name
``coldbrew:stack_name``                coldbrew-minilm
``coldbrew:log_retention_days``        14            a CloudWatch Logs retention
``coldbrew:cold_start``                none          none, snapstart or provisioned
``coldbrew:provisioned_min``           1             provisioned only
``coldbrew:provisioned_max``           10            provisioned only
``coldbrew:target_utilization``        (unset)       provisioned only, 0.1-0.9
``coldbrew:schedule``                  (unset)       provisioned only: ``coldbrew tune``'s file
``coldbrew:async``                     false         add the SQS queue and S3 results
``coldbrew:async_batch_size``          10            async only, 1-10000
``coldbrew:async_batch_window``        0             async only, seconds, 0-300
``coldbrew:async_max_receive_count``   5             async only, 1-1000
``coldbrew:async_result_retention_days`` 7           async only, days, 1-3650
``coldbrew:async_max_concurrency``     reserved      async only, 2-1000, at most the reserved
                                                     concurrency (default: it, if set)
``coldbrew:p99_duration_ms``           1000          p99 duration alarm threshold
``coldbrew:alarm_email``               (unset)       subscribed to the alarm topic
``coldbrew:monthly_budget_usd``        50            AWS Budgets monthly cost budget
``coldbrew:budget_thresholds``         50,80,100     percents of the budget, at most 9
``coldbrew:budget_email``              (unset)       budget notifications by email
=====================================  ============  ==========================================
"""

from __future__ import annotations

from typing import Literal

from coldbrew.deployment import aws_lambda
from coldbrew.deployment.aws_lambda import LAMBDA

PREFIX = "coldbrew:"

ARTIFACT = f"{PREFIX}artifact"
ARCH = f"{PREFIX}arch"
PYTHON = f"{PREFIX}python"
MEMORY = f"{PREFIX}memory"
TIMEOUT = f"{PREFIX}timeout"
EPHEMERAL_STORAGE = f"{PREFIX}ephemeral_storage"
INTRA_OP_THREADS = f"{PREFIX}intra_op_threads"
RESERVED_CONCURRENCY = f"{PREFIX}reserved_concurrency"
ACCOUNT_CONCURRENCY = f"{PREFIX}account_concurrency"
AUTH = f"{PREFIX}auth"
CORS_ORIGINS = f"{PREFIX}cors_origins"
CORS_METHODS = f"{PREFIX}cors_methods"
FUNCTION_NAME = f"{PREFIX}function_name"
STACK_NAME = f"{PREFIX}stack_name"
LOG_RETENTION_DAYS = f"{PREFIX}log_retention_days"
COLD_START = f"{PREFIX}cold_start"
PROVISIONED_MIN = f"{PREFIX}provisioned_min"
PROVISIONED_MAX = f"{PREFIX}provisioned_max"
TARGET_UTILIZATION = f"{PREFIX}target_utilization"
SCHEDULE = f"{PREFIX}schedule"
ASYNC = f"{PREFIX}async"
ASYNC_BATCH_SIZE = f"{PREFIX}async_batch_size"
ASYNC_BATCH_WINDOW = f"{PREFIX}async_batch_window"
ASYNC_MAX_RECEIVE_COUNT = f"{PREFIX}async_max_receive_count"
ASYNC_RESULT_RETENTION_DAYS = f"{PREFIX}async_result_retention_days"
ASYNC_MAX_CONCURRENCY = f"{PREFIX}async_max_concurrency"
P99_DURATION_MS = f"{PREFIX}p99_duration_ms"
ALARM_EMAIL = f"{PREFIX}alarm_email"
MONTHLY_BUDGET_USD = f"{PREFIX}monthly_budget_usd"
BUDGET_THRESHOLDS = f"{PREFIX}budget_thresholds"
BUDGET_EMAIL = f"{PREFIX}budget_email"

#: The keys that only mean something with ``cold_start=provisioned``.
PROVISIONED_KEYS = (PROVISIONED_MIN, PROVISIONED_MAX, TARGET_UTILIZATION, SCHEDULE)
#: The keys that only mean something with ``async=true``.
ASYNC_KEYS = (
    ASYNC_BATCH_SIZE,
    ASYNC_BATCH_WINDOW,
    ASYNC_MAX_RECEIVE_COUNT,
    ASYNC_RESULT_RETENTION_DAYS,
    ASYNC_MAX_CONCURRENCY,
)

#: Every context key infra reads; any other ``coldbrew:`` key is a typo.
CONTEXT_KEYS = (
    ARTIFACT,
    ARCH,
    PYTHON,
    MEMORY,
    TIMEOUT,
    EPHEMERAL_STORAGE,
    INTRA_OP_THREADS,
    RESERVED_CONCURRENCY,
    ACCOUNT_CONCURRENCY,
    AUTH,
    CORS_ORIGINS,
    CORS_METHODS,
    FUNCTION_NAME,
    STACK_NAME,
    LOG_RETENTION_DAYS,
    COLD_START,
    *PROVISIONED_KEYS,
    ASYNC,
    *ASYNC_KEYS,
    P99_DURATION_MS,
    ALARM_EMAIL,
    MONTHLY_BUDGET_USD,
    BUDGET_THRESHOLDS,
    BUDGET_EMAIL,
)

Arch = Literal["arm64", "x86_64"]
PythonVersion = Literal["3.12", "3.13"]
UrlAuth = Literal["AWS_IAM", "NONE"]
ColdStart = Literal["none", "snapstart", "provisioned"]

ARCHES: tuple[Arch, ...] = ("arm64", "x86_64")
PYTHONS: tuple[PythonVersion, ...] = ("3.12", "3.13")
URL_AUTHS: tuple[UrlAuth, ...] = ("AWS_IAM", "NONE")
COLD_STARTS: tuple[ColdStart, ...] = ("none", "snapstart", "provisioned")
#: What a function URL's CORS AllowMethods accepts (AWS::Lambda::Url Cors).
CORS_METHOD_VALUES = ("GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "*")
#: The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Lambda's limits live in coldbrew.deployment.aws_lambda; the Deployment
# description checks them (infra.settings builds one).
MEMORY_RANGE = LAMBDA.memory_mb
TIMEOUT_RANGE = LAMBDA.timeout_s
EPHEMERAL_STORAGE_RANGE = aws_lambda.EPHEMERAL_STORAGE_MB
# Lambda gives at most 6 vCPUs (at 10,240 MB); more threads only contend.
INTRA_OP_THREADS_RANGE = (1, 6)
# Lambda keeps 100 of the account's concurrency unreserved for functions
# without a reservation: "You can reserve up to the Unreserved account
# concurrency value that is shown, minus 100" (Lambda developer guide,
# configuration-concurrency). Provisioned concurrency draws on the same pool.
UNRESERVED_MINIMUM = aws_lambda.UNRESERVED_MINIMUM
ACCOUNT_CONCURRENCY_RANGE = (UNRESERVED_MINIMUM + 1, 1_000_000)
TARGET_UTILIZATION_RANGE = (0.1, 0.9)
# SQS event source mapping: a standard queue takes batches of up to 10,000
# messages; the batching window is 0-300 s and must be at least 1 s above 10.
ASYNC_BATCH_SIZE_RANGE = (1, 10_000)
ASYNC_BATCH_WINDOW_RANGE = (0, 300)
UNBATCHED_MAX = 10
# SQS redrive policy: maxReceiveCount is 1-1000.
ASYNC_MAX_RECEIVE_COUNT_RANGE = (1, 1_000)
ASYNC_RESULT_RETENTION_RANGE = (1, 3_650)
# An SQS event source's MaximumConcurrency is 2-1000.
ESM_MAX_CONCURRENCY_RANGE = (2, 1_000)
# The async queue's visibility timeout is 6 x the function timeout plus the
# batching window (AWS's advice), and a failing message waits it out on each
# receive: all its receives must fit in the queue's 4-day retention, or it
# expires instead of reaching the dead-letter queue. (infra.async_queue holds
# the same numbers; a synth test checks they agree.)
VISIBILITY_FACTOR = 6
QUEUE_RETENTION_S = 4 * 24 * 3600
P99_DURATION_RANGE_MS = (1, 900_000)
BUDGET_USD_RANGE = (0.01, 1_000_000.0)
# A notification at 1000 % of the budget is already a runaway bill.
BUDGET_THRESHOLD_RANGE = (1, 1_000)
# AWS Budgets allows ten notifications per budget, and the Operations
# construct adds one on forecasted spend.
MAX_BUDGET_THRESHOLDS = 9

DEFAULT_ARTIFACT = "dist/minilm-l6-v2-py312-x86_64.zip"
DEFAULT_ARCH: Arch = "x86_64"
DEFAULT_PYTHON: PythonVersion = "3.12"
DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT_S = 30
DEFAULT_EPHEMERAL_STORAGE_MB = 512
DEFAULT_ACCOUNT_CONCURRENCY = 1000
DEFAULT_AUTH: UrlAuth = "AWS_IAM"
# The two methods of the HTTP contract: POST /embed and GET /health.
DEFAULT_CORS_METHODS = ("GET", "POST")
DEFAULT_STACK_NAME = "coldbrew-minilm"
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_COLD_START: ColdStart = "none"
DEFAULT_PROVISIONED_MIN = 1
DEFAULT_PROVISIONED_MAX = 10
DEFAULT_ASYNC = False
DEFAULT_ASYNC_BATCH_SIZE = 10
DEFAULT_ASYNC_BATCH_WINDOW_S = 0
DEFAULT_ASYNC_MAX_RECEIVE_COUNT = 5
DEFAULT_ASYNC_RESULT_RETENTION_DAYS = 7
DEFAULT_P99_DURATION_MS = 1000
DEFAULT_MONTHLY_BUDGET_USD = 50.0
DEFAULT_BUDGET_THRESHOLDS = (50, 80, 100)

#: The alias every caller goes through; provisioned concurrency lives on it.
ALIAS_NAME = "live"
