"""A fast stand-in for the emulator behind a real FunctionUrlServer, and a raw HTTP client.

It answers at once, without a sandbox, so tests of the HTTP front (framing,
limits, error shapes, fuzzing) run in milliseconds per request. Paths choose
the outcome: ``/throttle`` is throttled, ``/fail`` is a handler error, and
anything else succeeds with the size of the event it received.

Run as a script it serves on 127.0.0.1 and prints its URL, so a test can
measure the serve process's memory from outside::

    python tests/url_front.py

:func:`exchange` sends raw bytes (any framing, valid or not) and parses the
reply strictly with :class:`http.client.HTTPResponse`.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from coldbrew.emulate.emulator import InvocationResult
from coldbrew.emulate.function_url import FunctionUrlServer
from coldbrew.emulate.report import Status
from coldbrew.emulate.settings import MAX_PAYLOAD_BYTES, EmulatorConfig
from coldbrew.errors import PayloadTooLargeError


class FakeEmulator:
    """Records every event it is given; never starts a process."""

    def __init__(self) -> None:
        self.config = EmulatorConfig(artifact=Path("unused.zip"), cache_dir=Path("unused"))
        self.events: list[dict[str, object]] = []
        self._lock = threading.Lock()

    def invoke_payload(
        self, payload: bytes, *, request_id: str | None = None, trace_id: str | None = None
    ) -> InvocationResult:
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError(f"request must be smaller than {MAX_PAYLOAD_BYTES} bytes")
        event = json.loads(payload)
        with self._lock:
            self.events.append(event)
        request_id = request_id or "fake"
        path = event.get("rawPath")
        if path == "/throttle":
            return InvocationResult(
                request_id,
                Status.THROTTLED,
                b"",
                None,
                "TooManyRequestsException",
                "Rate Exceeded.",
            )
        if path == "/fail":
            error = {"errorType": "ValueError", "errorMessage": "handler says no"}
            return InvocationResult(
                request_id,
                Status.FUNCTION_ERROR,
                json.dumps(error).encode(),
                None,
                "ValueError",
                "handler says no",
            )
        body = json.dumps({"event_bytes": len(payload), "path": path})
        return InvocationResult(request_id, Status.SUCCESS, body.encode(), None)


@dataclass(frozen=True)
class Reply:
    """A parsed HTTP response."""

    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def error(self) -> dict[str, str]:
        """The ``error`` object of the one JSON error shape; asserts the shape."""
        assert self.headers.get("content-type") == "application/json", self
        document = json.loads(self.body)
        assert set(document) == {"error"}, document
        error = document["error"]
        assert (
            {"code", "message", "request_id"}
            <= set(error)
            <= {
                "code",
                "message",
                "request_id",
                "type",
            }
        ), error
        assert all(isinstance(value, str) and value for value in error.values()), error
        assert error["request_id"] == self.headers.get("x-amzn-requestid"), (error, self)
        return dict(error)


def exchange(
    address: tuple[str, int],
    data: bytes,
    *,
    end_input: bool = True,
    head: bool = False,
    timeout: float = 30.0,
) -> Reply | None:
    """Send ``data`` raw, then read one response; None if the server closed without one.

    ``end_input`` shuts our sending side after ``data``, as a client that has
    nothing more to say (so a truncated body really is truncated). ``head``:
    the request was a HEAD, so a successful reply has no body to read.
    """
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if end_input:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early; its answer may still be there to read
        response = http.client.HTTPResponse(sock, method="HEAD" if head else None)
        try:
            response.begin()
        except http.client.RemoteDisconnected:
            return None
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, headers, response.read())


def main() -> None:
    """Serve on 127.0.0.1 (a free port), print the URL, serve until killed."""
    server = FunctionUrlServer(FakeEmulator())
    print(server.url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
