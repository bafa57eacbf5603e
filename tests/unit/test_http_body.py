"""Strict request framing: Content-Length, chunked, and what is refused (RFC 9112)."""

from __future__ import annotations

import io
import socket
import threading
from email.message import Message
from http.client import parse_headers

import pytest

from coldbrew.emulate.http_body import (
    MAX_CHUNK_LINE,
    BodyTooLargeError,
    MalformedBodyError,
    UnsupportedTransferCodingError,
    linger,
    read_body,
)

CHUNKED = "Transfer-Encoding: chunked\r\n"


def _headers(raw: str) -> Message:
    return parse_headers(io.BytesIO(raw.encode("latin-1") + b"\r\n"))


def _read(headers: str, body: bytes, limit: int = 100) -> bytes:
    return read_body(io.BytesIO(body), _headers(headers), limit)


# --- what is accepted ------------------------------------------------------------


def test_content_length_body() -> None:
    assert _read("Content-Length: 6\r\n", b"hello!extra") == b"hello!"


def test_repeated_equal_content_lengths_are_one_length() -> None:
    assert _read("Content-Length: 3\r\nContent-Length: 3\r\n", b"abc") == b"abc"
    assert _read("Content-Length: 3, 3\r\n", b"abc") == b"abc"


def test_no_framing_is_an_empty_body() -> None:
    assert _read("Host: x\r\n", b"ignored") == b""


def test_chunked_with_extensions_and_trailers() -> None:
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    assert _read(CHUNKED, body) == b"hello world"


def test_transfer_coding_names_are_case_insensitive() -> None:
    assert _read("Transfer-Encoding: Chunked\r\n", b"2\r\nhi\r\n0\r\n\r\n") == b"hi"


def test_many_tiny_chunks_up_to_the_limit() -> None:
    body = b"1\r\nx\r\n" * 100 + b"0\r\n\r\n"
    assert _read(CHUNKED, body) == b"x" * 100


# --- Content-Length: ASCII digits, one value --------------------------------------


@pytest.mark.parametrize(
    "value", ["1_6", "+16", "-1", "0x10", "16.0", "1 6", "\x0b16", "\u0661\u0666", "", "16;"]
)
def test_content_length_must_be_ascii_digits(value: str) -> None:
    with pytest.raises(MalformedBodyError, match="Content-Length"):
        read_body(io.BytesIO(b"x" * 20), _message("Content-Length", value), 100)


def test_conflicting_content_lengths_are_refused() -> None:
    with pytest.raises(MalformedBodyError, match="conflicting"):
        _read("Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd")
    with pytest.raises(MalformedBodyError, match="conflicting"):
        _read("Content-Length: 3, 4\r\n", b"abcd")


def test_a_huge_declared_length_is_too_large_not_slow() -> None:
    with pytest.raises(BodyTooLargeError):
        _read("Content-Length: " + "9" * 5000 + "\r\n", b"")


def test_a_body_shorter_than_its_length_is_refused() -> None:
    with pytest.raises(MalformedBodyError, match="truncated"):
        _read("Content-Length: 10\r\n", b"short")


# --- Transfer-Encoding ---------------------------------------------------------------


@pytest.mark.parametrize(
    "coding", ["gzip", "chunked, gzip", "gzip, chunked", "xchunked", "identity"]
)
def test_codings_other_than_chunked_are_refused_as_bad_requests(coding: str) -> None:
    with pytest.raises(UnsupportedTransferCodingError) as caught:
        _read(f"Transfer-Encoding: {coding}\r\n", b"0\r\n\r\n")
    assert caught.value.status_code == 400


def test_two_transfer_encoding_headers_are_not_plain_chunked() -> None:
    with pytest.raises(UnsupportedTransferCodingError):
        _read("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n")


def test_transfer_encoding_with_content_length_is_refused() -> None:
    with pytest.raises(MalformedBodyError, match="both"):
        _read(CHUNKED + "Content-Length: 5\r\n", b"0\r\n\r\n")


# --- chunk framing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [b"-1", b"+5", b"0x10", b" 5", b"5 ", b"5 ;x", b"", b"g", b"5\x00", b"1_0", b"5;\x01"],
)
def test_chunk_size_lines_are_hex_digits_only(line: bytes) -> None:
    with pytest.raises(MalformedBodyError, match="chunk size line"):
        _read(CHUNKED, line + b"\r\nhello\r\n0\r\n\r\n")


def test_a_negative_chunk_size_never_reads_the_stream() -> None:
    # Before: int(b"-1", 16) == -1, so read(-1) read until the client closed.
    stream = io.BytesIO(b"-1\r\n" + b"x" * 10_000)
    with pytest.raises(MalformedBodyError):
        read_body(stream, _headers(CHUNKED), 100)
    assert stream.tell() <= MAX_CHUNK_LINE + 1


def test_an_overlong_chunk_size_line_is_refused() -> None:
    with pytest.raises(MalformedBodyError, match="over"):
        _read(CHUNKED, b"5;" + b"a" * MAX_CHUNK_LINE + b"\r\nhello\r\n0\r\n\r\n")


def test_chunk_size_lines_must_end_in_crlf() -> None:
    with pytest.raises(MalformedBodyError, match="CRLF"):
        _read(CHUNKED, b"5\nhello\r\n0\r\n\r\n")


@pytest.mark.parametrize("after", [b"XX", b"\n0", b"\r0", b""])
def test_chunk_data_must_end_in_exactly_crlf(after: bytes) -> None:
    with pytest.raises(MalformedBodyError):
        _read(CHUNKED, b"5\r\nhello" + after + b"0\r\n\r\n")


@pytest.mark.parametrize(
    "body",
    [b"", b"5\r\nhel", b"5\r\nhello\r\n", b"5\r\nhello\r\n0\r\n", b"5\r\nhello\r\n0\r\nX: y"],
)
def test_a_truncated_chunked_body_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedBodyError, match="truncated"):
        _read(CHUNKED, body)


def test_chunks_over_the_limit_are_refused_before_they_are_read() -> None:
    stream = io.BytesIO(b"a\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n")
    with pytest.raises(BodyTooLargeError):
        read_body(stream, _headers(CHUNKED), 9)
    assert stream.tell() == 3  # the size line only
    with pytest.raises(BodyTooLargeError):
        _read(CHUNKED, b"f" * 40 + b"\r\n")


def test_content_length_over_the_limit_is_refused_unread() -> None:
    stream = io.BytesIO(b"x" * 10)
    with pytest.raises(BodyTooLargeError):
        read_body(stream, _headers("Content-Length: 10\r\n"), 9)
    assert stream.tell() == 0


# --- header sections a proxy would read differently --------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Host: x\r\nno colon here\r\nContent-Length: 5\r\n",  # parser stops, CL ignored
        "Content-Length : 5\r\n",  # space before the colon
        "Host: x\r\nX-A: 1\r\n folded\r\n",  # obsolete line folding
    ],
)
def test_ambiguous_header_sections_are_refused(raw: str) -> None:
    with pytest.raises(MalformedBodyError, match="header"):
        _read(raw, b"hello")


# --- lingering close ---------------------------------------------------------------------


def test_linger_discards_what_the_client_sends_and_ends_our_side() -> None:
    server, client = socket.socketpair()
    with server, client:
        sent = 3 * 1024 * 1024

        def send_then_read() -> None:
            client.sendall(b"x" * sent)
            assert client.recv(1) == b""  # our side was shut down: end of file
            client.close()

        sender = threading.Thread(target=send_then_read)
        sender.start()
        discarded = linger(server, server.makefile("rb"))
        sender.join()
        assert discarded == sent


def _message(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message
