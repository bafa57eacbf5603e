"""How the bench reaches a served variant, whatever the platform emulating it.

A :class:`Front` is the one thing that differs between platforms: how a
request is made to start a fresh instance, what the platform says about the
instance that answered, how instances are retired. The measurements
(:mod:`coldbrew.bench.measure`) are written against it once.

* :class:`LambdaFront` - the Lambda emulator behind a local function URL.
  The front is always up; a request with no idle sandbox starts one, and the
  sandbox's REPORT record says so (cold, Init Duration, Max Memory Used).
* :class:`GcfFront` - Google's functions-framework in a fresh target-interpreter
  process over the unpacked Cloud Functions artifact
  (:class:`~coldbrew.emulate.gcf_server.GcfServer`). A cold start launches the
  process and sends the ``/embed`` request at once, retrying while the port
  refuses, as Cloud Run holds a request until the instance listens.
"""

from __future__ import annotations

import http.client
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from coldbrew.emulate import LocalFunctionUrl
from coldbrew.emulate.artifact import remove_task_root, unpack_artifact
from coldbrew.emulate.gcf_runtime import GcfRuntime
from coldbrew.emulate.gcf_server import GcfServer, GcfServerConfig
from coldbrew.emulate.probe import FunctionUrlClient, Reply
from coldbrew.errors import EmulationError

#: How long a cold start's request waits between tries while the port refuses.
CONNECT_RETRY_S = 0.005


@dataclass(frozen=True)
class Answer:
    """What the platform says about the instance that answered one request."""

    cold: bool  # a fresh instance answered
    init_ms: float | None = None
    duration_ms: float | None = None
    max_memory_mb: int | None = None


def send(client: FunctionUrlClient, texts: Sequence[str]) -> Reply:
    """``POST /embed`` the texts; a broken connection becomes status 0, not an exception."""
    try:
        return client.embed(texts)
    except (OSError, http.client.HTTPException) as exc:
        client.close()
        return Reply(0, {"error": str(exc)}, float("nan"), {})


class Front(Protocol):
    """A served variant, as the measurements see it."""

    @property
    def url(self) -> str:
        """Where requests go (the same for the whole run)."""

    def retire(self) -> None:
        """End every instance, so the next request needs a fresh one."""

    def ensure_instance(self) -> None:
        """Have an instance to answer (Lambda: none needed, a request starts one)."""

    def cold_request(self, client: FunctionUrlClient, texts: Sequence[str]) -> tuple[Reply, Answer]:
        """Start a fresh instance to answer ``texts``.

        The reply's latency runs from the instance's start (Lambda: the request,
        which starts the sandbox; Cloud Functions: the process launch) to the
        response read.
        """

    def answer_for(self, reply: Reply) -> Answer | None:
        """What the platform recorded for ``reply``; None when it cannot tell."""

    def fill(self, clients: Sequence[FunctionUrlClient], warm_up: Callable[[], None]) -> None:
        """Have one warm instance ready per client, so throughput timing has no cold start.

        ``warm_up`` sends one request from every client at once.
        """

    def max_memory_mb(self) -> int | None:
        """The highest peak memory any instance reported over the run; None if unknown."""


class LambdaFront:
    """The Lambda emulator's function URL: sandboxes start on request."""

    def __init__(self, server: LocalFunctionUrl) -> None:
        self.server = server

    @property
    def url(self) -> str:
        """The function URL."""
        return self.server.url

    def retire(self) -> None:
        """Reap every idle sandbox."""
        self.server.emulator.reap_idle(0)

    def ensure_instance(self) -> None:
        """Nothing to do: a request with no idle sandbox starts one."""

    def cold_request(self, client: FunctionUrlClient, texts: Sequence[str]) -> tuple[Reply, Answer]:
        """With no idle sandbox left, the request itself starts one."""
        self.retire()
        reply = send(client, texts)
        return reply, self.answer_for(reply) or Answer(cold=False)

    def answer_for(self, reply: Reply) -> Answer | None:
        """The REPORT record of the invocation that produced ``reply`` (by request id)."""
        request_id = next(
            (v for k, v in reply.headers.items() if k.lower() == "x-amzn-requestid"), ""
        )
        for record in reversed(self.server.records):
            if record.request_id == request_id:
                return Answer(record.cold, record.init_ms, record.duration_ms, record.max_memory_mb)
        return None

    def fill(self, clients: Sequence[FunctionUrlClient], warm_up: Callable[[], None]) -> None:
        """Concurrent requests until the pool holds one idle sandbox per client."""
        for _ in range(5):
            if self.server.emulator.sandbox_counts()[0] >= len(clients):
                return
            warm_up()

    def max_memory_mb(self) -> int | None:
        """The highest REPORT Max Memory Used."""
        peaks = [r.max_memory_mb for r in self.server.records if r.max_memory_mb is not None]
        return max(peaks, default=None)


class _LaunchOnly(GcfServer):
    """A GcfServer that returns as soon as its process is launched.

    Its own readiness wait polls ``GET /health``; the bench's cold start is the
    first ``/embed`` answer instead, so the bench's request is the only probe.
    """

    launched_at = 0.0

    def _wait_ready(self, began: float) -> None:
        self.launched_at = began

    def exit_code(self) -> int | None:
        """The process's exit code; None while it runs."""
        process = self._process
        return -1 if process is None else process.poll()


class GcfFront:
    """functions-framework over the unpacked artifact: one process at a time, on one port.

    The artifact is unpacked once (as the Lambda emulator unpacks its task
    root once); every cold start launches a fresh interpreter over it.
    """

    def __init__(
        self,
        artifact: Path,
        runtime: GcfRuntime,
        *,
        work_dir: Path,
        env: dict[str, str],
        init_timeout_s: float,
        on_log: Callable[[str], None],
    ) -> None:
        self._runtime = runtime
        self._env = env
        self._init_timeout_s = init_timeout_s
        self._on_log = on_log
        work_dir.mkdir(parents=True, exist_ok=True)
        self._unpacked = Path(tempfile.mkdtemp(prefix="coldbrew-bench-gcf-", dir=work_dir))
        self._root = unpack_artifact(artifact, self._unpacked / "workspace")
        self._server: _LaunchOnly | None = None
        self._host = "127.0.0.1"
        self._port = _free_port(self._host)  # fixed, so the client's URL holds across restarts

    @property
    def url(self) -> str:
        """The server's base URL (the port is kept across restarts)."""
        return f"http://{self._host}:{self._port}"

    def ensure_instance(self) -> None:
        """Launch a process unless one runs, and wait until it answers."""
        if self._server is None:
            self._launch()
            self._wait_port()

    def retire(self) -> None:
        """Stop the running process, if any."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def close(self) -> None:
        """Stop the process and remove the unpacked artifact."""
        try:
            self.retire()
        finally:
            remove_task_root(self._unpacked)

    def cold_request(self, client: FunctionUrlClient, texts: Sequence[str]) -> tuple[Reply, Answer]:
        """Launch a fresh process and send the request at once, retrying while refused."""
        self.retire()
        client.close()  # the old process's connection is gone
        began = self._launch()
        deadline = began + self._init_timeout_s
        while True:
            try:
                reply = client.embed(texts)
                break
            except ConnectionRefusedError as exc:
                failed = self._failed(deadline)
                if failed:
                    client.close()
                    return Reply(0, {"error": f"{failed} ({exc})"}, float("nan"), {}), Answer(True)
                time.sleep(CONNECT_RETRY_S)
            except (OSError, http.client.HTTPException) as exc:
                client.close()
                return Reply(0, {"error": str(exc)}, float("nan"), {}), Answer(True)
        total_ms = (time.monotonic() - began) * 1000
        # The port opens only once the entry point (and its model) has loaded:
        # the framework creates the app before gunicorn binds.
        init_ms = total_ms - reply.latency_ms
        measured = Reply(reply.status, reply.body, total_ms, reply.headers)
        return measured, Answer(True, init_ms=init_ms, duration_ms=reply.latency_ms)

    def answer_for(self, reply: Reply) -> Answer | None:
        """Unknown: one process serves every warm request, and says nothing per request."""
        return None

    def fill(self, clients: Sequence[FunctionUrlClient], warm_up: Callable[[], None]) -> None:
        """One instance serves every client on its threads (per-instance concurrency)."""
        self.ensure_instance()

    def max_memory_mb(self) -> int | None:
        """Not measured for this platform."""
        return None

    def _launch(self) -> float:
        config = GcfServerConfig(
            artifact=self._root,
            python=self._runtime.python,
            framework_dir=self._runtime.framework_dir,
            host=self._host,
            port=self._port,
            env=self._env,
        )
        server = _LaunchOnly(config, on_log=self._on_log)
        server.start()
        self._server = server
        return server.launched_at

    def _failed(self, deadline: float) -> str:
        server = self._server
        code = -1 if server is None else server.exit_code()
        if code is not None:
            return f"functions-framework exited (code {code}) before answering"
        if time.monotonic() > deadline:
            return f"functions-framework did not answer within {self._init_timeout_s:g} s"
        return ""

    def _wait_port(self) -> None:
        deadline = time.monotonic() + self._init_timeout_s
        probe = FunctionUrlClient(self.url, timeout_s=self._init_timeout_s)
        try:
            while True:
                try:
                    probe.request("GET", "/health")
                    return
                except ConnectionRefusedError:
                    failed = self._failed(deadline)
                    if failed:
                        raise EmulationError(failed) from None
                    time.sleep(CONNECT_RETRY_S)
        finally:
            probe.close()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
