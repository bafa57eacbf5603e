"""Reading an HTTP/1.1 request body with a size limit.

Both the function URL front and the Runtime API need it: bodies come with a
Content-Length or chunked, and a body over the limit must be refused before
it is read into memory.
"""

from __future__ import annotations

from email.message import Message
from io import BufferedIOBase


class BodyTooLargeError(Exception):
    """The body is larger than the limit; nothing more was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit


class MalformedBodyError(Exception):
    """Content-Length or chunk framing that cannot be parsed."""


def read_body(rfile: BufferedIOBase, headers: Message, limit: int) -> bytes:
    """Read the whole body of the request whose ``headers`` were just parsed."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return _read_chunked(rfile, limit)
    raw = headers.get("Content-Length")
    if raw is None:
        return b""
    try:
        length = int(raw)
    except ValueError:
        raise MalformedBodyError(f"bad Content-Length {raw!r}") from None
    if length < 0:
        raise MalformedBodyError(f"bad Content-Length {raw!r}")
    if length > limit:
        raise BodyTooLargeError(limit)
    return rfile.read(length)


def _read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise MalformedBodyError(f"bad chunk size line {line!r}") from None
        if size == 0:
            # Skip trailers up to the blank line that ends the message.
            while rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        total += size
        if total > limit:
            raise BodyTooLargeError(limit)
        parts.append(rfile.read(size))
        rfile.readline(16)  # the CRLF after each chunk
