"""The request/response contract of the embedding service, and its validation.

Pure: bytes in, validated values or a :class:`~coldbrew.errors.RequestError`
out. Every message names the field and, for limits, the limit, so a caller can
fix the request without reading our code.
"""

from __future__ import annotations

import json

from coldbrew.errors import InvalidRequestError, PayloadTooLargeError
from coldbrew.runtime.frozen import Frozen

# Not dataclasses, and typing for mypy only: this module is imported before the
# ONNX session starts loading, where every import delays it (see
# coldbrew.runtime.frozen and coldbrew.runtime.loading).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

EXAMPLE_BODY = '{"inputs": ["a sentence to embed"]}'
_ALLOWED_KEYS = ("inputs",)


class Request(Frozen):
    """A platform-neutral HTTP-like request."""

    __slots__ = ("method", "path", "body", "request_id", "headers")  # noqa: RUF023
    method: Final[str]
    path: Final[str]
    body: Final[bytes]
    request_id: Final[str]
    headers: Final[dict[str, str]]

    def __init__(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        request_id: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.body = body
        self.request_id = request_id
        self.headers = {} if headers is None else headers


class Response(Frozen):
    """A platform-neutral response; ``body`` is serialized as JSON by adapters."""

    __slots__ = ("status", "body", "headers")  # noqa: RUF023
    status: Final[int]
    body: Final[dict[str, Any]]
    headers: Final[dict[str, str]]

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers


class EmbedRequest(Frozen):
    """A validated ``POST /embed`` body."""

    __slots__ = ("inputs",)
    inputs: Final[tuple[str, ...]]

    def __init__(self, inputs: tuple[str, ...]) -> None:
        self.inputs = inputs


class Limits(Frozen):
    """The limits a request is checked against, named in every refusal."""

    __slots__ = ("max_inputs", "max_input_chars", "max_body_bytes")  # noqa: RUF023
    max_inputs: Final[int]
    max_input_chars: Final[int]
    max_body_bytes: Final[int]

    def __init__(self, max_inputs: int, max_input_chars: int, max_body_bytes: int) -> None:
        self.max_inputs = max_inputs
        self.max_input_chars = max_input_chars
        self.max_body_bytes = max_body_bytes


def _type_name(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "unknown")


def parse_json_body(body: bytes, limits: Limits) -> Any:
    """Decode a JSON body, refusing empty, oversized or malformed ones."""
    if len(body) > limits.max_body_bytes:
        raise PayloadTooLargeError(
            f"request body is {len(body)} bytes; the limit is {limits.max_body_bytes} bytes"
        )
    if not body.strip():
        raise InvalidRequestError(f"request body is empty; send JSON such as {EXAMPLE_BODY}")
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError:
        raise InvalidRequestError("request body is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def parse_embed_request(payload: Any, limits: Limits) -> EmbedRequest:
    """Validate a decoded ``/embed`` payload.

    ``inputs`` may be a list of strings or, for convenience, one string.
    """
    if not isinstance(payload, dict):
        raise InvalidRequestError(
            f"request body must be a JSON object such as {EXAMPLE_BODY}, got {_type_name(payload)}"
        )
    unknown = sorted(set(payload) - set(_ALLOWED_KEYS))
    if unknown:
        raise InvalidRequestError(
            f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(_ALLOWED_KEYS)}"
        )
    if "inputs" not in payload:
        raise InvalidRequestError(f"missing field 'inputs'; send JSON such as {EXAMPLE_BODY}")
    inputs = payload["inputs"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list):
        raise InvalidRequestError(f"'inputs' must be an array of strings, got {_type_name(inputs)}")
    if not inputs:
        raise InvalidRequestError("'inputs' is empty; send at least one string")
    if len(inputs) > limits.max_inputs:
        raise PayloadTooLargeError(
            f"'inputs' has {len(inputs)} items; the limit is {limits.max_inputs} per request"
        )
    for index, text in enumerate(inputs):
        if not isinstance(text, str):
            raise InvalidRequestError(f"inputs[{index}] must be a string, got {_type_name(text)}")
        if len(text) > limits.max_input_chars:
            raise PayloadTooLargeError(
                f"inputs[{index}] has {len(text)} characters; "
                f"the limit is {limits.max_input_chars} per input"
            )
    return EmbedRequest(inputs=tuple(inputs))
