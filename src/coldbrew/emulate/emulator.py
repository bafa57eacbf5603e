"""The local Lambda: invoke an artifact's handler the way the service does.

:class:`Emulator` unpacks the artifact zip and its layer zips once (a
directory is used in place), keeps a pool of sandboxes
running the real AWS runtime client, and runs each invocation in one of them:
cold (a new sandbox, with an init phase) or warm (an idle one reused). It logs
Lambda's START/END/REPORT lines and keeps an :class:`InvocationRecord` per
invocation. Direct invocation is :meth:`Emulator.invoke`; the function URL
front is built on :meth:`Emulator.invoke_payload`.
"""

from __future__ import annotations

import collections
import contextlib
import json
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from coldbrew.artifact.zip_safety import check_function_zips
from coldbrew.emulate.artifact import directory_task_root, remove_task_root, unpack_artifact
from coldbrew.emulate.layers import unpack_layers
from coldbrew.emulate.pool import SandboxPool
from coldbrew.emulate.report import (
    InvocationRecord,
    Status,
    billed_ms,
    end_line,
    init_report_line,
    report_line,
    start_line,
    timeout_line,
)
from coldbrew.emulate.runtime_api import Invocation
from coldbrew.emulate.runtime_env import RuntimeEnvironment, check_arch, ensure_runtime
from coldbrew.emulate.sandbox import Answer, Sandbox, SandboxSpec, lambda_environment
from coldbrew.emulate.settings import MAX_PAYLOAD_BYTES, EmulatorConfig
from coldbrew.errors import EmulationError, InvocationTimeoutError, PayloadTooLargeError

_RECORDS_KEPT = 10_000


@dataclass(frozen=True)
class InvocationResult:
    """What one invocation returned, as Lambda's Invoke API would give it.

    ``payload`` is the function's response when ``status`` is SUCCESS, and
    otherwise an error JSON with ``errorType`` and ``errorMessage`` (the
    runtime's own for a handler exception). ``record`` is None only when the
    invocation was throttled and nothing ran.
    """

    request_id: str
    status: Status
    payload: bytes
    record: InvocationRecord | None
    error_type: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the function returned normally."""
        return self.status is Status.SUCCESS

    def json(self) -> Any:
        """The payload, parsed."""
        return json.loads(self.payload)

    def raise_for_error(self) -> None:
        """Raise :class:`InvocationTimeoutError` or :class:`EmulationError` unless ok."""
        if self.status is Status.SUCCESS:
            return
        message = f"{self.error_type}: {self.error_message} (request {self.request_id})"
        if self.status is Status.TIMEOUT:
            raise InvocationTimeoutError(message)
        raise EmulationError(message)


class Emulator:
    """A local Lambda function for one artifact; use as a context manager.

    ``on_log`` receives every log line (the sandboxes' output and the
    START/END/REPORT lines), one call at a time; ``on_report`` receives each
    invocation's record. ``runtime`` skips the runtime venv lookup (tests);
    ``clock`` drives idle ages for reaping.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        on_log: Callable[[str], None] | None = None,
        on_report: Callable[[InvocationRecord], None] | None = None,
        runtime: RuntimeEnvironment | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._on_log = on_log
        self._on_report = on_report
        self._runtime = runtime
        self._clock = clock
        self._log_lock = threading.Lock()
        self._records: collections.deque[InvocationRecord] = collections.deque(maxlen=_RECORDS_KEPT)
        self._pool: SandboxPool[Sandbox] | None = None
        self._workdir: Path | None = None
        self._task_root: Path | None = None
        self._layer_roots: tuple[Path, ...] = ()

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Check the architecture, prepare the runtime, unpack the artifact and its layers.

        A directory artifact (or layer) is not unpacked: it is used as it is.
        """
        if self._pool is not None:
            return
        config = self.config
        arch = check_arch(config.arch)
        runtime = self._runtime or ensure_runtime(
            config.cache_dir,
            config.python_version,
            explicit_python=config.runtime_python,
            arch=arch,
        )
        self._runtime = runtime
        # Every zip checked, and the unzipped total too, before anything is written.
        check_function_zips(config.artifact, config.layers)
        try:
            with _interrupts_deferred():  # never a temporary directory no one will remove
                workdir = self._workdir = Path(tempfile.mkdtemp(prefix="coldbrew-serve-"))
            self._start_sandbox_pool(config, runtime, workdir)
        except BaseException:
            # Ctrl-C included: whatever was unpacked or spawned so far goes.
            self.stop()
            raise

    def _start_sandbox_pool(
        self, config: EmulatorConfig, runtime: RuntimeEnvironment, workdir: Path
    ) -> None:
        if config.artifact.is_dir():
            task_root = directory_task_root(config.artifact)
        else:
            task_root = unpack_artifact(config.artifact, workdir / "task")
        # Lambda's /opt, one directory per layer.
        layer_roots = unpack_layers(config.layers, workdir / "opt")
        self._task_root = task_root
        self._layer_roots = layer_roots
        spec = SandboxSpec(
            python=runtime.python,
            task_root=task_root,
            handler=config.handler,
            env=lambda_environment(config, task_root, runtime, layer_roots),
        )

        def spawn() -> Sandbox:
            sandbox = Sandbox(spec, self._log)
            sandbox.start()
            return sandbox

        self._pool = SandboxPool(
            spawn,
            max_concurrency=config.max_concurrency,
            idle_ttl_s=config.idle_ttl_s,
            queue_wait_s=config.queue_wait_s,
            clock=self._clock,
        )
        self._pool.start_reaper()

    def stop(self) -> None:
        """Kill every sandbox and delete the unpacked artifact and layers; idempotent.

        A directory artifact (or layer) is left as it was. A Ctrl-C (or SIGTERM)
        arriving meanwhile is delivered once everything is gone: interrupting
        this would orphan sandboxes and leave a read-only tree in the temp dir.
        """
        with _interrupts_deferred():
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.close()
            self._remove_workdir()
            self._task_root = None
            self._layer_roots = ()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- invoking ------------------------------------------------------------

    def invoke(self, event: Any, *, request_id: str | None = None) -> InvocationResult:
        """Invoke the function with a JSON-serializable ``event``."""
        return self.invoke_payload(event_payload(event), request_id=request_id)

    def invoke_payload(
        self, payload: bytes, *, request_id: str | None = None, trace_id: str | None = None
    ) -> InvocationResult:
        """Invoke the function with raw JSON bytes; thread-safe.

        Function failures (an exception, a timeout, a crash, a failed init,
        throttling) are results, not exceptions, as with Lambda's Invoke API.
        Raises :class:`PayloadTooLargeError` over 6 MB (of ``payload``, the
        event's UTF-8 JSON bytes, as Lambda counts) and
        :class:`EmulationError` when no sandbox can be started at all.
        """
        pool = self._pool
        if pool is None:
            raise EmulationError("the emulator is not running: call start() first")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError(
                f"request must be smaller than {MAX_PAYLOAD_BYTES} bytes, got {len(payload)}"
            )
        request_id = request_id or str(uuid.uuid4())
        lease = pool.acquire()
        if lease is None:
            return _failure(
                request_id, Status.THROTTLED, "TooManyRequestsException", "Rate Exceeded.", None
            )
        sandbox, cold = lease
        reusable = False
        try:
            answer, init_ms = self._run(sandbox, cold, payload, request_id, trace_id)
            reusable = answer.status in (Status.SUCCESS, Status.FUNCTION_ERROR)
            return self._conclude(sandbox, cold, init_ms, answer, request_id)
        finally:
            pool.release(sandbox, reusable=reusable)

    # --- introspection -------------------------------------------------------

    @property
    def records(self) -> list[InvocationRecord]:
        """Records of recent invocations, oldest first."""
        with self._log_lock:
            return list(self._records)

    @property
    def task_root(self) -> Path | None:
        """Where the artifact is unpacked (or the artifact directory) while running."""
        return self._task_root

    @property
    def layer_roots(self) -> tuple[Path, ...]:
        """Where each layer is unpacked (what /opt holds of it) while running, in merge order."""
        return self._layer_roots

    def sandbox_counts(self) -> tuple[int, int]:
        """(idle, busy) sandboxes right now."""
        return (0, 0) if self._pool is None else self._pool.counts()

    def idle_pids(self) -> list[int]:
        """Process ids of the idle sandboxes, most recently used last."""
        if self._pool is None:
            return []
        return [s.pid for s in self._pool.idle_sandboxes() if s.pid is not None]

    def reap_idle(self, max_idle_s: float | None = None) -> int:
        """Kill sandboxes idle past ``max_idle_s`` (default: the TTL; 0: all idle ones)."""
        return 0 if self._pool is None else self._pool.reap_idle(max_idle_s)

    # --- internals -----------------------------------------------------------

    def _run(
        self, sandbox: Sandbox, cold: bool, payload: bytes, request_id: str, trace_id: str | None
    ) -> tuple[Answer, float | None]:
        config = self.config
        init_ms: float | None = None
        if cold:
            init = sandbox.wait_ready(config.init_timeout_s)
            init_ms = init.init_ms
            if not init.ok:
                sandbox.drain_logs()
                self._log(init_report_line(init.init_ms, init.status, init.error_type))
                self._log(start_line(request_id))
                body = json.dumps(
                    {"errorType": init.error_type, "errorMessage": init.error_message}
                ).encode()
                return Answer(Status.INIT_ERROR, body, 0.0, init.error_type), init_ms
        self._log(start_line(request_id))
        invocation = Invocation(
            request_id=request_id,
            payload=payload,
            deadline_ms=int((time.time() + config.timeout_s) * 1000),
            function_arn=config.function_arn,
            trace_id=trace_id or new_trace_id(),
        )
        answer = sandbox.invoke(invocation, config.timeout_s)
        sandbox.drain_logs()
        return answer, init_ms

    def _conclude(
        self,
        sandbox: Sandbox,
        cold: bool,
        init_ms: float | None,
        answer: Answer,
        request_id: str,
    ) -> InvocationResult:
        config = self.config
        payload = answer.body
        message: str | None = None
        if answer.status is Status.TIMEOUT:
            self._log(timeout_line(request_id, config.timeout_s))
            message = (
                f"RequestId: {request_id} Error: "
                f"Task timed out after {config.timeout_s:.2f} seconds"
            )
        elif answer.status is Status.CRASH:
            message = f"RequestId: {request_id} Error: {answer.body.decode()}"
            self._log(message)
        elif answer.status is not Status.SUCCESS:
            message = _error_message(answer.body)
        if message is not None and answer.status is not Status.FUNCTION_ERROR:
            payload = json.dumps({"errorType": answer.error_type, "errorMessage": message}).encode()
        record = InvocationRecord(
            request_id=request_id,
            cold=cold,
            init_ms=init_ms,
            duration_ms=answer.duration_ms,
            billed_ms=billed_ms(answer.duration_ms),
            memory_size_mb=config.memory_mb,
            max_memory_mb=sandbox.max_memory_mb(),
            sandbox_pid=sandbox.pid,
            status=answer.status,
            error_type=answer.error_type,
        )
        self._log(end_line(request_id))
        self._log(report_line(record))
        with self._log_lock:
            self._records.append(record)
        if self._on_report is not None:
            self._on_report(record)
        return InvocationResult(
            request_id=request_id,
            status=answer.status,
            payload=payload,
            record=record,
            error_type=answer.error_type,
            error_message=message,
        )

    def _log(self, line: str) -> None:
        if self._on_log is not None:
            with self._log_lock:
                self._on_log(line)

    def _remove_workdir(self) -> None:
        if self._workdir is not None:
            remove_task_root(self._workdir)
            self._workdir = None
            self._task_root = None


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done, then deliver them.

    Only the main thread can set handlers (and only it receives signals), so
    elsewhere nothing changes. A handler set outside Python is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous: dict[int, Any] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if handler is not None:
                previous[signum] = handler
                signal.signal(signum, lambda number, _frame: arrived.append(number))
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        for number in dict.fromkeys(arrived):
            signal.raise_signal(number)  # to the restored handler, which may ignore it


def _failure(
    request_id: str, status: Status, error_type: str, message: str, record: InvocationRecord | None
) -> InvocationResult:
    payload = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return InvocationResult(request_id, status, payload, record, error_type, message)


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
    if isinstance(data, dict) and "errorMessage" in data:
        return str(data["errorMessage"])
    return body.decode("utf-8", "replace")


def event_payload(event: Any) -> bytes:
    """``event`` as the JSON bytes Lambda would count against its 6 MB limit.

    UTF-8, not ``\\uXXXX`` escapes (``json.dumps``'s default), which would
    count an emoji's 4 bytes as 12. Only a string with a lone surrogate, which
    UTF-8 cannot carry, keeps its escapes.
    """
    try:
        return json.dumps(event, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(event).encode()


def new_trace_id() -> str:
    """A fresh X-Ray trace header: version, epoch seconds in hex, 96 random bits."""
    return (
        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
        f"Parent={uuid.uuid4().hex[:16]};Sampled=0"
    )
