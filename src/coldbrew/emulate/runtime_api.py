"""A local Lambda Runtime API (version 2018-06-01), one server per sandbox.

The runtime client in the sandbox long-polls ``GET .../invocation/next``; the
emulator hands it one :class:`Invocation` at a time with :meth:`submit`.
Everything the runtime reports (asking for work, a response, an error, an
init error) becomes a :class:`RuntimeEvent` on a queue the sandbox reads, so
the sandbox can wait for "the answer, the process dying or the deadline" in
one place.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from coldbrew.emulate.http_body import BodyTooLargeError, read_body
from coldbrew.emulate.http_handler import StrictRequestHandler, status_phrase
from coldbrew.emulate.settings import MAX_PAYLOAD_BYTES
from coldbrew.errors import RequestError

API_VERSION = "2018-06-01"
_PREFIX = f"/{API_VERSION}/runtime"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


@dataclass(frozen=True)
class Invocation:
    """One event for the runtime, with the headers Lambda sends alongside it."""

    request_id: str
    payload: bytes
    deadline_ms: int  # wall-clock epoch milliseconds
    function_arn: str
    trace_id: str


class EventKind(Enum):
    """What a sandbox reported."""

    NEXT = "next"  # the runtime asked for work: init is over
    RESPONSE = "response"
    ERROR = "error"  # the handler raised
    INIT_ERROR = "init_error"
    EXITED = "exited"  # posted by the sandbox's process watcher, not by HTTP


@dataclass(frozen=True)
class RuntimeEvent:
    """A report from a sandbox; ``at`` is a ``time.perf_counter()`` stamp."""

    kind: EventKind
    request_id: str | None = None
    body: bytes = b""
    error_type: str | None = None
    exit_code: int | None = None
    at: float = field(default_factory=time.perf_counter)


class RuntimeApiServer:
    """The Runtime API endpoint for one sandbox, on 127.0.0.1 and a free port."""

    def __init__(self, events: queue.Queue[RuntimeEvent], host: str = "127.0.0.1") -> None:
        self.events = events
        self._host = host
        self._cond = threading.Condition()
        self._pending: Invocation | None = None
        self._in_flight: str | None = None
        self._delivered_at: float | None = None
        self._closing = False
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # bounds how long close() waits
            name=f"runtime-api-{self.port}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def address(self) -> str:
        """The value for AWS_LAMBDA_RUNTIME_API."""
        return f"{self._host}:{self.port}"

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release any request still waiting for work."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def submit(self, invocation: Invocation) -> None:
        """Hand ``invocation`` to the runtime's current or next ``/next`` request."""
        with self._cond:
            self._pending = invocation
            self._delivered_at = None
            self._cond.notify_all()

    @property
    def delivered_at(self) -> float | None:
        """When the last submitted invocation reached the runtime (perf_counter)."""
        with self._cond:
            return self._delivered_at

    # --- called from request handler threads ----------------------------------

    def _take_next(self) -> Invocation | None:
        with self._cond:
            while self._pending is None and not self._closing:
                self._cond.wait()
            if self._closing:
                return None
            invocation, self._pending = self._pending, None
            assert invocation is not None
            self._in_flight = invocation.request_id
            self._delivered_at = time.perf_counter()
            return invocation

    def _finish(self, request_id: str) -> bool:
        with self._cond:
            if self._in_flight != request_id:
                return False
            self._in_flight = None
            return True


class _Server(ThreadingHTTPServer):
    api: RuntimeApiServer
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed sandbox resets its connections; that is expected, not news.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


# BaseHTTPRequestHandler is named again so linters see do_GET & co. as its overrides.
class _Handler(StrictRequestHandler, BaseHTTPRequestHandler):
    # Without this each small response waits on Nagle + delayed ACK: ~40 ms a call.
    disable_nagle_algorithm = True
    server_version = "coldbrew-runtime-api"
    methods = ("GET", "POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the sandbox's own output is the log; request lines are noise

    @property
    def api(self) -> RuntimeApiServer:
        assert isinstance(self.server, _Server)
        return self.server.api

    def do_GET(self) -> None:
        if self.path == f"{_PREFIX}/restore/next":
            # SnapStart (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start): the runtime
            # ran its before-snapshot hooks and waits to be restored. Nothing is
            # snapshotted here: the same process carries on, as if restored.
            self._reply(HTTPStatus.OK, b"", {"Content-Type": "application/json"})
            return
        if self.path != f"{_PREFIX}/invocation/next":
            self._reply_json(HTTPStatus.NOT_FOUND, "UnknownPath", f"no route {self.path}")
            return
        self.api.events.put(RuntimeEvent(EventKind.NEXT))
        invocation = self.api._take_next()
        if invocation is None:
            self.close_connection = True
            self._reply_json(HTTPStatus.GONE, "Shutdown", "the sandbox is shutting down")
            return
        self._reply(
            HTTPStatus.OK,
            invocation.payload,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id,
            },
        )

    def do_POST(self) -> None:
        path = self.path
        try:
            body = read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES)
        except BodyTooLargeError:
            self.close_connection = True  # the unread body makes the connection unusable
            self.linger_on_close = True
            request_id = _request_id(path)
            if request_id is not None and self.api._finish(request_id):
                self.api.events.put(_oversized_response(request_id))
            self._reply_json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "RequestEntityTooLarge",
                f"payload over {MAX_PAYLOAD_BYTES} bytes",
            )
            return
        except RequestError as exc:  # malformed or unsupported framing
            self.close_connection = True
            self.linger_on_close = True
            self._reply_json(HTTPStatus(exc.status_code), "InvalidRequest", exc.message)
            return
        error_type = self.headers.get(_ERROR_TYPE_HEADER)
        # An after-restore hook failing is, for the caller, a failed init.
        if path in (f"{_PREFIX}/init/error", f"{_PREFIX}/restore/error"):
            self.api.events.put(RuntimeEvent(EventKind.INIT_ERROR, None, body, error_type))
            self._reply_json(HTTPStatus.ACCEPTED, None, "OK")
            return
        request_id = _request_id(path)
        if request_id is None:
            self._reply_json(HTTPStatus.NOT_FOUND, "UnknownPath", f"no route {path}")
            return
        if not self.api._finish(request_id):
            self._reply_json(
                HTTPStatus.BAD_REQUEST, "InvalidRequestID", f"no invocation {request_id} in flight"
            )
            return
        kind = EventKind.RESPONSE if path.endswith("/response") else EventKind.ERROR
        self.api.events.put(RuntimeEvent(kind, request_id, body, error_type))
        self._reply_json(HTTPStatus.ACCEPTED, None, "OK")

    def error_reply(self, status: int, message: str) -> None:
        # The Runtime API's own error shape; awslambdaric only quotes the body.
        error_type = status_phrase(status).replace(" ", "").replace("-", "")
        self._reply_json(HTTPStatus(status), error_type, message)

    def _reply_json(self, status: HTTPStatus, error_type: str | None, message: str) -> None:
        if error_type is None:
            payload = {"status": message}
        else:
            payload = {"errorType": error_type, "errorMessage": message}
        self._reply(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _reply(self, status: HTTPStatus, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the sandbox died mid-reply; nothing to tell it


def _request_id(path: str) -> str | None:
    prefix = f"{_PREFIX}/invocation/"
    if not path.startswith(prefix):
        return None
    request_id, _, action = path[len(prefix) :].partition("/")
    if not request_id or action not in ("response", "error"):
        return None
    return request_id


def _oversized_response(request_id: str) -> RuntimeEvent:
    message = (
        f"Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
    )
    body = json.dumps({"errorType": "Function.ResponseSizeTooLarge", "errorMessage": message})
    return RuntimeEvent(EventKind.ERROR, request_id, body.encode(), "Function.ResponseSizeTooLarge")
