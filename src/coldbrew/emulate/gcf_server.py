"""A Cloud Functions artifact served locally by Google's real functions-framework.

The artifact (a zip, unpacked read-only with the same safety checks as a
Lambda zip, or a directory used in place) runs in a fresh process of the
target interpreter under functions-framework's own app and gunicorn server,
the server its CLI starts. The framework is installed outside the artifact
(a cached ``pip install --target`` by the target interpreter's pip), as the
Python buildpack provides it on Cloud Functions.

Figures, in the Lambda emulator's manner: ``INIT_REPORT`` with the cold start
(process start to the first successful ``GET /health``: interpreter, framework,
the entry point's model load), then one ``REPORT`` line per request with its
duration as gunicorn measured it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from coldbrew.emulate.artifact import directory_task_root, remove_task_root, unpack_artifact
from coldbrew.errors import EmulationError

#: functions-framework's command line, plus an access log of each request's duration
#: (gunicorn's ``%(D)s``, microseconds). argv: source, host, port.
_LAUNCHER = """
import sys
from functions_framework import create_app
from functions_framework._http import create_server

source, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app("handle", source, "http")
log_format = "REPORT %(m)s %(U)s %(s)s %(D)s"
create_server(app, False, accesslog="-", access_log_format=log_format).run(host, port)
"""

ENTRY_POINT = "main.py"
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class GcfRequestRecord:
    """One request the server answered, from its access log."""

    method: str
    path: str
    status: int
    duration_ms: float


@dataclass
class GcfServerConfig:
    """What to serve and how: the artifact, the target interpreter and the framework."""

    artifact: Path
    python: Path  # the target interpreter
    framework_dir: Path  # functions-framework, installed with --target for that interpreter
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free one
    env: Mapping[str, str] = field(default_factory=dict)


def format_report(line: str) -> tuple[str, GcfRequestRecord | None]:
    """An access-log line as shown (duration in ms) and its record; other lines as they are."""
    parts = line.split()
    if len(parts) == 5 and parts[0] == "REPORT" and parts[3].isdigit() and parts[4].isdigit():
        record = GcfRequestRecord(parts[1], parts[2], int(parts[3]), int(parts[4]) / 1000)
        shown = (
            f"REPORT {record.method} {record.path}\tStatus: {record.status}"
            f"\tDuration: {record.duration_ms:.2f} ms"
        )
        return shown, record
    return line, None


class GcfServer:
    """Start with :meth:`start`, then reach :attr:`url`; :meth:`stop` ends it and cleans up."""

    def __init__(
        self, config: GcfServerConfig, *, on_log: Callable[[str], None] | None = None
    ) -> None:
        self.config = config
        self.records: list[GcfRequestRecord] = []
        self.cold_start_ms: float | None = None
        self._on_log = on_log or (lambda line: print(line, file=sys.stderr))
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._unpacked: Path | None = None
        self._port = config.port

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.config.host}:{self._port}"

    def start(self) -> None:
        """Unpack, launch, and wait for the first successful ``GET /health``."""
        try:
            root = self._task_root()
            if not (root / ENTRY_POINT).is_file():
                raise EmulationError(
                    f"{self.config.artifact} has no {ENTRY_POINT} at its root: "
                    "build it with `coldbrew build --platform gcf`"
                )
            if self._port == 0:
                self._port = _free_port(self.config.host)
            began = time.monotonic()
            self._launch(root)
            self._wait_ready(began)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (its whole process group) and remove the unpacked artifact."""
        process, self._process = self._process, None
        try:
            if process is not None and process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()
            if self._reader is not None:
                self._reader.join(STOP_TIMEOUT_S)
        finally:
            if self._unpacked is not None:
                remove_task_root(self._unpacked)
                self._unpacked = None

    def _task_root(self) -> Path:
        artifact = self.config.artifact
        if artifact.is_dir():
            return directory_task_root(artifact)
        self._unpacked = Path(tempfile.mkdtemp(prefix="coldbrew-gcf-"))
        return unpack_artifact(artifact, self._unpacked / "workspace")

    def _launch(self, root: Path) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
            **self.config.env,
            # The framework outside the artifact; the framework adds the source's directory.
            "PYTHONPATH": str(self.config.framework_dir),
            "PYTHONUNBUFFERED": "1",
            "WORKERS": "1",
        }
        argv = [str(self.config.python), "-c", _LAUNCHER, str(root / ENTRY_POINT)]
        argv += [self.config.host, str(self._port)]
        try:
            self._process = subprocess.Popen(
                argv,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,  # its own group: gunicorn's worker stops with it
            )
        except OSError as exc:
            raise EmulationError(f"could not start {self.config.python}: {exc}") from None
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        for raw in process.stdout:
            shown, record = format_report(raw.rstrip("\n"))
            if record is not None:
                self.records.append(record)
            self._on_log(shown)

    def _wait_ready(self, began: float) -> None:
        deadline = began + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise EmulationError(
                    f"functions-framework exited (code {code}) before serving: "
                    "its output above names the cause"
                )
            if _health_ok(self.config.host, self._port):
                self.cold_start_ms = (time.monotonic() - began) * 1000
                self._on_log(
                    f"INIT_REPORT Cold start: {self.cold_start_ms:.2f} ms "
                    "(process start to the first successful GET /health)"
                )
                return
            time.sleep(0.02)
        raise EmulationError(
            f"functions-framework did not answer GET /health within {READY_TIMEOUT_S:g} s"
        )


def _health_ok(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _signal_group(process: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
