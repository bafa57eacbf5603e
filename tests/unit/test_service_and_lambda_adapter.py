"""The service's routes and the Lambda adapter, over a fake embedder (no model needed)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService
from coldbrew.runtime.settings import RuntimeConfig


class FakeEmbedder:
    """Deterministic unit vectors; counts the texts it was asked to embed."""

    info = ModelInfo(name="fake", version="1", dimensions=4, max_tokens=8)

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def embed(self, texts: Sequence[str]) -> Any:
        if self.fail:
            raise RuntimeError("boom")
        for text in texts:  # as the Rust tokenizer does on the way in
            text.encode("utf-8")
        self.calls.append(list(texts))
        rows = np.array([[len(t) + 1, 1, 0, 0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def make(fail: bool = False, **config: Any) -> tuple[LambdaAdapter, FakeEmbedder]:
    embedder = FakeEmbedder(fail=fail)
    service = EmbeddingService(embedder, RuntimeConfig(model_dir=Path("."), **config))
    return LambdaAdapter(service), embedder


def url_event(
    method: str, path: str, body: str | bytes | None = None, b64: bool = False
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "rawPath": path,
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}},
        "isBase64Encoded": b64,
    }
    if body is not None:
        raw = body if isinstance(body, bytes) else body.encode()
        event["body"] = base64.b64encode(raw).decode() if b64 else raw.decode()
    return event


CONTEXT = SimpleNamespace(aws_request_id="req-1")


def call(
    adapter: LambdaAdapter, event: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    result = adapter(event, CONTEXT)
    return result["statusCode"], json.loads(result["body"]), result["headers"]


def test_embed_over_function_url() -> None:
    adapter, _ = make()
    status, body, headers = call(adapter, url_event("POST", "/embed", '{"inputs": ["ab", "c"]}'))
    assert status == 200
    assert body["model"] == "fake" and body["dimensions"] == 4
    vectors = np.array(body["embeddings"])
    assert vectors.shape == (2, 4)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"] == "req-1"


def test_base64_body_is_decoded() -> None:
    adapter, _ = make()
    status, body, _ = call(adapter, url_event("POST", "/embed", '{"inputs": ["x"]}', b64=True))
    assert status == 200 and len(body["embeddings"]) == 1


def test_invalid_base64_is_a_400() -> None:
    adapter, _ = make()
    event = url_event("POST", "/embed")
    event.update(body="!!not base64!!", isBase64Encoded=True)
    status, body, _ = call(adapter, event)
    assert status == 400 and "base64" in body["error"]["message"]


def test_cache_serves_repeats_and_dedupes() -> None:
    adapter, embedder = make()
    call(adapter, url_event("POST", "/embed", '{"inputs": ["a", "a", "b"]}'))
    status, body, _ = call(adapter, url_event("POST", "/embed", '{"inputs": ["b", "c"]}'))
    assert status == 200 and len(body["embeddings"]) == 2
    assert embedder.calls == [["a", "b"], ["c"]]


def test_cache_can_be_disabled() -> None:
    adapter, embedder = make(cache_size=0)
    for _ in range(2):
        call(adapter, url_event("POST", "/embed", '{"inputs": ["a"]}'))
    assert embedder.calls == [["a"], ["a"]]


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (url_event("POST", "/embed", "{not json"), 400, "invalid_request"),
        (url_event("POST", "/embed", '{"inputs": []}'), 400, "invalid_request"),
        (url_event("POST", "/embed", '{"inputs": [1]}'), 400, "invalid_request"),
        (url_event("POST", "/embed", json.dumps({"inputs": ["a"] * 65})), 413, "payload_too_large"),
        (url_event("GET", "/nowhere"), 404, "not_found"),
        (url_event("GET", "/embed"), 405, "method_not_allowed"),
        (url_event("POST", "/embed"), 400, "invalid_request"),
    ],
)
def test_refusals_are_json_with_status(event: dict[str, Any], status: int, code: str) -> None:
    adapter, _ = make()
    got_status, body, _ = call(adapter, event)
    assert got_status == status
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == "req-1"
    assert body["error"]["message"]


def test_method_not_allowed_sets_allow_header() -> None:
    adapter, _ = make()
    _, _, headers = call(adapter, url_event("GET", "/embed"))
    assert headers["allow"] == "POST"


def test_health() -> None:
    adapter, _ = make()
    status, body, _ = call(adapter, url_event("GET", "/health"))
    assert status == 200 and body["status"] == "ok" and body["dimensions"] == 4
    assert body["limits"]["max_inputs"] == 64


def test_internal_failure_is_500_with_request_id_and_no_traceback() -> None:
    adapter, _ = make(fail=True)
    status, body, _ = call(adapter, url_event("POST", "/embed", '{"inputs": ["a"]}'))
    assert status == 500
    assert "req-1" in body["error"]["message"]
    assert "Traceback" not in json.dumps(body) and "boom" not in json.dumps(body)


def test_direct_invocation_returns_body_or_error() -> None:
    adapter, _ = make()
    ok = adapter({"inputs": ["hello"]}, CONTEXT)
    assert ok["dimensions"] == 4 and len(ok["embeddings"]) == 1
    refused = adapter({"inputs": "x" * 20_000}, CONTEXT)
    assert refused["status"] == 413 and refused["error"]["code"] == "payload_too_large"
    not_object = adapter(["hello"], CONTEXT)
    assert not_object["status"] == 400


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, **changes}


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        (url_event("POST", "/embed", '{"inputs": ["\\ud800"]}'), "lone surrogate"),
        (_with(url_event("POST", "/embed"), body='{"inputs": ["\ud800"]}'), "not UTF-8"),
        (url_event("POST", "/embed", '{"inputs": [' + "1" * 4500 + "]}"), "too many digits"),
        (url_event("POST", "/embed", "[" * 30_000 + "]" * 30_000), "nested too deeply"),
        (url_event("POST", "/embed", '{"inputs": ["", "x"]}'), "inputs[0] is empty"),
        (_with(url_event("POST", "/embed"), body=["not", "a", "string"]), "body must be a string"),
        (_with(url_event("POST", "/embed", "{}"), headers=["h"]), "headers must be an object"),
        (_with(url_event("POST", "/embed", "{}"), headers={"a": [[1]]}), "string values"),
        (_with(url_event("GET", "/health"), rawPath=[[["/"]]]), "must be strings"),
        (url_event("GET", "/" + "x" * 100_000), "no route for"),
    ],
)
def test_odd_but_valid_events_are_4xx_naming_the_problem(
    event: dict[str, Any], needle: str
) -> None:
    adapter, _ = make()
    status, body, _ = call(adapter, event)
    assert 400 <= status < 500, body
    assert needle in body["error"]["message"] and len(body["error"]["message"]) < 400


@pytest.mark.parametrize(
    "payload",
    [{"inputs": ["\ud800"]}, {"inputs": "\t"}, {1: "x", "a": "b"}, {"inputs": [], "k" * 10**6: 1}],
)
def test_direct_invocation_of_odd_payloads_is_refused_not_raised(payload: Any) -> None:
    adapter, _ = make()
    refused = adapter(payload, CONTEXT)
    assert refused["status"] == 400 and len(refused["error"]["message"]) < 400
