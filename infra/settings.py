"""Deployment settings: read once from CDK context, validated, then frozen.

Every value the infrastructure needs comes from a ``coldbrew:``-prefixed CDK
context key (``cdk.json`` or ``cdk synth -c coldbrew:memory=2048``); the keys,
their defaults and Lambda's limits are listed in :mod:`infra.context_keys`.
This module turns that context into a :class:`DeploymentSettings`; nothing
else in ``infra`` reads context. It imports nothing from ``aws_cdk``, so it
can be tested without starting Node.

The artifact decides what it can run on: a zip built for arm64 cannot run on
x86_64. So the target Python, the architecture and the layout come from the
build report beside it (see :mod:`infra.artifact_layout`), and an explicit
context value that contradicts the report is an error rather than a silent
override.

Every bad key is reported at once, each with the values it accepts; so are
combinations AWS would refuse at deploy time (SnapStart with provisioned
concurrency, a container image or more than 512 MB of ephemeral storage;
provisioned concurrency above the reservation), and keys that would be
silently ignored (an ``async_*`` key without ``coldbrew:async``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from coldbrew.artifact.report import report_candidates
from coldbrew.deployment.description import Deployment, DeploymentError, Layout
from infra import context_keys as k
from infra.artifact_layout import ArtifactReading, BuiltArtifact, read_artifact
from infra.cold_start_settings import ColdStartSettings, read_cold_start
from infra.context_keys import Arch, PythonVersion, UrlAuth
from infra.context_values import ContextReader, parse_int, text

# Lambda: letters, digits, hyphens and underscores, at most 64 (name only, not an ARN).
_FUNCTION_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# CloudFormation: starts with a letter, then letters, digits and hyphens, at most 128.
_STACK_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
# A function URL's AllowOrigins: "*" or scheme://host[:port], no path; at most 100.
_ORIGIN_RE = re.compile(r"\*|https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")
_MAX_ORIGINS = 100


@dataclass(frozen=True)
class CorsSettings:
    """Which browser origins may call the function URL, and with which methods."""

    origins: tuple[str, ...]
    methods: tuple[str, ...] = k.DEFAULT_CORS_METHODS


@dataclass(frozen=True)
class AsyncSettings:
    """The SQS path: a queue feeding the function, results written to S3."""

    batch_size: int = k.DEFAULT_ASYNC_BATCH_SIZE
    batch_window_s: int = k.DEFAULT_ASYNC_BATCH_WINDOW_S
    max_receive_count: int = k.DEFAULT_ASYNC_MAX_RECEIVE_COUNT
    result_retention_days: int = k.DEFAULT_ASYNC_RESULT_RETENTION_DAYS
    max_concurrency: int | None = None
    """The event source's MaximumConcurrency; by default the reserved concurrency, if set."""


@dataclass(frozen=True)
class OperationsSettings:
    """Alarms, their notifications, and the monthly cost budget."""

    p99_duration_ms: int = k.DEFAULT_P99_DURATION_MS
    alarm_email: str | None = None
    monthly_budget_usd: float = k.DEFAULT_MONTHLY_BUDGET_USD
    budget_thresholds: tuple[int, ...] = k.DEFAULT_BUDGET_THRESHOLDS
    budget_email: str | None = None


@dataclass(frozen=True)
class DeploymentSettings:
    """Everything the stack needs, validated.

    Build it with :meth:`from_context`; the constructor itself trusts its
    arguments.
    """

    artifact: BuiltArtifact
    """The built artifact: its layout and files, checked against its report."""
    arch: Arch
    python: PythonVersion
    memory_mb: int
    timeout_s: int
    auth: UrlAuth
    """Function URL auth type. ``NONE`` makes the URL public."""
    function_name: str | None
    """Physical function name; ``None`` lets CloudFormation generate one."""
    stack_name: str
    log_retention_days: int
    ephemeral_storage_mb: int = k.DEFAULT_EPHEMERAL_STORAGE_MB
    intra_op_threads: int | None = None
    """ONNX Runtime threads; ``None`` lets the runtime pick from the memory size."""
    reserved_concurrency: int | None = None
    cors: CorsSettings | None = None
    """``None``: no CORS headers, so browsers on other origins cannot read responses."""
    cold_start: ColdStartSettings = field(default_factory=ColdStartSettings)
    async_queue: AsyncSettings | None = None
    """``None``: the function URL only, no queue."""
    operations: OperationsSettings = field(default_factory=OperationsSettings)

    @classmethod
    def from_context(
        cls, context: Mapping[str, object], *, cwd: Path | None = None
    ) -> DeploymentSettings:
        """Validate the ``coldbrew:`` keys of ``context`` and build the settings.

        ``context`` is the whole CDK context (``app.node.get_all_context()``);
        keys without the ``coldbrew:`` prefix are ignored. ``None`` and the
        empty string mean "not given". Relative paths (artifact, schedule)
        are resolved against ``cwd`` (default: the working directory, which
        the CDK CLI sets to the folder holding ``cdk.json``).

        Raises :class:`~coldbrew.errors.ConfigurationError` listing every bad
        key at once, each with the values it accepts.
        """
        reader = ContextReader(context)
        base = cwd or Path.cwd()
        unknown = sorted(
            key for key in reader.given if key.startswith(k.PREFIX) and key not in k.CONTEXT_KEYS
        )
        for key in unknown:
            reader.error(
                f"{key} is not a coldbrew context key; known keys: {', '.join(k.CONTEXT_KEYS)}"
            )

        reading = read_artifact(
            reader.given.get(k.ARTIFACT, k.DEFAULT_ARTIFACT), base, reader.errors
        )
        report_name = str(reading.artifact.report) if reading.artifact else None
        arch = _reconcile(reader, reading, report_name, k.ARCH, k.ARCHES, k.DEFAULT_ARCH)
        python = _reconcile(reader, reading, report_name, k.PYTHON, k.PYTHONS, k.DEFAULT_PYTHON)
        # Their ranges are the Deployment description's to check (below).
        memory = reader.whole_number(k.MEMORY, k.DEFAULT_MEMORY_MB, k.MEMORY_RANGE)
        timeout = reader.whole_number(k.TIMEOUT, k.DEFAULT_TIMEOUT_S, k.TIMEOUT_RANGE)
        storage = reader.whole_number(
            k.EPHEMERAL_STORAGE, k.DEFAULT_EPHEMERAL_STORAGE_MB, k.EPHEMERAL_STORAGE_RANGE
        )
        threads = reader.optional_int(k.INTRA_OP_THREADS, k.INTRA_OP_THREADS_RANGE)
        account = reader.int_in_range(
            k.ACCOUNT_CONCURRENCY, k.ACCOUNT_CONCURRENCY_RANGE, k.DEFAULT_ACCOUNT_CONCURRENCY
        )
        limit = account - k.UNRESERVED_MINIMUM
        # 0 would throttle every request (Lambda's kill switch), so it is refused.
        reserved = reader.optional_int(
            k.RESERVED_CONCURRENCY,
            (1, limit),
            f" ({k.ACCOUNT_CONCURRENCY} {account} minus the {k.UNRESERVED_MINIMUM} "
            "Lambda keeps unreserved)",
        )
        auth = cast(UrlAuth, reader.choice(k.AUTH, k.URL_AUTHS, k.DEFAULT_AUTH))
        function_name = _function_name(reader)
        stack_name = _stack_name(reader)
        retention = reader.int_choice(
            k.LOG_RETENTION_DAYS, k.RETENTION_DAYS, k.DEFAULT_LOG_RETENTION_DAYS, "days"
        )
        cold_start = read_cold_start(
            reader,
            cwd=base,
            reserved_concurrency=reserved,
            concurrency_limit=limit,
        )
        layout = reading.artifact.layout if reading.artifact else "zip"
        _describe(
            reader,
            layout=layout,
            python=python,
            arch=arch,
            memory_mb=memory,
            timeout_s=timeout,
            ephemeral_storage_mb=storage,
            function_name=function_name,
            reserved=reserved,
            auth=auth,
            cold_start=cold_start,
        )
        # Within Lambda's range (else reported above), so later checks stay sane.
        timeout = timeout if timeout in k.TIMEOUT_RANGE else k.DEFAULT_TIMEOUT_S
        settings_async = _async(reader, reserved, timeout)
        cors = _cors(reader)
        operations = _operations(reader, timeout)

        reader.raise_errors()
        # Every reader recorded an error whenever it returned a placeholder, so
        # reaching here means each value is the validated one.
        assert reading.artifact is not None
        return cls(
            artifact=reading.artifact,
            arch=cast(Arch, arch),
            python=cast(PythonVersion, python),
            memory_mb=memory,
            timeout_s=timeout,
            auth=auth,
            function_name=function_name,
            stack_name=stack_name,
            log_retention_days=retention,
            ephemeral_storage_mb=storage,
            intra_op_threads=threads,
            reserved_concurrency=reserved,
            cors=cors,
            cold_start=cold_start,
            async_queue=settings_async,
            operations=operations,
        )


def _describe(
    reader: ContextReader,
    *,
    layout: str,
    python: str,
    arch: str,
    memory_mb: int,
    timeout_s: int,
    ephemeral_storage_mb: int,
    function_name: str | None,
    reserved: int | None,
    auth: str,
    cold_start: ColdStartSettings,
) -> Deployment | None:
    """The one Deployment description of this stack; its problems go to ``reader``.

    Lambda's limits and the rules across settings (SnapStart, the schedule's
    function and memory, a public URL's reservation) are checked there, the
    same check ``coldbrew deploy`` makes, in the context keys' names.
    """
    provisioned = cold_start.provisioned
    schedule = provisioned.schedule if provisioned else None
    names = {**CDK_SETTING_NAMES}
    if cold_start.schedule_path is not None:
        names["schedule"] = f"{k.SCHEDULE}: {cold_start.schedule_path}"
    try:
        return Deployment(
            target="aws-lambda",
            artifact=str(reader.given.get(k.ARTIFACT, k.DEFAULT_ARTIFACT)),
            python=python,
            arch=arch,
            memory_mb=memory_mb,
            timeout_s=timeout_s,
            function_name=function_name,
            layout=cast(Layout, layout),
            ephemeral_storage_mb=ephemeral_storage_mb,
            reserved_concurrency=reserved,
            cold_start=cold_start.strategy,
            schedule=schedule,
            alias=k.ALIAS_NAME,
            auth=auth,
            # A reservation given but refused above is reported there, not again here.
            public_needs_reservation=not reader.has(k.RESERVED_CONCURRENCY),
            setting_names=names,
        )
    except DeploymentError as exc:
        reader.errors.extend(exc.problems)
        return None


#: What the CDK app calls each field of the description: its context keys.
CDK_SETTING_NAMES = {
    "function_name": k.FUNCTION_NAME,
    "python": k.PYTHON,
    "arch": k.ARCH,
    "memory_mb": k.MEMORY,
    "timeout_s": k.TIMEOUT,
    "ephemeral_storage_mb": k.EPHEMERAL_STORAGE,
    "reserved_concurrency": k.RESERVED_CONCURRENCY,
    "cold_start": k.COLD_START,
    "schedule": k.SCHEDULE,
    "alias": "the stack's alias",
    "auth": k.AUTH,
}


def _reconcile(
    reader: ContextReader,
    reading: ArtifactReading,
    report_name: str | None,
    key: str,
    allowed: tuple[str, ...],
    default: str,
) -> str:
    """A value describing the artifact: the context's, else the report's.

    Neither is an error: guessing would deploy an arm64 or Python 3.13 build
    as x86_64/3.12, which fails only when the function first runs.
    """
    report = reading.report
    field_name = key.removeprefix(k.PREFIX)
    from_report: str | None = None
    if report.get(field_name) is not None:
        raw = text(report[field_name])
        if not isinstance(raw, str) or raw not in allowed:
            reader.error(
                f"build report {report_name}: {field_name} must be one of {', '.join(allowed)}, "
                f"got {raw!r}"
            )
            return default
        from_report = raw
    if not reader.has(key):
        if from_report is None and reading.artifact is not None:
            code = reading.artifact.code
            report_file = reading.artifact.report
            where = (
                f"{report_file} lacks it"
                if report_file
                else (f"{report_candidates(code)[0]} is missing")
            )
            reader.error(
                f"{key}: no build report says which {field_name} {code.name} was built for "
                f"({where}); build it with "
                f"`coldbrew build`, which writes the report, or set {key} "
                f"(one of {', '.join(allowed)})"
            )
        return from_report or default
    value = reader.check_choice(key, reader.given[key], allowed)
    if from_report is not None and value != from_report and text(reader.given[key]) in allowed:
        reader.error(
            f"{key} is {value!r} but the build report {report_name} says the artifact was "
            f"built for {from_report!r}; drop {key} or rebuild with `coldbrew build`"
        )
    return value


def _function_name(reader: ContextReader) -> str | None:
    raw = reader.given.get(k.FUNCTION_NAME)
    if raw is None:
        return None
    if not isinstance(raw, str) or not _FUNCTION_NAME_RE.fullmatch(raw):
        reader.error(
            f"{k.FUNCTION_NAME} must be 1-64 letters, digits, hyphens or underscores, got {raw!r}"
        )
        return None
    return raw


def _stack_name(reader: ContextReader) -> str:
    raw = reader.given.get(k.STACK_NAME, k.DEFAULT_STACK_NAME)
    if not isinstance(raw, str) or not _STACK_NAME_RE.fullmatch(raw):
        reader.error(
            f"{k.STACK_NAME} must start with a letter and hold only letters, digits and "
            f"hyphens (at most 128), got {raw!r}"
        )
        return k.DEFAULT_STACK_NAME
    return raw


def _cors(reader: ContextReader) -> CorsSettings | None:
    origins = reader.text_list(k.CORS_ORIGINS)
    methods = reader.text_list(k.CORS_METHODS)
    if origins is None:
        reader.only_with((k.CORS_METHODS,), f"{k.CORS_ORIGINS} is set", f"set {k.CORS_ORIGINS} too")
        return None
    bad = [o for o in origins if not _ORIGIN_RE.fullmatch(o)]
    if not origins or bad or len(origins) > _MAX_ORIGINS:
        reader.error(
            f"{k.CORS_ORIGINS} must list 1-{_MAX_ORIGINS} origins, each * or "
            f"scheme://host[:port] with no path (https://app.example.com), got {list(origins)!r}"
        )
    if methods is not None:
        wrong = [m for m in methods if m.upper() not in k.CORS_METHOD_VALUES]
        if not methods or wrong:
            reader.error(
                f"{k.CORS_METHODS} must list some of {', '.join(k.CORS_METHOD_VALUES)}, "
                f"got {list(methods)!r}"
            )
        methods = tuple(dict.fromkeys(m.upper() for m in methods))
    return CorsSettings(origins, methods or k.DEFAULT_CORS_METHODS)


def _async(reader: ContextReader, reserved: int | None, timeout_s: int) -> AsyncSettings | None:
    if not reader.boolean(k.ASYNC, k.DEFAULT_ASYNC):
        reader.only_with(k.ASYNC_KEYS, f"{k.ASYNC} is true", f"set {k.ASYNC}=true or drop the key")
        return None
    batch = reader.int_in_range(
        k.ASYNC_BATCH_SIZE, k.ASYNC_BATCH_SIZE_RANGE, k.DEFAULT_ASYNC_BATCH_SIZE
    )
    window = reader.int_in_range(
        k.ASYNC_BATCH_WINDOW, k.ASYNC_BATCH_WINDOW_RANGE, k.DEFAULT_ASYNC_BATCH_WINDOW_S
    )
    if batch > k.UNBATCHED_MAX and window < 1:
        reader.error(
            f"{k.ASYNC_BATCH_WINDOW} must be at least 1 (second) when {k.ASYNC_BATCH_SIZE} is "
            f"above {k.UNBATCHED_MAX} ({batch}): Lambda requires a batching window for larger "
            "SQS batches"
        )
    receives = reader.int_in_range(
        k.ASYNC_MAX_RECEIVE_COUNT,
        k.ASYNC_MAX_RECEIVE_COUNT_RANGE,
        k.DEFAULT_ASYNC_MAX_RECEIVE_COUNT,
    )
    retention = reader.int_in_range(
        k.ASYNC_RESULT_RETENTION_DAYS,
        k.ASYNC_RESULT_RETENTION_RANGE,
        k.DEFAULT_ASYNC_RESULT_RETENTION_DAYS,
    )
    visibility_s = k.VISIBILITY_FACTOR * timeout_s + window
    if receives * visibility_s > k.QUEUE_RETENTION_S:
        reader.error(
            f"{k.ASYNC_MAX_RECEIVE_COUNT} must be at most {k.QUEUE_RETENTION_S // visibility_s} "
            f"with {k.TIMEOUT} {timeout_s} and {k.ASYNC_BATCH_WINDOW} {window}, got {receives}: "
            f"each receive of a failing message waits out the {visibility_s} s visibility "
            f"timeout, and all of them must fit in the queue's {k.QUEUE_RETENTION_S} s "
            "retention, or the message expires instead of reaching the dead-letter queue"
        )
    return AsyncSettings(batch, window, receives, retention, _async_concurrency(reader, reserved))


def _async_concurrency(reader: ContextReader, reserved: int | None) -> int | None:
    # The queue should not invoke the function beyond its reservation: each
    # throttled batch goes back to the queue and counts towards the dead-letter
    # redrive. So the reservation is the event source's default cap; a lower
    # cap keeps room for the URL while a backlog drains.
    low, high = k.ESM_MAX_CONCURRENCY_RANGE
    if reserved is not None and reserved < low:
        reader.error(
            f"{k.RESERVED_CONCURRENCY} must be at least {low} with {k.ASYNC}: it caps the SQS "
            f"event source's maximum concurrency, which is {low}-{high}, got {reserved}"
        )
        return None
    ceiling = high if reserved is None else min(reserved, high)
    explicit = reader.optional_int(
        k.ASYNC_MAX_CONCURRENCY,
        (low, ceiling),
        f" ({k.RESERVED_CONCURRENCY})" if reserved is not None and reserved < high else "",
    )
    if explicit is not None:
        return explicit
    return None if reserved is None else ceiling


def _operations(reader: ContextReader, timeout_s: int) -> OperationsSettings:
    p99 = reader.optional_int(k.P99_DURATION_MS, (1, timeout_s * 1000), f" ({k.TIMEOUT} in ms)")
    budget = reader.optional_number(k.MONTHLY_BUDGET_USD, k.BUDGET_USD_RANGE, "an amount in USD")
    thresholds = _thresholds(reader)
    return OperationsSettings(
        p99_duration_ms=k.DEFAULT_P99_DURATION_MS if p99 is None else p99,
        alarm_email=reader.email(k.ALARM_EMAIL),
        monthly_budget_usd=k.DEFAULT_MONTHLY_BUDGET_USD if budget is None else budget,
        budget_thresholds=thresholds,
        budget_email=reader.email(k.BUDGET_EMAIL),
    )


def _thresholds(reader: ContextReader) -> tuple[int, ...]:
    raw = reader.text_list(k.BUDGET_THRESHOLDS)
    if raw is None:
        return k.DEFAULT_BUDGET_THRESHOLDS
    values = [parse_int(item.strip()) for item in raw]
    low, high = k.BUDGET_THRESHOLD_RANGE
    if (
        not values
        or len(values) > k.MAX_BUDGET_THRESHOLDS
        or any(v is None or not low <= v <= high for v in values)
        or len(set(values)) != len(values)
    ):
        reader.error(
            f"{k.BUDGET_THRESHOLDS} must list 1-{k.MAX_BUDGET_THRESHOLDS} different whole percents "
            f"from {low} to {high} (AWS Budgets allows {k.MAX_BUDGET_THRESHOLDS} notifications), "
            f"got {list(raw)!r}"
        )
        return k.DEFAULT_BUDGET_THRESHOLDS
    return tuple(sorted(cast("list[int]", values)))
