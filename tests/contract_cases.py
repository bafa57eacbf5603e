"""The HTTP contract's cases, as requests: one list for every parity test.

Each case is a request any platform adapter or server must answer the same
way: a name, method, path and body (``None``: no body), and the status the
contract promises. The texts use the tiny model's words (tests/tiny_model.py),
so the real tiny model embeds them too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BODY_BYTES = 6 * 1024 * 1024  # RuntimeConfig's default, Lambda's payload limit


@dataclass(frozen=True)
class ContractCase:
    """One request of the contract and the status it must get."""

    name: str
    method: str
    path: str
    body: bytes | None
    status: int


def _embed(payload: object) -> bytes:
    return json.dumps(payload).encode()


CASES: tuple[ContractCase, ...] = (
    ContractCase("one input", "POST", "/embed", _embed({"inputs": ["the cat sat"]}), 200),
    ContractCase(
        "many inputs",
        "POST",
        "/embed",
        _embed({"inputs": ["the cat sat on the mat", "a dog ran fast", "big red", "cat"]}),
        200,
    ),
    ContractCase("trailing slash", "POST", "/embed/", _embed({"inputs": ["a dog"]}), 200),
    ContractCase("invalid JSON", "POST", "/embed", b'{"inputs": [', 400),
    ContractCase("NaN is not JSON", "POST", "/embed", b'{"inputs": [NaN]}', 400),
    ContractCase("empty body", "POST", "/embed", b"", 400),
    ContractCase("not UTF-8", "POST", "/embed", b'{"inputs": ["\xff"]}', 400),
    ContractCase("wrong field", "POST", "/embed", _embed({"input": ["typo"]}), 400),
    ContractCase("wrong type", "POST", "/embed", _embed({"inputs": [42]}), 400),
    ContractCase("an array, not an object", "POST", "/embed", _embed(["cat"]), 400),
    ContractCase("empty inputs", "POST", "/embed", _embed({"inputs": []}), 400),
    ContractCase("blank input", "POST", "/embed", _embed({"inputs": ["cat", "   "]}), 400),
    ContractCase("invisible input", "POST", "/embed", _embed({"inputs": ["\u200b"]}), 400),
    ContractCase("too many inputs", "POST", "/embed", _embed({"inputs": ["cat"] * 65}), 413),
    ContractCase("input too long", "POST", "/embed", _embed({"inputs": ["a" * 10_001]}), 413),
    ContractCase(
        "body over 6 MB",
        "POST",
        "/embed",
        _embed({"inputs": ["cat " * ((MAX_BODY_BYTES // 4) + 10)]}),
        413,
    ),
    ContractCase("unknown path", "GET", "/nope", None, 404),
    ContractCase("wrong method", "GET", "/embed", None, 405),
    ContractCase("wrong method on health", "POST", "/health", b"{}", 405),
    ContractCase("health", "GET", "/health", None, 200),
    ContractCase("health, HEAD", "HEAD", "/health", None, 200),
)
