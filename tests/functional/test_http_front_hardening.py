"""The function URL front under hostile framing: strict parsing, bounded memory,
readable refusals, and one JSON error shape for every error it gives.

A fast fake stands in for the emulator (tests/url_front.py) except where the
emulator's own size accounting is the subject.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coldbrew.emulate import LocalFunctionUrl, RuntimeEnvironment, ensure_runtime
from coldbrew.emulate.function_url import FunctionUrlServer
from coldbrew.emulate.runtime_api import RuntimeApiServer, RuntimeEvent
from coldbrew.emulate.settings import EmulatorConfig
from coldbrew.errors import InterpreterNotFoundError
from url_front import FakeEmulator, Reply, exchange

TESTS = Path(__file__).resolve().parent.parent
CACHE_DIR = Path.home() / ".cache" / "coldbrew"
SEVEN_MB = 7 * 1024 * 1024


@dataclass
class Front:
    server: FunctionUrlServer
    fake: FakeEmulator

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.url.removeprefix("http://").rstrip("/").split(":")
        return host, int(port)

    def send(self, data: bytes, **kwargs: bool) -> Reply:
        reply = exchange(self.address, data, **kwargs)
        assert reply is not None, "the server closed without answering"
        return reply


@pytest.fixture
def front() -> Iterator[Front]:
    fake = FakeEmulator()
    server = FunctionUrlServer(fake)
    server.start()
    yield Front(server, fake)
    server.shutdown()


def _post(headers: str, body: bytes = b"") -> bytes:
    return b"POST /embed HTTP/1.1\r\nHost: x\r\n" + headers.encode() + b"\r\n" + body


# --- strict framing: refused, and never invoked -----------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (_post("Content-Length: 1_6\r\n", b"x" * 16), 400),
        (_post("Content-Length: +16\r\n", b"x" * 16), 400),
        (_post("Content-Length: -1\r\n", b"x" * 16), 400),
        (_post("Content-Length: 0x10\r\n", b"x" * 16), 400),
        (_post("Content-Length: \x0b16\r\n", b"x" * 16), 400),
        (_post("Content-Length: 16\r\nContent-Length: 5\r\n", b"x" * 16), 400),
        (_post("Transfer-Encoding: gzip\r\n", b"0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: chunked, gzip\r\n", b"0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"), 400),
        (_post("Content-Length: 16\r\n", b"short"), 400),  # the client closes early
        (_post("Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n"), 400),  # no last chunk
        (_post("Transfer-Encoding: chunked\r\n", b"-1\r\n" + b"x" * 1000), 400),
        (_post("Transfer-Encoding: chunked\r\n", b"+5\r\nhello\r\n0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: chunked\r\n", b"0x5\r\nhello\r\n0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: chunked\r\n", b" 5\r\nhello\r\n0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n"), 400),
        (_post("Transfer-Encoding: chunked\r\n", b"5" * 5000 + b"\r\n"), 400),
        (_post("X: y\r\nno colon\r\nContent-Length: 2\r\n", b"{}"), 400),
        (_post("Content-Length : 2\r\n", b"{}"), 400),
    ],
)
def test_malformed_framing_is_refused_and_never_invoked(
    front: Front, request_bytes: bytes, status: int
) -> None:
    reply = front.send(request_bytes)
    assert reply.status == status, reply
    error = reply.error()
    assert error["code"] == "bad_request"
    assert reply.headers["connection"] == "close"
    assert front.fake.events == []
    # The front still serves.
    ok = front.send(_post("Content-Length: 2\r\n", b"{}"))
    assert ok.status == 200
    assert len(front.fake.events) == 1


def test_valid_framings_reach_the_function(front: Front) -> None:
    for request in (
        _post("Content-Length: 13\r\n", b'{"inputs": 1}'),
        _post("Content-Length: 13\r\nContent-Length: 13\r\n", b'{"inputs": 1}'),
        _post("Transfer-Encoding: chunked\r\n", b'5\r\n{"inp\r\n8;x=y\r\nuts": 1}\r\n0\r\n\r\n'),
    ):
        assert front.send(request).status == 200
    assert [event["body"] for event in front.fake.events] == ['{"inputs": 1}'] * 3


def test_a_request_closed_unanswered_is_closed_without_a_reset(front: Front) -> None:
    # A blank request line is closed without an answer; closing with the rest
    # of the request unread used to reset the connection under the client.
    for _ in range(50):
        assert exchange(front.address, b"\r\nX" + b"v" * 70_000 + b"\r\n\r\n") is None


# --- one JSON error shape ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"GET / HTTP/1.1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"GET /\r\n", 400, "bad_request"),  # HTTP/0.9: no status line before
        (_post(f"Content-Length: {SEVEN_MB}\r\n"), 413, "payload_too_large"),
    ],
)
def test_every_error_is_the_one_json_shape(
    front: Front, request_bytes: bytes, status: int, code: str
) -> None:
    reply = front.send(request_bytes)
    assert (reply.status, reply.error()["code"]) == (status, code), reply


def test_throttling_and_function_errors_are_the_one_json_shape(front: Front) -> None:
    throttled = front.send(b"GET /throttle HTTP/1.1\r\nHost: x\r\n\r\n")
    assert throttled.status == 429
    assert throttled.error()["code"] == "too_many_requests"
    assert throttled.error()["type"] == "TooManyRequestsException"
    failed = front.send(b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
    assert failed.status == 502
    error = failed.error()
    assert (error["code"], error["type"], error["message"]) == (
        "function_error",
        "ValueError",
        "handler says no",
    )


def test_the_runtime_api_answers_its_own_errors_in_json() -> None:
    api = RuntimeApiServer(queue.Queue[RuntimeEvent]())
    api.start()
    try:
        address = ("127.0.0.1", api.port)
        for request, status in (
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\n\r\n", 400),
            (
                b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n-1\r\n" + b"x" * 1000,
                400,
            ),
        ):
            reply = exchange(address, request)
            assert reply is not None
            assert reply.status == status
            assert reply.headers["content-type"] == "application/json"
            assert set(json.loads(reply.body)) == {"errorType", "errorMessage"}
        assert api.events.empty()  # the malformed init error was not reported
    finally:
        api.close()


# --- a 413 that clients can read -----------------------------------------------------------


def test_urllib_reads_the_413_for_a_7_mb_post(front: Front) -> None:
    request = urllib.request.Request(
        front.server.url + "embed", data=b"x" * SEVEN_MB, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=60)
    assert caught.value.code == 413
    body = json.loads(caught.value.read())
    assert body["error"]["code"] == "payload_too_large"
    assert "6291456" in body["error"]["message"]


def test_http_client_reads_the_413_for_a_7_mb_post(front: Front) -> None:
    host, port = front.address
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("POST", "/embed", body=b"x" * SEVEN_MB)
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    finally:
        connection.close()
    assert front.fake.events == []


# --- memory stays bounded under a 300 MB upload ---------------------------------------------


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def _upload(address: tuple[str, int], head: bytes, piece: bytes, total: int) -> None:
    """Send ``head`` then ``piece`` repeatedly, up to ``total`` bytes or the server closing."""
    with socket.create_connection(address, timeout=60) as sock:
        try:
            sock.sendall(head)
            sent = 0
            while sent < total:
                sock.sendall(piece)
                sent += len(piece)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        except OSError:
            pass  # the server closed on us: it refused the upload


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_300_mb_chunked_upload_keeps_the_serve_process_small() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "url_front.py")], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout is not None
        host, port = (
            process.stdout.readline().strip().removeprefix("http://").rstrip("/").split(":")
        )
        address = (host, int(port))
        before = _peak_rss_mb(process.pid)
        total = 300 * 1024 * 1024
        chunk = b"x" * 65536
        head = b"POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        framings = [
            (head + b"-1\r\n", chunk),  # once read until the client closed
            (head, b"10000\r\n" + chunk + b"\r\n"),  # valid chunks, over the limit
            (head + b"+10000\r\n", chunk),
            (b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\n", chunk),
            (b"POST /embed HTTP/1.1\r\nHost: x\r\n\r\n", chunk),  # no framing: junk after it
        ]
        for first, piece in framings:
            _upload(address, first, piece, total)
        peak = _peak_rss_mb(process.pid)
        print(f"serve process peak RSS: {before:.0f} MB at start, {peak:.0f} MB after 5 uploads")
        assert peak < 200, f"peak RSS {peak:.0f} MB"
        reply = exchange(address, _post("Content-Length: 2\r\n", b"{}"))
        assert reply is not None and reply.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


# --- the event's size is its UTF-8 bytes, as Lambda counts -----------------------------------

ECHO_SIZE = """
def handler(event, context):
    return {"body_chars": len(event.get("body", ""))}
"""


@pytest.fixture(scope="module")
def runtime() -> RuntimeEnvironment:
    try:
        return ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


def test_64_inputs_of_emoji_are_counted_in_utf8_bytes(
    runtime: RuntimeEnvironment, tmp_path: Path
) -> None:
    artifact = tmp_path / "function.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", ECHO_SIZE)
    text = "\N{GRINNING FACE}" * 9_800  # 39,200 UTF-8 bytes; 117,600 as \\uXXXX escapes
    body = json.dumps({"inputs": [text] * 64}, ensure_ascii=False).encode()
    assert 2_400_000 < len(body) < 2_600_000
    config = EmulatorConfig(artifact=artifact, cache_dir=CACHE_DIR, timeout_s=30.0)
    with LocalFunctionUrl(config, runtime=runtime) as fn:
        request = urllib.request.Request(
            fn.url + "embed",
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"body_chars": len(body.decode())}
        assert len(fn.records) == 1
