"""The HTTP front: a local endpoint that behaves like a Lambda function URL.

Each request becomes a payload-format-2.0 event, runs through
:meth:`Emulator.invoke_payload`, and the result is mapped back to HTTP.
Failures answer in JSON: 502 for a handler error, a timeout, a crash or a
failed init (naming the error type and request id), 429 when every sandbox is
busy past the queue wait, 413 for a body or event over 6 MB. Every response
carries ``x-amzn-RequestId``.

:class:`LocalFunctionUrl` bundles an emulator and this server for tests and
the demo::

    with LocalFunctionUrl(config) as fn:
        urllib.request.urlopen(fn.url + "embed", data=b'...')
        fn.records  # one InvocationRecord per request
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from coldbrew.emulate.emulator import Emulator, InvocationResult, new_trace_id
from coldbrew.emulate.function_url_events import (
    HttpRequest,
    HttpResponse,
    MalformedResponseError,
    build_event,
    map_result,
)
from coldbrew.emulate.http_body import BodyTooLargeError, MalformedBodyError, read_body
from coldbrew.emulate.report import InvocationRecord, Status
from coldbrew.emulate.runtime_env import RuntimeEnvironment
from coldbrew.emulate.settings import MAX_PAYLOAD_BYTES, EmulatorConfig
from coldbrew.errors import EmulationError, PayloadTooLargeError

_TOO_LARGE = (
    f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
)


def response_for(result: InvocationResult) -> HttpResponse:
    """The HTTP response a function URL gives for an invocation's result."""
    if result.status is Status.SUCCESS:
        try:
            return map_result(result.payload)
        except MalformedResponseError as exc:
            return error_response(
                HTTPStatus.BAD_GATEWAY, "Function.MalformedResponse", str(exc), result.request_id
            )
    if result.status is Status.THROTTLED:
        return error_response(
            HTTPStatus.TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Rate Exceeded.",
            result.request_id,
        )
    return error_response(
        HTTPStatus.BAD_GATEWAY,
        result.error_type or "Runtime.Unknown",
        result.error_message or "the function failed",
        result.request_id,
    )


def error_response(status: int, error_type: str, message: str, request_id: str) -> HttpResponse:
    """A JSON error response naming the error type and request id."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = {
        "message": "Rate Exceeded." if status == 429 else reason,
        "errorType": error_type,
        "errorMessage": message,
        "requestId": request_id,
    }
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def url_id(function_name: str) -> str:
    """A stable 32-character id standing in for the function URL's id."""
    return hashlib.sha256(function_name.encode()).hexdigest()[:32]


class FunctionUrlServer:
    """A threading HTTP server in front of ``emulator``; one thread per connection."""

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        try:
            self._httpd = _Server((host, port), _Handler)
        except OSError as exc:
            raise EmulationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self._host = host
        self._httpd.emulator = emulator
        self._httpd.api_id = url_id(emulator.config.function_name)
        self._httpd.now = now
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, ending in "/"."""
        return f"http://{self._host}:{self._httpd.server_address[1]}/"

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`shutdown` (or KeyboardInterrupt)."""
        self._httpd.serve_forever(poll_interval=0.1)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="function-url", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()


class LocalFunctionUrl:
    """An :class:`Emulator` plus its :class:`FunctionUrlServer`, started and stopped together.

    ``port=0`` picks a free port; read :attr:`url`. Arguments other than
    ``host`` and ``port`` are passed to :class:`Emulator`.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_log: Callable[[str], None] | None = None,
        on_report: Callable[[InvocationRecord], None] | None = None,
        runtime: RuntimeEnvironment | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.emulator = Emulator(
            config, on_log=on_log, on_report=on_report, runtime=runtime, clock=clock
        )
        self._host = host
        self._port = port
        self._server: FunctionUrlServer | None = None

    @property
    def url(self) -> str:
        """The base URL, ending in "/"; only while started."""
        if self._server is None:
            raise EmulationError("the function URL is not running")
        return self._server.url

    @property
    def records(self) -> list[InvocationRecord]:
        """One record per invocation so far, oldest first."""
        return self.emulator.records

    def start(self) -> None:
        """Start the emulator, then listen."""
        self.emulator.start()
        try:
            self._server = FunctionUrlServer(self.emulator, self._host, self._port)
        except BaseException:
            self.emulator.stop()
            raise
        self._server.start()

    def stop(self) -> None:
        """Stop listening, kill every sandbox, remove the unpacked artifact."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.emulator.stop()

    def __enter__(self) -> LocalFunctionUrl:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    emulator: Emulator
    api_id: str
    now: Callable[[], datetime]
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (or idling out) mid-connection is not an error.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real function URL allows
    disable_nagle_algorithm = True  # small responses would otherwise wait ~40 ms
    server_version = "coldbrew-function-url"
    timeout = 120  # idle keep-alive connections do not pin a thread forever

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the REPORT lines are the access log

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        request_id = str(uuid.uuid4())
        try:
            body = read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES)
        except BodyTooLargeError:
            self.close_connection = True  # the body was left unread
            self._send(
                error_response(413, "RequestEntityTooLargeException", _TOO_LARGE, request_id),
                request_id,
            )
            return
        except MalformedBodyError as exc:
            self.close_connection = True
            self._send(
                error_response(400, "InvalidRequestException", str(exc), request_id), request_id
            )
            return
        raw_path, _, raw_query = self.path.partition("?")
        request = HttpRequest(
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=str(self.client_address[0]),
            protocol=self.request_version,
            server_port=int(server.server_address[1]),
        )
        trace_id = new_trace_id()
        event = build_event(
            request,
            request_id=request_id,
            api_id=server.api_id,
            now=server.now(),
            region=server.emulator.config.region,
            trace_id=trace_id,
        )
        try:
            result = server.emulator.invoke_payload(
                json.dumps(event).encode(), request_id=request_id, trace_id=trace_id
            )
        except PayloadTooLargeError:
            # Base64 grows a binary body by a third; the limit is on the event.
            response = error_response(413, "RequestEntityTooLargeException", _TOO_LARGE, request_id)
        except EmulationError as exc:
            response = error_response(502, "EmulationError", exc.message, request_id)
        else:
            response = response_for(result)
        self._send(response, request_id)

    def _send(self, response: HttpResponse, request_id: str) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except OSError:
            self.close_connection = True  # the client went away
