"""Hypothesis strategies for fuzzing the request contract, shared by the unit and functional fuzz.

Bodies, JSON texts and decoded values that have broken JSON handling before:
lone surrogates (escaped and raw), integers past Python's digit limit, deep
nesting, NaN/Infinity, duplicate names, a BOM, control and odd space
characters, truncated and spliced bytes. ``COLDBREW_FUZZ_EXAMPLES`` scales
every fuzz test (a bounded default runs in ``make test``).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("COLDBREW_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies: text, JSON text, bodies -------------------------------------------

#: Characters that have broken JSON handling: surrogates, controls, BOM, odd spaces.
_ODD_CHARS = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(' \t\r\n\x00\x1c\x85\u2028\u3000\u200b\ufeff\ufffd"\\/{}[],:'),
)
odd_text = st.text(_ODD_CHARS, max_size=40)

_scalar_json = st.one_of(
    st.sampled_from(["null", "true", "false", "NaN", "Infinity", "-Infinity", "0", "-0", "1e999"]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),
    st.integers(min_value=4200, max_value=6000).map(lambda n: "9" * n),  # past the digit limit
    odd_text.map(json.dumps),  # escaped: may decode to lone surrogates
    odd_text.map(lambda t: json.dumps(t, ensure_ascii=False)),  # raw characters
    st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"\\ud83d\\ude00"', '"   "', '""']),
)


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in pairs) + "}"


keys = st.one_of(st.sampled_from(["inputs", "id", "input", ""]), odd_text)
json_text = st.recursive(
    _scalar_json,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(_array),
        st.lists(st.tuples(keys, inner), max_size=4).map(_object),  # duplicates allowed
    ),
    max_leaves=12,
)
deep_nesting = st.integers(min_value=1, max_value=200_000).map(lambda d: "[" * d + "]" * d)
embed_text = st.one_of(
    st.lists(_scalar_json, max_size=6).map(lambda xs: '{"inputs": ' + _array(xs) + "}"),
    json_text.map(lambda v: '{"inputs": ' + v + "}"),
    st.tuples(json_text, json_text).map(
        lambda kv: '{"inputs": ' + kv[0] + ', "inputs": ' + kv[1] + "}"
    ),
    deep_nesting.map(lambda nest: '{"inputs": ' + nest + "}"),
)
any_json_text = st.one_of(embed_text, json_text, deep_nesting)


def utf8_with_surrogates(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates as the invalid bytes they'd be


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> bytes:
    """A JSON text's bytes, maybe with a BOM, padding, or a few bytes cut or inserted."""
    data = bytearray(utf8_with_surrogates(draw(texts)))
    if draw(st.booleans()):
        data[:0] = draw(st.sampled_from([b"\xef\xbb\xbf", b" \n", b"\x00", b""]))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        if draw(st.booleans()) and at < len(data):
            del data[at]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


bodies = st.one_of(
    any_json_text.map(utf8_with_surrogates), mutated(any_json_text), st.binary(max_size=64)
)


def url_event(method: str, path: str, body: bytes, as_base64: bool) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}},
        "isBase64Encoded": as_base64,
        "body": base64.b64encode(body).decode() if as_base64 else body.decode("utf-8", "replace"),
    }


methods = st.one_of(
    st.sampled_from(["POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "post", "get"]),
    odd_text,
)
paths = st.one_of(
    st.sampled_from(["/embed", "/health", "/", "/embed/", "//embed", "/embed?x=1", "/nope"]),
    odd_text.map(lambda t: "/" + t),
)


# Direct invocation: the event is already decoded (by the runtime client), so any
# value JSON can hold, including strings with lone surrogates.
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        odd_text,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
direct_events = st.one_of(
    json_values,
    st.fixed_dictionaries({"inputs": st.one_of(json_values, st.lists(odd_text, max_size=70))}),
    st.fixed_dictionaries({"inputs": odd_text}),
)
