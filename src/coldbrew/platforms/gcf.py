"""Google Cloud Functions (2nd gen) adapter: the functions-framework HTTP signature.

functions-framework calls the entry point with a flask ``Request`` and sends
back what it returns. This adapter turns that request into a coldbrew
:class:`Request`, runs the same :class:`~coldbrew.runtime.service.EmbeddingService`
as Lambda, maps failures through the one error mapping
(:mod:`coldbrew.platforms.http_errors`) and returns ``(body, status, headers)``
serialised by :mod:`coldbrew.platforms.http_response`, as the Lambda adapter
does: the same request gets the same status, JSON bytes and content type on
both targets.

The body limit is the contract's (``RuntimeConfig.max_body_bytes``, Lambda's
6 MB), not Cloud Functions' larger HTTP limit, so both targets refuse the same
bodies with the same message.

Pure: no flask import (the request is passed in), no environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol

from coldbrew.platforms.http_errors import error_response
from coldbrew.platforms.http_response import http_body, http_headers
from coldbrew.runtime.contract import Request, Response

#: Set by functions-framework's middleware on every request (from the platform's own).
EXECUTION_ID_HEADER = "Function-Execution-Id"
TRACE_CONTEXT_HEADER = "X-Cloud-Trace-Context"


class Headers(Protocol):
    """The part of werkzeug's ``Headers`` this adapter reads."""

    def get(self, key: str) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


class HttpRequest(Protocol):
    """The part of the flask ``Request`` functions-framework passes that this adapter reads."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def headers(self) -> Headers: ...

    def get_data(self) -> bytes: ...


class Service(Protocol):
    """The part of :class:`~coldbrew.runtime.service.EmbeddingService` this adapter uses."""

    def handle(self, request: Request) -> Response: ...


#: What functions-framework sends back: body bytes, status, headers.
HttpResult = tuple[bytes, int, dict[str, str]]


def request_id_of(headers: Headers) -> str:
    """The platform's id for this request: the execution id, else the trace id, else a new one."""
    execution_id = headers.get(EXECUTION_ID_HEADER)
    if execution_id:
        return execution_id
    trace = (headers.get(TRACE_CONTEXT_HEADER) or "").split("/", 1)[0]
    if trace:
        return trace
    return os.urandom(8).hex()  # not uuid: importing it costs cold-start time


def request_from_http(request: HttpRequest, request_id: str) -> Request:
    """Turn the framework's request into a :class:`Request` (header names lowercased)."""
    return Request(
        method=request.method,
        path=request.path or "/",
        body=request.get_data(),
        request_id=request_id,
        headers={name.lower(): value for name, value in request.headers.items()},
    )


def http_result(response: Response, request_id: str) -> HttpResult:
    """The ``(body, status, headers)`` functions-framework turns into the HTTP response."""
    return http_body(response).encode(), response.status, http_headers(response, request_id)


class GcfAdapter:
    """Callable as a functions-framework HTTP function body: ``adapter(request)``."""

    def __init__(self, service: Service) -> None:
        self._service = service

    def __call__(self, request: HttpRequest) -> HttpResult:
        request_id = request_id_of(request.headers)
        try:
            response = self._service.handle(request_from_http(request, request_id))
        except Exception as exc:  # every failure becomes a JSON response
            response = error_response(exc, request_id)
        return http_result(response, request_id)
