"""The request handler both emulator servers build on: HTTP/1.x only, errors in JSON.

The standard library's :class:`~http.server.BaseHTTPRequestHandler` answers
its own errors (a bad request line, 414, 431, 501, 505) with an HTML page,
and an HTTP/0.9 request with a body and no status line at all. Here every
error is a 4xx (an unknown method is 405, an HTTP version other than 1.x is
400: the client sent them, so a 5xx would blame the server and invite
retries), and goes through :meth:`StrictRequestHandler.error_reply`, which each
server shapes as its clients expect, and a connection closed on an error
closes lingeringly (:func:`~coldbrew.emulate.http_body.linger`) so the
client can read the error even while it is still sending.
"""

from __future__ import annotations

from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from coldbrew.emulate.http_body import linger

_HTTP_0_9 = "HTTP/0.9"
_VERSION_HINT = "{version} is not supported; send HTTP/1.1"


def status_phrase(status: int) -> str:
    """The reason phrase of ``status``, or "Error" for a code HTTPStatus does not know."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class StrictRequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.0 and 1.1 only; subclasses shape error bodies in :meth:`error_reply`."""

    protocol_version = "HTTP/1.1"
    #: The methods this server has a ``do_`` method for; any other is a 405 naming them.
    methods: tuple[str, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    #: Set when the connection must close after an error with input left unread.
    linger_on_close = False

    def parse_request(self) -> bool:
        """Parse as the standard library does, then refuse HTTP/0.9."""
        if not super().parse_request():
            # Refused (or a blank request line, closed without an answer): the
            # rest of the request is unread, and closing on it would reset.
            self.linger_on_close = True
            return False
        if self.request_version == _HTTP_0_9:
            self.send_error(HTTPStatus.BAD_REQUEST, _VERSION_HINT.format(version="HTTP/0.9"))
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own errors, as :meth:`error_reply` shapes them."""
        # An error always gets a status line and headers, even to a request
        # line too broken (or too old) to have said which version it speaks.
        if self.request_version == _HTTP_0_9:
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.linger_on_close = True
        status = int(code)
        if status == HTTPStatus.NOT_IMPLEMENTED:  # the standard library's "Unsupported method"
            status = HTTPStatus.METHOD_NOT_ALLOWED
            message = f"method {self.command!r} is not supported; use {', '.join(self.methods)}"
        elif status == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
            status = HTTPStatus.BAD_REQUEST
            message = _VERSION_HINT.format(version=self.request_version)
        self.error_reply(status, message or status_phrase(status))

    def error_reply(self, status: int, message: str) -> None:
        """Send an error response; the connection then closes."""
        raise NotImplementedError

    def finish(self) -> None:
        """Close lingeringly after an error, so the client can read it."""
        if self.linger_on_close:
            linger(self.connection, self.rfile)
        super().finish()
