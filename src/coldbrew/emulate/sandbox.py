"""One sandbox: the real AWS runtime client in its own process and process group.

A sandbox is what Lambda calls an execution environment: ``python -m
awslambdaric HANDLER`` started with Lambda's environment variables, the task
root as working directory and first on the path, talking to its own
:class:`~coldbrew.emulate.runtime_api.RuntimeApiServer`. It runs one
invocation at a time. Killing it kills its whole process group, so anything
the handler spawned goes too.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from coldbrew.emulate.layers import layer_paths
from coldbrew.emulate.log_pump import LogPump
from coldbrew.emulate.report import Status
from coldbrew.emulate.runtime_api import EventKind, Invocation, RuntimeApiServer, RuntimeEvent
from coldbrew.emulate.runtime_env import RuntimeEnvironment
from coldbrew.emulate.settings import EmulatorConfig
from coldbrew.errors import EmulationError


@dataclass(frozen=True)
class SandboxSpec:
    """What every sandbox of one emulator shares."""

    python: Path  # the runtime venv's interpreter
    task_root: Path
    handler: str
    env: Mapping[str, str]  # all but the per-sandbox variables


@dataclass(frozen=True)
class InitAnswer:
    """How a new sandbox's init ended."""

    ok: bool
    init_ms: float
    error_type: str | None = None
    error_message: str | None = None
    status: str = "success"  # for INIT_REPORT: "success", "error" or "timeout"


@dataclass(frozen=True)
class Answer:
    """How one invocation in a sandbox ended."""

    status: Status
    body: bytes  # the function's response, or an error JSON
    duration_ms: float
    error_type: str | None = None


def lambda_environment(
    config: EmulatorConfig,
    task_root: Path,
    runtime: RuntimeEnvironment,
    layer_roots: Sequence[Path] = (),
) -> dict[str, str]:
    """Lambda's environment for a sandbox, except the per-sandbox variables.

    Nothing from the host leaks in but PATH (after the runtime's own bin):
    no credentials, no proxies, no PYTHON* settings. ``layer_roots`` (the
    unpacked layers, in merge order) follow the task root on the search paths
    as /opt does on Lambda (:mod:`coldbrew.emulate.layers`).
    """
    host_path = config.host_path
    if host_path is None:
        host_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    layers = layer_paths(layer_roots, config.python_version)
    region = config.region
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{config.python_version}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime.root),
        "_HANDLER": config.handler,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": _joined(runtime.root / "bin", host_path, *layers.executables),
        "LD_LIBRARY_PATH": _joined(task_root, task_root / "lib", *layers.libraries),
        # The task root first: `python -m` also puts the working directory
        # (the task root) first, and the layers after it, as on Lambda.
        "PYTHONPATH": _joined(task_root, *layers.python),
        # The task root is read-only on Lambda, so bytecode is never cached there.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(config.env)
    return env


class Sandbox:
    """A runtime process with its Runtime API server; see the module docstring."""

    def __init__(self, spec: SandboxSpec, on_log: Callable[[str], None]) -> None:
        self._spec = spec
        self._on_log = on_log
        self._events: queue.Queue[RuntimeEvent] = queue.Queue()
        self._api = RuntimeApiServer(self._events)
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: LogPump | None = None
        self._started_at = 0.0
        self._kill_lock = threading.Lock()
        self._killed = False
        self._peak_mb: int | None = None
        self.last_used = 0.0  # set by the pool, on its clock

    @property
    def pid(self) -> int | None:
        """The runtime process' pid (also its process group id)."""
        return None if self._proc is None else self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the runtime process is still running."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the Runtime API server and spawn the runtime process."""
        self._api.start()
        env = dict(self._spec.env)
        env["AWS_LAMBDA_RUNTIME_API"] = self._api.address
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = (
            f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        )
        self._started_at = time.perf_counter()
        try:
            self._proc = subprocess.Popen(
                [str(self._spec.python), "-m", "awslambdaric", self._spec.handler],
                cwd=self._spec.task_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        except OSError as exc:
            self._api.close()
            raise EmulationError(
                f"could not start the runtime {self._spec.python}: {exc}"
            ) from None
        assert self._proc.stdout is not None
        self._pump = LogPump(self._proc.stdout, self._on_log, f"sandbox-log-{self._proc.pid}")
        self._pump.start()
        threading.Thread(
            target=self._watch, name=f"sandbox-exit-{self._proc.pid}", daemon=True
        ).start()

    def wait_ready(self, timeout_s: float) -> InitAnswer:
        """Wait until the runtime first asks for work; Lambda's init phase."""
        deadline = self._started_at + timeout_s
        while True:
            event = self._next_event(deadline)
            init_ms = (time.perf_counter() - self._started_at) * 1000
            if event is None:
                message = f"Init timed out after {timeout_s:.2f} seconds"
                return InitAnswer(False, init_ms, "Sandbox.Timedout", message, "timeout")
            init_ms = (event.at - self._started_at) * 1000
            if event.kind is EventKind.NEXT:
                return InitAnswer(True, init_ms)
            if event.kind is EventKind.INIT_ERROR:
                error_type, message = error_fields(event.body, event.error_type)
                return InitAnswer(False, init_ms, error_type, message, "error")
            if event.kind is EventKind.EXITED:
                message = f"Runtime exited with error: {_exit_reason(event.exit_code)}"
                return InitAnswer(False, init_ms, "Runtime.ExitError", message, "error")

    def invoke(self, invocation: Invocation, timeout_s: float) -> Answer:
        """Run one invocation; on timeout return at once (the caller kills)."""
        self._api.submit(invocation)
        submitted = time.perf_counter()
        deadline = submitted + timeout_s
        while True:
            event = self._next_event(deadline)
            if event is None:
                return Answer(Status.TIMEOUT, b"", timeout_s * 1000, "Sandbox.Timedout")
            began = self._api.delivered_at or submitted
            duration_ms = max(0.0, (event.at - began) * 1000)
            if event.kind is EventKind.RESPONSE and event.request_id == invocation.request_id:
                return Answer(Status.SUCCESS, event.body, duration_ms)
            if event.kind is EventKind.ERROR and event.request_id == invocation.request_id:
                error_type, _ = error_fields(event.body, event.error_type)
                return Answer(Status.FUNCTION_ERROR, event.body, duration_ms, error_type)
            if event.kind is EventKind.EXITED:
                reason = f"Runtime exited with error: {_exit_reason(event.exit_code)}"
                return Answer(Status.CRASH, reason.encode(), duration_ms, "Runtime.ExitError")
            # NEXT: the runtime polling again after an earlier answer; nothing to do.

    def drain_logs(self) -> None:
        """Wait until output already written by the function has been logged."""
        if self._pump is not None:
            self._pump.drain()

    def max_memory_mb(self) -> int | None:
        """The runtime process' peak resident memory (VmHWM), in MB rounded up.

        Once the process is gone (a crash) the last reading is returned.
        """
        if self._proc is None:
            return None
        try:
            with open(f"/proc/{self._proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        self._peak_mb = -(-int(line.split()[1]) // 1024)
                        break
        except (OSError, ValueError, IndexError):
            pass  # no /proc, or a zombie without memory figures
        return self._peak_mb

    def kill(self) -> None:
        """Kill the process group, stop the Runtime API server; idempotent."""
        with self._kill_lock:
            if self._killed:
                return
            self._killed = True
        if self._proc is not None:
            # ProcessLookupError: already gone, with all of its group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._api.close()
        if self._pump is not None:
            self._pump.join()

    def _next_event(self, deadline: float) -> RuntimeEvent | None:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            try:
                return self._events.get(timeout=remaining)
            except queue.Empty:
                continue

    def _watch(self) -> None:
        assert self._proc is not None
        code = self._proc.wait()
        self._events.put(RuntimeEvent(EventKind.EXITED, exit_code=code))


def _joined(*entries: Path | str) -> str:
    return ":".join(str(entry) for entry in entries)


def error_fields(body: bytes, header_type: str | None) -> tuple[str, str]:
    """The errorType and errorMessage of a runtime's error JSON, tolerating junk."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    error_type = str(data.get("errorType") or header_type or "Runtime.Unknown")
    message = str(data.get("errorMessage") or body.decode("utf-8", "replace") or error_type)
    return error_type, message


def _exit_reason(code: int | None) -> str:
    # Phrased like Lambda's (Go's os/exec) messages.
    if code is None:
        return "unknown"
    if code < 0:
        try:
            name = signal.strsignal(-code) or f"signal {-code}"
        except ValueError:
            name = f"signal {-code}"
        return f"signal: {name.lower()}"
    return f"exit status {code}"
