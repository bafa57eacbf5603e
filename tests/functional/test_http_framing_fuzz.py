"""Property-based fuzzing of the function URL front's HTTP framing and headers.

Random and mutated raw requests (request line, header names and values,
Content-Length / Transfer-Encoding combinations, chunk framing, truncation,
huge declared sizes) go over a socket to a real FunctionUrlServer on
127.0.0.1, with a fast fake behind it. Whatever is sent:

- the reply is a well-formed HTTP response or a clean close (no bytes);
- no 5xx: an unknown method, transfer coding or HTTP version is the
  client's doing, so it is a 4xx (405 or 400), never 501 or 505;
- every error is the one JSON shape;
- the server answers a valid request afterwards.

``COLDBREW_FUZZ_EXAMPLES`` (default 150) sets the number of examples; run a
few thousand with ``COLDBREW_FUZZ_EXAMPLES=5000 pytest tests/functional/test_http_framing_fuzz.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldbrew.emulate.function_url import FunctionUrlServer
from url_front import FakeEmulator, exchange

EXAMPLES = int(os.environ.get("COLDBREW_FUZZ_EXAMPLES", "150"))
#: 5xx the RFC asks for: "not implemented" and "HTTP version not supported".
VALID = b'POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{"inputs": 1}'

CRLF = b"\r\n"
_methods = st.one_of(
    st.sampled_from([b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS"]),
    st.sampled_from([b"BREW", b"get", b"", b"POST POST", b"CONNECT"]),
    st.binary(max_size=8),
)
_targets = st.one_of(
    st.sampled_from([b"/", b"/embed", b"/health", b"/embed?x=1&x=2", b"*", b"http://x/embed"]),
    st.binary(max_size=40).map(lambda raw: b"/" + raw.replace(b" ", b"%20")),
    st.just(b"/" + b"a" * 70_000),  # past the request-line limit: 414
)
_versions = st.one_of(
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.1.1"]),
    st.sampled_from([b"http/1.1", b"HTTP/1", b"HTTP/01.1", b"HTTP/1.10", b"HTTP/9.9", b""]),
    st.binary(max_size=10),
)
_lengths = st.one_of(
    st.integers(min_value=0, max_value=64).map(lambda n: str(n).encode()),
    st.sampled_from([b"-1", b"+16", b"1_6", b"0x10", b" 16", b"16 ", b"16, 16", b"16, 17", b""]),
    st.sampled_from([b"9" * 30, b"9" * 5000, b"18446744073709551616", b"7340032", b"00016"]),
    st.binary(max_size=8),
)
_codings = st.one_of(
    st.sampled_from([b"chunked", b"Chunked", b"CHUNKED", b" chunked", b"chunked "]),
    st.sampled_from([b"gzip", b"chunked, gzip", b"gzip, chunked", b"chunked, chunked"]),
    st.sampled_from([b"identity", b"xchunked", b"chunked\x00", b""]),
    st.binary(max_size=12),
)
_names = st.one_of(
    st.sampled_from([b"Host", b"Content-Type", b"Cookie", b"X-Forwarded-For", b"Expect"]),
    st.sampled_from([b"Content-Length ", b" Content-Length", b"Transfer-Encoding\t", b""]),
    st.binary(min_size=1, max_size=20),
)
_values = st.one_of(
    st.sampled_from([b"x", b"application/json", b"a=1; b=2", b"100-continue", b"text/plain"]),
    st.binary(max_size=40),
    st.just(b"v" * 70_000),  # past the header-line limit: 431
)
_headers = st.lists(
    st.one_of(
        st.tuples(st.just(b"Content-Length"), _lengths),
        st.tuples(st.just(b"Transfer-Encoding"), _codings),
        st.tuples(_names, _values),
    ),
    max_size=8,
)
_size_lines = st.one_of(
    st.sampled_from([b"-1", b"+5", b"0x5", b" 5", b"5 ", b"5;ext", b"5;a=b", b"g", b""]),
    st.sampled_from([b"f" * 40, b"5;" + b"e" * 5000, b"000005", b"FFFFFFFFFFFFFFFF"]),
    st.binary(max_size=10),
)


@st.composite
def _chunked_bodies(draw: st.DrawFn) -> bytes:
    body = b""
    for data in draw(st.lists(st.binary(max_size=40), max_size=4)):
        size = f"{len(data):x}".encode()
        if draw(st.booleans()):
            size = draw(_size_lines)
        ending = draw(st.sampled_from([CRLF, CRLF, b"\n", b"", b"XX"]))
        body += size + CRLF + data + ending
    if draw(st.booleans()):
        body += b"0" + CRLF + draw(st.sampled_from([b"", b"Trailer: x\r\n", b"bad trailer"])) + CRLF
    return body


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    """A request assembled from parts, each maybe mutated, maybe cut short."""
    line = draw(_methods) + b" " + draw(_targets) + b" " + draw(_versions)
    if draw(st.integers(0, 9)) == 0:
        line = draw(st.binary(max_size=30))  # not a request line at all
    head = line + CRLF
    for name, value in draw(_headers):
        separator = draw(st.sampled_from([b": ", b": ", b":", b" : ", b"", b":\r\n "]))
        head += name + separator + value + CRLF
    body = draw(st.one_of(_chunked_bodies(), st.binary(max_size=80)))
    request = head + CRLF + body
    if draw(st.booleans()):
        request = request[: draw(st.integers(0, len(request)))]
    return request


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[str, int]]:
    server = FunctionUrlServer(FakeEmulator())
    server.start()
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    yield host, int(port)
    server.shutdown()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # The bounded run in `make test` is the same every time; a long run explores.
    derandomize="COLDBREW_FUZZ_EXAMPLES" not in os.environ,
)
@given(request=raw_requests())
def test_any_request_gets_a_well_formed_answer_and_never_a_5xx(
    front: tuple[str, int], request: bytes
) -> None:
    is_head = request.startswith(b"HEAD ")
    reply = exchange(front, request, head=is_head)
    if reply is not None:
        assert reply.status < 500, reply
        if reply.status >= 400:
            if is_head and not reply.body:
                assert reply.headers.get("content-type") == "application/json", reply
            else:
                reply.error()
    after = exchange(front, VALID)
    assert after is not None and after.status == 200, after
