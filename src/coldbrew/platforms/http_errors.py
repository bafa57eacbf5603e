"""The one place where errors become responses.

A :class:`~coldbrew.errors.ColdbrewError` becomes its own status and message.
Anything else is a bug: the caller gets a 500 with the request id to quote,
and the traceback goes to the function's log, never to the caller.
"""

from __future__ import annotations

import logging
import re

from coldbrew.errors import ColdbrewError, MethodNotAllowedError
from coldbrew.runtime.contract import Response

logger = logging.getLogger("coldbrew")

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def error_code(error: ColdbrewError) -> str:
    """``PayloadTooLargeError`` -> ``payload_too_large``."""
    name = type(error).__name__.removesuffix("Error") or "coldbrew"
    return _CAMEL.sub("_", name).lower()


def error_response(error: BaseException, request_id: str) -> Response:
    """Map any exception raised while handling a request to a JSON response."""
    if isinstance(error, ColdbrewError):
        status, code, message = error.status_code, error_code(error), error.message
    else:
        status, code, message = 500, "internal", "internal error"
    if status >= 500:
        logger.error("request %s failed", request_id, exc_info=error)
        message = f"{message} (request id {request_id})"
    headers = {"content-type": "application/json"}
    if isinstance(error, MethodNotAllowedError) and error.allowed:
        headers["allow"] = ", ".join(error.allowed)
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    return Response(status, body, headers)
