"""Property-based fuzzing of the request contract over every route and event source.

The real :class:`LambdaAdapter` and :class:`EmbeddingService`, in process, over
a fake embedder that takes text as the Rust tokenizer does (it must encode as
UTF-8). Whatever the body, JSON value, string, method, path or SQS batch:

* no 5xx and no exception escapes (except a batch with a record that has no
  messageId, which is refused whole by design, with an InvalidRequestError);
* every error has the one shape ``{"error": {"code", "message", "request_id"}}``;
* every SQS message is accounted for: its result stored, or reported failed
  with one log line, and refused input never logs a traceback.

Bounded for ``make test``; ``COLDBREW_FUZZ_EXAMPLES=5000`` runs a longer fuzz.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from coldbrew.errors import InvalidRequestError
from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService
from coldbrew.runtime.settings import RuntimeConfig
from contract_strategies import (
    FUZZ,
    any_json_text,
    bodies,
    direct_events,
    embed_text,
    json_values,
    methods,
    odd_text,
    paths,
    url_event,
    utf8_with_surrogates,
)

CONTEXT = SimpleNamespace(aws_request_id="req-fuzz")
ERROR_FIELDS = {"code", "message", "request_id"}


class TokenizerLikeEmbedder:
    """Unit rows of width 3; refuses what the Rust tokenizer cannot take (non-UTF-8 text)."""

    info = ModelInfo(name="fake", version="1", dimensions=3, max_tokens=8)

    def embed(self, texts: Sequence[str]) -> list[array[float]]:
        for text in texts:
            text.encode("utf-8")
        return [array("f", [0.0, 0.0, 1.0]) for _ in texts]


class RecordingSink:
    """Every put, in order: redeliveries and overwrites stay visible."""

    def __init__(self) -> None:
        self.puts: list[tuple[str, dict[str, Any]]] = []

    def put(self, key: str, body: bytes) -> None:
        self.puts.append((key, json.loads(body)))


def make_adapter(
    sink: RecordingSink | None = None, logged: list[dict[str, Any]] | None = None
) -> LambdaAdapter:
    service = EmbeddingService(
        TokenizerLikeEmbedder(), RuntimeConfig(model_dir=str(Path(".")), max_input_chars=300)
    )
    lines = logged if logged is not None else []
    return LambdaAdapter(
        service,
        results=(lambda: sink) if sink is not None else None,
        sqs_log=lambda line: lines.append(json.loads(line)),
    )


# --- properties ------------------------------------------------------------------


def assert_one_error_shape(body: Any, status: int) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == ERROR_FIELDS, body
    assert body["error"]["request_id"] == "req-fuzz"
    message = body["error"]["message"]
    assert isinstance(message, str) and message and len(message) < 500
    assert 400 <= status < 500, body


@FUZZ
@given(method=methods, path=paths, body=bodies, as_base64=st.booleans())
def test_function_url_never_answers_5xx(
    method: str, path: str, body: bytes, as_base64: bool
) -> None:
    result = make_adapter()(url_event(method, path, body, as_base64), CONTEXT)
    status, answer = result["statusCode"], json.loads(result["body"])
    if status == 200:
        assert "embeddings" in answer or answer.get("status") == "ok", answer
        if "embeddings" in answer:
            assert all(len(row) == 3 for row in answer["embeddings"])
    else:
        assert_one_error_shape(answer, status)
        if status == 405:
            assert result["headers"]["allow"]


@FUZZ
@given(text=any_json_text)
def test_post_embed_of_any_json_text_is_200_or_4xx(text: str) -> None:
    event = url_event("POST", "/embed", utf8_with_surrogates(text), as_base64=True)
    result = make_adapter()(event, CONTEXT)
    answer = json.loads(result["body"])
    if result["statusCode"] != 200:
        assert_one_error_shape(answer, result["statusCode"])


@FUZZ
@given(event=direct_events)
def test_direct_invocation_returns_a_body_or_a_4xx_error(event: Any) -> None:
    if isinstance(event, dict) and ("Records" in event or "requestContext" in event):
        return  # other event sources, fuzzed below and above
    answer = make_adapter()(event, CONTEXT)
    if "embeddings" in answer:
        assert len(answer["embeddings"]) == len(
            [event["inputs"]] if isinstance(event["inputs"], str) else event["inputs"]
        )
    else:
        status = answer.pop("status")
        assert_one_error_shape(answer, status)


# SQS batches: well-formed records with hostile bodies, and records that are not.
message_ids = st.one_of(st.uuids().map(str), st.sampled_from(["m-1", "m-2", "m/3", "é"]))
message_bodies = st.one_of(
    any_json_text,
    st.tuples(st.one_of(st.sampled_from(["doc-1", "x", "../up", ""]), odd_text), embed_text).map(
        lambda pair: '{"id": ' + json.dumps(pair[0]) + ", " + pair[1][1:]
    ),
)


@st.composite
def sqs_records(draw: st.DrawFn) -> Any:
    record: dict[str, Any] = {
        "messageId": draw(message_ids),
        "receiptHandle": "rh",
        "body": draw(message_bodies),
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
    }
    damage = draw(st.sampled_from(["none"] * 6 + ["source", "body", "no-body", "no-id", "list"]))
    if damage == "source":
        record["eventSource"] = draw(st.one_of(st.none(), odd_text, st.lists(st.integers())))
    elif damage == "body":
        record["body"] = draw(json_values)
    elif damage == "no-body":
        del record["body"]
    elif damage == "no-id":
        record["messageId"] = draw(st.one_of(st.none(), st.just(""), st.integers()))
    elif damage == "list":
        return [record]
    return record


@FUZZ
@given(records=st.lists(sqs_records(), max_size=6))
def test_every_sqs_message_is_stored_or_reported(records: list[Any]) -> None:
    sink, logged = RecordingSink(), []
    adapter = make_adapter(sink, logged)
    well_formed = all(
        isinstance(r, dict) and isinstance(r.get("messageId"), str) and r["messageId"]
        for r in records
    )
    try:
        reply = adapter({"Records": records}, CONTEXT)
    except InvalidRequestError as exc:
        assert not well_formed and "has no messageId" in exc.message
        assert not sink.puts  # refused before any message ran
        return
    assert well_formed
    ids = [r["messageId"] for r in records]
    failed = [item["itemIdentifier"] for item in reply["batchItemFailures"]]
    stored = [document["messageId"] for _, document in sink.puts]
    # Each message is stored (its result or its refusal) or reported failed,
    # never both, never neither.
    assert sorted(failed + stored) == sorted(ids)
    assert [line["messageId"] for line in logged if line["level"] == "ERROR"] == failed
    for line in logged:  # the embedder never fails: every failure is refused input
        assert line["errorType"] == "InvalidRequestError" and "traceback" not in line, line
    for key, document in sink.puts:
        assert key == f"results/{document['id']}.json"
        if "error" in document:
            assert 400 <= document["status"] < 500
            assert set(document["error"]) == {"code", "message", "request_id"}
        else:
            assert len(document["embeddings"]) >= 1
