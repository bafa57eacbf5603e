"""The function URL front's error responses, in the one shape the README promises.

Every error the local endpoint itself gives (framing, limits, throttling, a
failed function) has the body the deployed handler uses for its own errors::

    {"error": {"code": "payload_too_large", "message": "...", "request_id": "..."}}

``code`` is the status in snake_case (``too_many_requests``,
``request_header_fields_too_large``...) except where the application has its
own name (413 is ``payload_too_large``, as the handler says it). A failed
invocation is ``function_error`` and keeps Lambda's error type visible under
``"type"`` (``Sandbox.Timedout``, ``Runtime.ExitError``, ``ValueError``).
"""

from __future__ import annotations

import re

from coldbrew.emulate.emulator import InvocationResult
from coldbrew.emulate.function_url_events import (
    HttpResponse,
    MalformedResponseError,
    map_result,
)
from coldbrew.emulate.http_handler import status_phrase
from coldbrew.emulate.report import Status
from coldbrew.errors import ColdbrewError
from coldbrew.platforms.http_response import http_body
from coldbrew.runtime.contract import Response

#: Codes that differ from the status's snake-cased phrase.
_CODES = {413: "payload_too_large", 414: "uri_too_long", 502: "function_error"}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def error_code(status: int) -> str:
    """``431`` -> ``request_header_fields_too_large``."""
    return _CODES.get(status) or _NOT_WORD.sub("_", status_phrase(status).lower()).strip("_")


def error_response(
    status: int, message: str, request_id: str, *, error_type: str | None = None
) -> HttpResponse:
    """A JSON error response: the code for ``status``, the message, the request id."""
    error: dict[str, str] = {"code": error_code(status), "message": message}
    if error_type is not None:
        error["type"] = error_type
    error["request_id"] = request_id
    # The adapters' own serialisation: a refusal here and the same refusal inside the
    # function (on a platform that lets the request through) are the same bytes.
    body = http_body(Response(status, {"error": error})).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def response_for_error(error: ColdbrewError, request_id: str) -> HttpResponse:
    """The response for a request the front refused (framing, size)."""
    return error_response(error.status_code, error.message, request_id)


def response_for(result: InvocationResult) -> HttpResponse:
    """The HTTP response a function URL gives for an invocation's result."""
    if result.status is Status.SUCCESS:
        try:
            return map_result(result.payload)
        except MalformedResponseError as exc:
            return error_response(
                502, str(exc), result.request_id, error_type="Function.MalformedResponse"
            )
    if result.status is Status.THROTTLED:
        return error_response(
            429,
            "Rate Exceeded: every sandbox is busy (raise max_concurrency)",
            result.request_id,
            error_type=result.error_type or "TooManyRequestsException",
        )
    return error_response(
        502,
        result.error_message or "the function failed",
        result.request_id,
        error_type=result.error_type or "Runtime.Unknown",
    )
