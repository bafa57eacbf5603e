"""Reading an HTTP/1.1 request body strictly, with a size limit.

Both the function URL front and the Runtime API need it. Framing is parsed
strictly (RFC 9112): a lenient parser disagrees with proxies about where a
body ends (request smuggling), and a lenient chunk-size parser can be talked
into reading without limit. So:

- header names must be tokens and values may not be folded;
- ``Content-Length`` is ASCII digits, one value however often repeated;
- ``Transfer-Encoding`` must be exactly ``chunked`` (anything else is 400),
  and never alongside ``Content-Length``;
- a chunk-size line is hex digits and an optional ``;extension``, at most
  :data:`MAX_CHUNK_LINE` bytes, ending in CRLF; chunk data ends in exactly CRLF;
- a body shorter than its framing announced (the client closed early) is
  refused, never processed.

At most ``limit`` body bytes are ever held: a body over the limit is refused
before its excess is read. :func:`linger` then discards, without keeping,
whatever the client is still sending, so that it can read the refusal.
"""

from __future__ import annotations

import re
import socket
import time
from email.message import Message
from io import BufferedIOBase

from coldbrew.errors import InvalidRequestError, PayloadTooLargeError
from coldbrew.runtime.contract import body_too_large

#: The longest chunk-size line (size, extensions and CRLF) accepted.
MAX_CHUNK_LINE = 4096
#: The most trailer bytes accepted after the last chunk.
MAX_TRAILER_BYTES = 65536
#: Chunk-size lines may add at most this many times the limit in framing bytes.
MAX_FRAMING_FACTOR = 8
#: A lingering close discards at most this much, for at most this long...
LINGER_MAX_BYTES = 64 * 1024 * 1024
LINGER_MAX_SECONDS = 10.0
#: ... and stops once the client has sent nothing for this long.
LINGER_IDLE_SECONDS = 2.0

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DIGITS = re.compile(r"[0-9]+")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)(;[\t\x20-\x7e]*)?\r\n")
_DRAIN_READ = 65536


class BodyTooLargeError(PayloadTooLargeError):
    """The body is larger than the limit; no more of it than the limit was read."""

    def __init__(self, limit: int) -> None:
        # The contract's own words, so the local function URL and Cloud Functions agree.
        super().__init__(body_too_large(limit).message)
        self.limit = limit


class MalformedBodyError(InvalidRequestError):
    """Headers or body framing that cannot be parsed unambiguously, or a truncated body."""


class UnsupportedTransferCodingError(InvalidRequestError):
    """A transfer coding other than ``chunked``.

    RFC 9112 suggests 501 (a SHOULD); this is 400, because the client chose
    the coding and a 5xx would tell it the server failed and to retry.
    """


def check_headers(headers: Message) -> None:
    """Refuse header sections a proxy could read differently from us.

    The standard library's parser stops at the first line without a colon and
    keeps the rest as a "payload", so a ``Content-Length`` after such a line
    would be silently ignored; a name with a space before the colon is a
    different header to us than to a proxy; folded values are obsolete.
    """
    if headers.defects or headers.get_payload():
        raise MalformedBodyError(
            "malformed header section: every header line must be 'name: value'"
        )
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise MalformedBodyError(f"malformed header name {name[:64]!r}")
        if "\r" in value or "\n" in value:
            raise MalformedBodyError(f"header {name} is folded over lines (obsolete, refused)")


def read_body(rfile: BufferedIOBase, headers: Message, limit: int) -> bytes:
    """Read the whole body of the request whose ``headers`` were just parsed.

    Raises :class:`BodyTooLargeError`, :class:`MalformedBodyError` or
    :class:`UnsupportedTransferCodingError`; after any of them the connection
    must be closed, as the rest of the body is unread.
    """
    check_headers(headers)
    codings = headers.get_all("Transfer-Encoding")
    lengths = headers.get_all("Content-Length")
    if codings is not None:
        if lengths is not None:
            raise MalformedBodyError("both Transfer-Encoding and Content-Length: refused")
        coding = ", ".join(codings).strip(" \t")
        if coding.lower() != "chunked":
            raise UnsupportedTransferCodingError(
                f"unsupported Transfer-Encoding {coding[:64]!r}: only 'chunked' is implemented"
            )
        return _read_chunked(rfile, limit)
    if lengths is None:
        return b""
    length = _content_length(lengths, limit)
    body = rfile.read(length)
    if len(body) < length:
        raise MalformedBodyError(
            f"truncated body: Content-Length {length}, the client sent {len(body)} bytes"
        )
    return body


def _content_length(values: list[str], limit: int) -> int:
    parsed: set[int] = set()
    for value in values:
        for item in value.split(","):
            digits = item.strip(" \t")
            if not _DIGITS.fullmatch(digits):
                raise MalformedBodyError(f"bad Content-Length {value[:64]!r}: digits only")
            # Past 18 digits it is over any limit; int() of thousands of them is slow.
            parsed.add(int(digits) if len(digits.lstrip("0")) <= 18 else limit + 1)
    if len(parsed) != 1:
        raise MalformedBodyError("conflicting Content-Length values")
    length = parsed.pop()
    if length > limit:
        raise BodyTooLargeError(limit)
    return length


def _read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    # One growing buffer: a list of a million one-byte chunks would cost far
    # more memory than the bytes themselves.
    body = bytearray()
    framing_budget = MAX_FRAMING_FACTOR * limit  # bounds the work tiny chunks cost
    while True:
        line = _read_line(rfile, MAX_CHUNK_LINE, "chunk size line")
        match = _CHUNK_LINE.fullmatch(line)
        if match is None:
            raise MalformedBodyError(f"bad chunk size line {line[:64]!r}: hex digits only")
        framing_budget -= len(line) + 2
        if framing_budget < 0:
            raise BodyTooLargeError(limit)
        digits = match.group(1).lstrip(b"0")
        if len(digits) > 15:  # past any limit, and int() of it is pointless
            raise BodyTooLargeError(limit)
        size = int(digits or b"0", 16)
        if size == 0:
            _skip_trailers(rfile)
            return bytes(body)
        if len(body) + size > limit:
            raise BodyTooLargeError(limit)
        data = rfile.read(size)
        if len(data) < size:
            raise MalformedBodyError("truncated chunked body: the client closed mid-chunk")
        body += data
        if rfile.read(2) != b"\r\n":
            raise MalformedBodyError("chunk data must be followed by CRLF")


def _read_line(rfile: BufferedIOBase, limit: int, what: str) -> bytes:
    line = rfile.readline(limit + 1)
    if not line.endswith(b"\n"):
        if len(line) > limit:
            raise MalformedBodyError(f"{what} over {limit} bytes")
        raise MalformedBodyError(f"truncated chunked body: the client closed in a {what}")
    if not line.endswith(b"\r\n"):
        raise MalformedBodyError(f"{what} must end in CRLF")
    return line


def _skip_trailers(rfile: BufferedIOBase) -> None:
    budget = MAX_TRAILER_BYTES
    while True:
        line = _read_line(rfile, budget, "trailer section")
        if line == b"\r\n":
            return
        budget -= len(line)
        if budget <= 0:
            raise MalformedBodyError(f"trailer section over {MAX_TRAILER_BYTES} bytes")


def linger(connection: socket.socket, rfile: BufferedIOBase) -> int:
    """Close lingeringly: end our side, then discard what the client still sends.

    A client that sends its whole body before reading (``urllib``,
    ``http.client``) gets a broken pipe, not our error response, if we close
    while it is still sending. So, as nginx's ``lingering_close``, stop
    writing (the client sees end of file after our response) and read and
    drop its bytes until it closes, goes idle for :data:`LINGER_IDLE_SECONDS`,
    or :data:`LINGER_MAX_BYTES` / :data:`LINGER_MAX_SECONDS` are spent. Nothing
    is kept: memory stays at one read buffer. Returns the bytes discarded.
    """
    discarded = 0
    deadline = time.monotonic() + LINGER_MAX_SECONDS
    try:
        connection.shutdown(socket.SHUT_WR)
        while discarded < LINGER_MAX_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            connection.settimeout(min(LINGER_IDLE_SECONDS, left))
            chunk = rfile.read1(_DRAIN_READ)
            if not chunk:
                break
            discarded += len(chunk)
    except OSError:  # the client reset, or went idle (TimeoutError)
        pass
    return discarded
