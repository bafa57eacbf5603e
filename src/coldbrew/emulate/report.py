"""What each invocation cost, as a record and as Lambda's log lines.

Lambda writes ``START``, ``END`` and ``REPORT`` around every invocation, with
tab-separated fields on REPORT. ``Init Duration`` appears only on the
invocation that started a new sandbox; ``Status`` only when it did not
succeed. Billed duration is the duration rounded up to the next millisecond,
as for managed runtimes before init was billed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum


class Status(Enum):
    """How an invocation ended."""

    SUCCESS = "success"
    FUNCTION_ERROR = "error"  # the handler raised; the sandbox stays warm
    TIMEOUT = "timeout"  # the sandbox was killed
    CRASH = "crash"  # the runtime process died mid-invocation
    INIT_ERROR = "init_error"  # the sandbox never became ready
    THROTTLED = "throttled"  # no sandbox was free; nothing ran


@dataclass(frozen=True)
class InvocationRecord:
    """The figures Lambda's REPORT line carries, plus which sandbox ran it."""

    request_id: str
    cold: bool
    init_ms: float | None  # only on a cold invocation
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_mb: int | None  # the sandbox's VmHWM; None where /proc is missing
    sandbox_pid: int | None
    status: Status
    error_type: str | None = None


def billed_ms(duration_ms: float) -> int:
    """Lambda bills whole milliseconds, rounding up, with at least 1 ms."""
    return max(1, math.ceil(duration_ms))


def start_line(request_id: str) -> str:
    """The line Lambda logs when an invocation begins."""
    return f"START RequestId: {request_id} Version: $LATEST"


def end_line(request_id: str) -> str:
    """The line Lambda logs when an invocation ends."""
    return f"END RequestId: {request_id}"


def report_line(record: InvocationRecord) -> str:
    """The REPORT line for ``record``, fields tab-separated as Lambda writes them."""
    memory = "?" if record.max_memory_mb is None else str(record.max_memory_mb)
    fields = [
        f"REPORT RequestId: {record.request_id}",
        f"Duration: {record.duration_ms:.2f} ms",
        f"Billed Duration: {record.billed_ms} ms",
        f"Memory Size: {record.memory_size_mb} MB",
        f"Max Memory Used: {memory} MB",
    ]
    if record.init_ms is not None:
        fields.append(f"Init Duration: {record.init_ms:.2f} ms")
    if record.status is Status.TIMEOUT:
        fields.append("Status: timeout")
    elif record.status is not Status.SUCCESS and record.status is not Status.FUNCTION_ERROR:
        fields.append("Status: error")
        if record.error_type:
            fields.append(f"Error Type: {record.error_type}")
    return "\t".join(fields)


def init_report_line(init_ms: float, status: str, error_type: str | None) -> str:
    """The INIT_REPORT line Lambda logs when a sandbox's init fails."""
    fields = [f"INIT_REPORT Init Duration: {init_ms:.2f} ms", "Phase: init", f"Status: {status}"]
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields)


def timeout_line(request_id: str, timeout_s: float, now: datetime | None = None) -> str:
    """The line Lambda logs when it kills a function at its timeout."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"
