"""The Cloud Functions adapter: the same contract as Lambda's, byte for byte.

Every case of the HTTP contract goes to the Lambda adapter as a function URL
event and to the Cloud Functions adapter through Google's real
functions-framework app (``create_app(...).test_client()``), both over one
service with a fake embedder. Status, body bytes and headers must be equal;
the GCF request carries the Lambda request's id as its ``Function-Execution-Id``,
so not even the request id differs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import functions_framework
import numpy as np
import pytest

from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.platforms.gcf import GcfAdapter, request_id_of
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService
from coldbrew.runtime.settings import RuntimeConfig
from contract_cases import CASES, ContractCase

REQUEST_ID = "req-parity-1"
_FIXTURE_MODULE = "coldbrew_gcf_parity_fixture"
# The entry point functions-framework loads: a plain function over the adapter the
# test puts in sys.modules, as handlers/gcp/main.py is over the real model.
_HANDLER_SOURCE = f"""
import sys

_adapter = sys.modules["{_FIXTURE_MODULE}"].adapter


def handle(request):
    return _adapter(request)
"""


class FakeEmbedder:
    """Deterministic unit vectors from the texts' lengths; or a failure, when asked."""

    info = ModelInfo(name="fake", version="1", dimensions=4, max_tokens=8)

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def embed(self, texts: Sequence[str]) -> Any:
        if self.fail:
            raise RuntimeError("boom")
        rows = np.array([[len(t) + 1, 1, 0, 0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _service(fail: bool = False) -> EmbeddingService:
    return EmbeddingService(FakeEmbedder(fail=fail), RuntimeConfig(model_dir=Path(".")))


def _gcf_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: EmbeddingService) -> Any:
    monkeypatch.setitem(sys.modules, _FIXTURE_MODULE, SimpleNamespace(adapter=GcfAdapter(service)))
    source = tmp_path / "main.py"
    source.write_text(_HANDLER_SOURCE)
    app = functions_framework.create_app("handle", str(source), "http")
    return app.test_client()


@pytest.fixture
def gcf_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield _gcf_client(tmp_path, monkeypatch, _service())


def _lambda(adapter: LambdaAdapter, case: ContractCase) -> tuple[int, bytes, dict[str, str]]:
    event: dict[str, Any] = {
        "version": "2.0",
        "rawPath": case.path,
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": case.method, "path": case.path}},
        "isBase64Encoded": False,
    }
    if case.body is not None:
        event["body"] = case.body.decode("utf-8", "surrogateescape")
    result = adapter(event, SimpleNamespace(aws_request_id=REQUEST_ID))
    return result["statusCode"], result["body"].encode(), result["headers"]


def _gcf(client: Any, case: ContractCase) -> tuple[int, bytes, dict[str, str]]:
    reply = client.open(
        case.path,
        method=case.method,
        data=case.body,
        headers={"Content-Type": "application/json", "Function-Execution-Id": REQUEST_ID},
    )
    return reply.status_code, reply.get_data(), {k.lower(): v for k, v in reply.headers.items()}


def _ours(headers: dict[str, str]) -> dict[str, str]:
    """The headers the adapters set (not the server's content-length, date...)."""
    return {k: v for k, v in headers.items() if k in ("content-type", "x-request-id", "allow")}


# HEAD and a not-UTF-8 body have tests of their own below: a HEAD reply has no body,
# and a function URL event carries bytes that are not UTF-8 as base64.
_PLAIN_CASES = [c for c in CASES if c.method != "HEAD" and c.name != "not UTF-8"]


@pytest.mark.parametrize("case", _PLAIN_CASES, ids=lambda c: c.name)
def test_gcf_answers_every_contract_case_as_lambda_does(
    gcf_client: Any, case: ContractCase
) -> None:
    lambda_status, lambda_body, lambda_headers = _lambda(LambdaAdapter(_service()), case)
    gcf_status, gcf_body, gcf_headers = _gcf(gcf_client, case)
    assert lambda_status == case.status
    assert (gcf_status, gcf_body) == (lambda_status, lambda_body)
    assert _ours(gcf_headers) == _ours(lambda_headers)


def test_head_health_has_lambdas_status_and_headers_and_no_body(gcf_client: Any) -> None:
    (case,) = [c for c in CASES if c.method == "HEAD"]
    lambda_status, lambda_body, lambda_headers = _lambda(LambdaAdapter(_service()), case)
    gcf_status, gcf_body, gcf_headers = _gcf(gcf_client, case)
    assert (gcf_status, _ours(gcf_headers)) == (lambda_status, _ours(lambda_headers))
    assert gcf_body == b""  # HTTP: a HEAD response has none; the function URL drops it too
    assert int(gcf_headers["content-length"]) == len(lambda_body)


def test_not_utf8_body_is_refused_as_lambda_refuses_it_base64(gcf_client: Any) -> None:
    import base64

    (case,) = [c for c in CASES if c.name == "not UTF-8"]
    assert case.body is not None
    event = {
        "rawPath": case.path,
        "headers": {},
        "requestContext": {"http": {"method": "POST", "path": case.path}},
        "isBase64Encoded": True,
        "body": base64.b64encode(case.body).decode(),
    }
    lambda_result = LambdaAdapter(_service())(event, SimpleNamespace(aws_request_id=REQUEST_ID))
    gcf_status, gcf_body, _ = _gcf(gcf_client, case)
    assert (gcf_status, gcf_body) == (400, lambda_result["body"].encode())


def test_internal_failure_is_the_same_500_with_the_request_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (case,) = [c for c in CASES if c.name == "one input"]
    client = _gcf_client(tmp_path, monkeypatch, _service(fail=True))
    lambda_status, lambda_body, _ = _lambda(LambdaAdapter(_service(fail=True)), case)
    gcf_status, gcf_body, _ = _gcf(client, case)
    assert (gcf_status, gcf_body) == (lambda_status, lambda_body) == (500, gcf_body)
    assert REQUEST_ID.encode() in gcf_body and b"boom" not in gcf_body


def test_without_a_request_id_the_framework_gives_one_and_the_body_quotes_it(
    gcf_client: Any,
) -> None:
    reply = gcf_client.get("/nope")
    request_id = reply.headers["x-request-id"]
    assert request_id and reply.get_json()["error"]["request_id"] == request_id


class _Headers(dict[str, str]):
    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, default)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Function-Execution-Id": "abc123"}, "abc123"),
        (
            {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
            "105445aa7843bc8bf206b12000100000",
        ),
    ],
)
def test_request_id_comes_from_the_platform(headers: dict[str, str], expected: str) -> None:
    assert request_id_of(_Headers(headers)) == expected


def test_request_id_is_made_when_the_platform_gives_none() -> None:
    first, second = request_id_of(_Headers()), request_id_of(_Headers())
    assert len(first) == 16 and first != second
