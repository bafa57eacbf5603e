"""Function URL payloads: HTTP request -> event 2.0, function result -> HTTP response.

Pure functions, following AWS's documented behaviour for Lambda function URLs
(which use API Gateway's payload format 2.0):

* Header names are lower-cased; repeated headers are joined with commas.
  Cookie headers move to ``cookies`` (one entry per cookie). Repeated query
  parameters are joined with commas in ``queryStringParameters``.
* The body is passed as text when it is valid UTF-8 with a text content type
  (or none); otherwise it is base64-encoded and ``isBase64Encoded`` is true.
* A result that is a JSON object with ``statusCode`` describes the response:
  ``statusCode``, ``headers``, ``cookies`` (each becomes a Set-Cookie),
  ``body`` (base64-decoded when ``isBase64Encoded``). Any other valid JSON
  result becomes a 200 ``application/json`` response with that JSON as body.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

# Connection-level headers a proxy consumes rather than forwards.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/yaml",
        "application/x-yaml",
        "application/x-ndjson",
    }
)


class MalformedResponseError(ValueError):
    """The function's result claims to be an HTTP response but is not a valid one."""


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as the front received it."""

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    server_port: int | None = None


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP response to send; headers may repeat (Set-Cookie)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if any."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


def is_text_content_type(content_type: str | None) -> bool:
    """Whether a body of this content type is passed as text (if valid UTF-8)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in _TEXT_TYPES
        or media.endswith("+json")
        or media.endswith("+xml")
    )


def encode_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """The event's ``body`` string and ``isBase64Encoded`` flag for ``body``."""
    if is_text_content_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def build_event(
    request: HttpRequest,
    *,
    request_id: str,
    api_id: str,
    now: datetime,
    region: str = "us-east-1",
    trace_id: str | None = None,
) -> dict[str, Any]:
    """The payload-format-2.0 event a function URL sends for ``request``.

    ``now`` must be timezone-aware. ``domainName`` is the request's Host (so
    handlers that build links get working local ones), else the URL's AWS name.
    Like the real front, it adds ``x-forwarded-for``/``-proto``/``-port`` and
    ``x-amzn-trace-id`` (when ``trace_id`` is given), and drops hop-by-hop headers.
    """
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key in _HOP_BY_HOP:
            continue
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        elif key in headers:
            headers[key] = f"{headers[key]},{value}"
        else:
            headers[key] = value
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = (
        f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    )
    headers["x-forwarded-proto"] = "http"
    if request.server_port is not None:
        headers["x-forwarded-port"] = str(request.server_port)
    if trace_id is not None:
        headers["x-amzn-trace-id"] = trace_id
    domain = headers.get("host") or f"{api_id}.lambda-url.{region}.on.aws"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": "anonymous",
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S %z"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if request.body:
        event["body"], event["isBase64Encoded"] = encode_body(
            request.body, headers.get("content-type")
        )
    else:
        event["isBase64Encoded"] = False
    return event


def map_result(payload: bytes) -> HttpResponse:
    """The HTTP response for a function's successful result ``payload`` (JSON bytes).

    Raises :class:`MalformedResponseError` when the payload is not JSON, or is
    an object with ``statusCode`` whose fields have the wrong types.
    """
    try:
        result = json.loads(payload)
    except ValueError:
        raise MalformedResponseError("the function returned something that is not JSON") from None
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, [("Content-Type", "application/json")], payload)
    status = _status(result["statusCode"])
    headers = _headers(result.get("headers"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.extend(("Set-Cookie", cookie) for cookie in _cookies(result.get("cookies")))
    return HttpResponse(status, headers, _body(result.get("body"), result.get("isBase64Encoded")))


def _status(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise MalformedResponseError(f"statusCode must be an HTTP status, got {value!r}")
    return value


def _headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise MalformedResponseError("headers must be an object of strings")
    headers = []
    for name, item in value.items():
        if not isinstance(item, str | int | float):
            raise MalformedResponseError(f"header {name!r} must be a string")
        text = str(item).lower() if isinstance(item, bool) else str(item)
        if "\n" in text or "\r" in text or "\n" in name or "\r" in name:
            raise MalformedResponseError(f"header {name!r} contains a line break")
        headers.append((str(name), text))
    return headers


def _cookies(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise MalformedResponseError("cookies must be a list of strings")
    if any("\n" in c or "\r" in c for c in value):
        raise MalformedResponseError("a cookie contains a line break")
    return list(value)


def _body(value: Any, is_base64: Any) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise MalformedResponseError(f"body must be a string, got {type(value).__name__}")
    if is_base64:
        try:
            return base64.b64decode(value)  # like AWS, tolerate line breaks
        except (binascii.Error, ValueError):
            raise MalformedResponseError(
                "body is marked isBase64Encoded but is not base64"
            ) from None
    return value.encode("utf-8")
