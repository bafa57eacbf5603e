"""The HTTP front: a local endpoint that behaves like a Lambda function URL.

Each request becomes a payload-format-2.0 event, runs through
:meth:`Emulator.invoke_payload`, and the result is mapped back to HTTP.
Failures answer in the one JSON error shape (:mod:`.url_errors`): 502 for a
handler error, a timeout, a crash or a failed init (naming Lambda's error
type), 429 when every sandbox is busy past the queue wait, 413 for a body or
event over 6 MB, 400 for framing that is malformed or not supported
(:mod:`.http_body`). Every response carries ``x-amzn-RequestId``.

:class:`LocalFunctionUrl` bundles an emulator and this server for tests and
the demo::

    with LocalFunctionUrl(config) as fn:
        urllib.request.urlopen(fn.url + "embed", data=b'...')
        fn.records  # one InvocationRecord per request
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol

from coldbrew.emulate.emulator import Emulator, InvocationResult, event_payload, new_trace_id
from coldbrew.emulate.function_url_events import HttpRequest, HttpResponse, build_event
from coldbrew.emulate.http_body import read_body
from coldbrew.emulate.http_handler import StrictRequestHandler
from coldbrew.emulate.report import InvocationRecord
from coldbrew.emulate.runtime_env import RuntimeEnvironment
from coldbrew.emulate.settings import MAX_PAYLOAD_BYTES, EmulatorConfig
from coldbrew.emulate.url_errors import error_response, response_for, response_for_error
from coldbrew.errors import EmulationError, PayloadTooLargeError, RequestError

__all__ = ["FunctionUrlServer", "LocalFunctionUrl", "response_for", "url_id"]


def url_id(function_name: str) -> str:
    """A stable 32-character id standing in for the function URL's id."""
    return hashlib.sha256(function_name.encode()).hexdigest()[:32]


class Invoker(Protocol):
    """What the front needs of an :class:`Emulator`; tests put a fast fake behind it."""

    @property
    def config(self) -> EmulatorConfig:
        """The function's settings (its name and region go into events)."""
        ...

    def invoke_payload(
        self, payload: bytes, *, request_id: str | None = None, trace_id: str | None = None
    ) -> InvocationResult:
        """Invoke with raw JSON bytes, as :meth:`Emulator.invoke_payload`."""
        ...


class FunctionUrlServer:
    """A threading HTTP server in front of ``emulator``; one thread per connection."""

    def __init__(
        self,
        emulator: Invoker,
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
    emulator: Invoker
    api_id: str
    now: Callable[[], datetime]
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (or idling out) mid-connection is not an error.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


# BaseHTTPRequestHandler is named again so linters see do_GET & co. as its overrides.
class _Handler(StrictRequestHandler, BaseHTTPRequestHandler):
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
        except RequestError as exc:
            self.close_connection = True  # the rest of the body is unread
            self.linger_on_close = True
            self._send(response_for_error(exc, request_id), request_id)
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
                event_payload(event), request_id=request_id, trace_id=trace_id
            )
        except PayloadTooLargeError as exc:
            # Base64 grows a binary body by a third; the limit is on the event.
            response = error_response(413, exc.message, request_id)
        except EmulationError as exc:
            response = error_response(502, exc.message, request_id, error_type="EmulationError")
        else:
            response = response_for(result)
        self._send(response, request_id)

    def error_reply(self, status: int, message: str) -> None:
        request_id = str(uuid.uuid4())
        self._send(error_response(status, message, request_id), request_id)

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
