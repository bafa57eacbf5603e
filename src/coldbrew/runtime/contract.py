"""The request/response contract of the embedding service, and its validation.

Pure: bytes in, validated values or a :class:`~coldbrew.errors.RequestError`
out. Every message names the field and, for limits, the limit, so a caller can
fix the request without reading our code.
"""

from __future__ import annotations

import json
import re  # already loaded: json's decoder imports it

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
#: A printable ASCII character: an input with one has text to embed (the common case).
_VISIBLE_ASCII = re.compile(r"[!-~]")
#: Categories BERT's normaliser drops or turns into spaces: control, format (zero-width
#: space, joiners, BOM, soft hyphen...) and separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_NAMED_KEYS = 5  # unknown fields named in a refusal; the rest are counted
_NAME_CHARS = 40  # characters of a field name quoted in a refusal


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


def json_type_name(value: object) -> str:
    """The JSON name of a decoded value's type (``object``, ``array``, ``number``...)."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number" if isinstance(value, int | float) else "unknown")


def _field_name(key: object) -> str:
    """A field name fit for a message: quoted and cut short; non-strings by type."""
    if not isinstance(key, str):
        return f"<{json_type_name(key)} key>"
    if len(key) > _NAME_CHARS:
        return repr(key[:_NAME_CHARS]) + f"... ({len(key)} characters)"
    return repr(key)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of two equal names, other parsers the first: refusing
    # them leaves no doubt which "inputs" was embedded.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidRequestError(
                    f"request body has a duplicate field {_field_name(key)}; "
                    "each name may appear once per object"
                )
            seen.add(key)
    return result


def _refuse_constant(name: str) -> Any:
    raise InvalidRequestError(f"request body is not valid JSON: {name} is not JSON (RFC 8259)")


# Strict JSON (RFC 8259): no NaN/Infinity, no duplicate names.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant
)


def body_too_large(limit: int) -> PayloadTooLargeError:
    """The refusal of a body over ``limit`` bytes, in the same words wherever it is refused.

    A platform's front (the local function URL, which stops reading at the
    limit and so never knows the whole size) and the contract (on Cloud
    Functions, whose 32 MB limit lets the body reach the function) give the
    same 413 body byte for byte.
    """
    return PayloadTooLargeError(
        f"request body is over the limit of {limit} bytes; send fewer or shorter inputs"
    )


def text_body(text: str) -> bytes:
    """The UTF-8 bytes a body that arrived as text stands for.

    A lone surrogate (which a JSON event's escapes can carry) is kept as the
    invalid bytes it would be, for :func:`parse_json_body` to refuse as not
    UTF-8, rather than crash the encoder.
    """
    return text.encode("utf-8", "surrogatepass")


def parse_json_body(body: bytes | str, limits: Limits) -> Any:
    """Decode a JSON body, refusing empty, oversized, malformed or undecodable ones.

    ``body`` is the raw bytes of an HTTP body, or text that arrived inside an
    event (an SQS message): text is checked as the UTF-8 it stands for, so a
    lone surrogate in it is refused as not UTF-8. Valid JSON that Python
    cannot hold (an integer past its digit limit, nesting past its recursion
    limit) is refused too, by name: every body gets a 4xx, never a 500.
    """
    if isinstance(body, str):
        if len(body) > limits.max_body_bytes:  # each character is at least a byte
            raise body_too_large(limits.max_body_bytes)
        body = text_body(body)
    if len(body) > limits.max_body_bytes:
        raise body_too_large(limits.max_body_bytes)
    if not body.strip():
        raise InvalidRequestError(f"request body is empty; send JSON such as {EXAMPLE_BODY}")
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"request body is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
    if text.startswith("\ufeff"):
        raise InvalidRequestError(
            "request body starts with a byte order mark (U+FEFF); send UTF-8 JSON without one"
        )
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError:
        # The one other ValueError json raises: int() past sys.get_int_max_str_digits().
        raise InvalidRequestError(
            "request body has a number with too many digits to decode"
        ) from None
    except RecursionError:
        raise InvalidRequestError(
            "request body is nested too deeply: arrays and objects inside one another"
        ) from None


def parse_embed_request(payload: Any, limits: Limits) -> EmbedRequest:
    """Validate a decoded ``/embed`` payload.

    ``inputs`` may be a list of strings or, for convenience, one string. Each
    must have some text that is not whitespace (a blank input would embed to
    one constant vector, indistinguishable in an index), and be encodable as
    UTF-8 (no lone surrogates, which JSON escapes such as ``"\\ud800"`` allow).
    """
    if not isinstance(payload, dict):
        raise InvalidRequestError(
            f"request body must be a JSON object such as {EXAMPLE_BODY}, "
            f"got {json_type_name(payload)}"
        )
    unknown = sorted(_field_name(key) for key in payload if key not in _ALLOWED_KEYS)
    if unknown:
        named = ", ".join(unknown[:_NAMED_KEYS])
        more = f" and {len(unknown) - _NAMED_KEYS} more" if len(unknown) > _NAMED_KEYS else ""
        raise InvalidRequestError(
            f"unknown field(s) {named}{more}; allowed: {', '.join(_ALLOWED_KEYS)}"
        )
    if "inputs" not in payload:
        raise InvalidRequestError(f"missing field 'inputs'; send JSON such as {EXAMPLE_BODY}")
    inputs = payload["inputs"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list):
        raise InvalidRequestError(
            f"'inputs' must be an array of strings, got {json_type_name(inputs)}"
        )
    if not inputs:
        raise InvalidRequestError("'inputs' is empty; send at least one string")
    if len(inputs) > limits.max_inputs:
        raise PayloadTooLargeError(
            f"'inputs' has {len(inputs)} items; the limit is {limits.max_inputs} per request"
        )
    for index, text in enumerate(inputs):
        _check_input(index, text, limits)
    return EmbedRequest(inputs=tuple(inputs))


def _check_input(index: int, text: object, limits: Limits) -> None:
    if not isinstance(text, str):
        raise InvalidRequestError(f"inputs[{index}] must be a string, got {json_type_name(text)}")
    if len(text) > limits.max_input_chars:
        raise PayloadTooLargeError(
            f"inputs[{index}] has {len(text)} characters; "
            f"the limit is {limits.max_input_chars} per input"
        )
    if not text or text.isspace():
        raise InvalidRequestError(
            f"inputs[{index}] is empty or only whitespace; send text to embed "
            "(every blank input would get the same vector)"
        )
    if _VISIBLE_ASCII.search(text) is None and not _has_visible_character(text):
        raise InvalidRequestError(
            f"inputs[{index}] has only invisible characters (controls, zero-width or "
            "format characters, spaces); send text to embed "
            "(the tokenizer drops them all, so it would get the same vector as a blank)"
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidRequestError(
                f"inputs[{index}] has a lone surrogate (U+{ord(text[exc.start]):04X}) "
                f"at character {exc.start}, which UTF-8 cannot encode"
            ) from None


def _has_visible_character(text: str) -> bool:
    # Only for text with no printable ASCII; stops at the first visible character,
    # so real non-Latin text costs one lookup. unicodedata is loaded only here.
    import unicodedata

    return any(unicodedata.category(c) not in _INVISIBLE_CATEGORIES for c in text)
