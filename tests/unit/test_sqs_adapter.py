"""The SQS batch path over the real service, a fake embedder and an in-memory sink.

What matters: exactly the messages that failed are reported (so Lambda retries
only those), every good message's result is in the sink (nothing lost), a
message that can never succeed has its refusal stored instead of being
retried, and each failure or refusal is one JSON log line.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from coldbrew.errors import ConfigurationError, InvalidRequestError
from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.platforms.aws_sqs import SqsBatchAdapter, is_sqs_event, result_key
from coldbrew.platforms.result_sink import S3ResultSink, lazy_s3_sink
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService
from coldbrew.runtime.settings import AsyncConfig, RuntimeConfig, initialization_type


class FakeEmbedder:
    """Deterministic unit rows of width 2; can be told to crash."""

    info = ModelInfo(name="fake", version="1", dimensions=2, max_tokens=8)

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[array[float]]:
        if self.fail:
            raise RuntimeError("model exploded")
        for text in texts:  # as the Rust tokenizer does on the way in
            text.encode("utf-8")
        self.calls.append(list(texts))
        return [array("f", [1.0, 0.0] if len(t) % 2 else [0.0, 1.0]) for t in texts]


class MemorySink:
    """A dict of key -> bytes; keys in ``broken`` raise like an S3 error would."""

    def __init__(self, broken: tuple[str, ...] = ()) -> None:
        self.objects: dict[str, bytes] = {}
        self.broken = broken

    def put(self, key: str, body: bytes) -> None:
        if key in self.broken:
            raise OSError(f"sink refused {key}")
        self.objects[key] = body

    def json(self, key: str) -> Any:
        return json.loads(self.objects[key])


def service(fail: bool = False) -> EmbeddingService:
    return EmbeddingService(FakeEmbedder(fail), RuntimeConfig(model_dir=str(Path("."))))


def record(message_id: str, body: str | dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:coldbrew-jobs",
        "awsRegion": "us-east-1",
    }


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def make(
    sink: MemorySink | None = None, *, fail: bool = False
) -> tuple[SqsBatchAdapter, MemorySink, list[dict[str, Any]]]:
    """An adapter over ``sink``; its log lines come back parsed."""
    memory = sink if sink is not None else MemorySink()
    logged: list[dict[str, Any]] = []
    adapter = SqsBatchAdapter(
        service(fail), lambda: memory, log=lambda line: logged.append(json.loads(line))
    )
    return adapter, memory, logged


def failures(reply: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in reply["batchItemFailures"]]


def refusal(sink: MemorySink, key: str) -> dict[str, Any]:
    """The stored refusal at ``key``, checked to have the HTTP path's error shape."""
    document: dict[str, Any] = sink.json(key)
    assert set(document) == {"id", "messageId", "status", "error"}, document
    assert set(document["error"]) == {"code", "message", "request_id"}
    assert document["error"]["request_id"] == document["messageId"]
    assert 400 <= document["status"] < 500
    return document


def test_one_poisoned_message_is_answered_with_its_refusal_and_nothing_is_lost() -> None:
    adapter, sink, logged = make()
    reply = adapter(
        batch(
            record("m-1", {"id": "doc-1", "inputs": ["one", "three"]}),
            record("m-2", "{not json"),
            record("m-3", {"inputs": "four"}),
        )
    )
    assert failures(reply) == []  # bad input is answered, not retried into the DLQ
    assert sorted(sink.objects) == ["results/doc-1.json", "results/m-2.json", "results/m-3.json"]
    bad = refusal(sink, "results/m-2.json")
    assert (bad["status"], bad["error"]["code"]) == (400, "invalid_request")
    assert "not valid JSON" in bad["error"]["message"]
    first = sink.json("results/doc-1.json")
    assert first == {
        "id": "doc-1",
        "messageId": "m-1",
        "model": "fake",
        "dimensions": 2,
        "embeddings": [[1.0, 0.0], [1.0, 0.0]],
    }
    assert sink.json("results/m-3.json")["id"] == "m-3"  # no id: named by its messageId
    assert len(logged) == 1
    line = logged[0]
    assert line["messageId"] == "m-2" and line["errorType"] == "InvalidRequestError"
    assert line["stage"] == "parse" and "not valid JSON" in line["message"]
    assert (line["level"], line["event"]) == ("WARNING", "sqs_message_refused")
    assert "traceback" not in line


def test_a_refusal_that_cannot_be_stored_fails_so_it_comes_back() -> None:
    adapter, sink, logged = make(MemorySink(broken=("results/m-1.json",)))
    reply = adapter(batch(record("m-1", "{not json"), record("m-2", {"inputs": ["ok"]})))
    assert failures(reply) == ["m-1"]
    assert list(sink.objects) == ["results/m-2.json"]
    assert [(x["stage"], x["level"]) for x in logged] == [("store", "ERROR")]


def test_a_refused_message_with_no_usable_name_fails() -> None:
    adapter, sink, logged = make()
    reply = adapter(batch(record("m/1", {"id": "../x", "inputs": ["x"]})))
    assert failures(reply) == ["m/1"]  # nothing can name its refusal: the DLQ keeps it
    assert not sink.objects
    assert logged[0]["level"] == "ERROR" and "'id' must be" in logged[0]["message"]


def test_a_sink_failure_reports_only_that_message() -> None:
    adapter, sink, logged = make(MemorySink(broken=("results/b.json",)))
    reply = adapter(
        batch(
            record("m-1", {"id": "a", "inputs": ["x"]}),
            record("m-2", {"id": "b", "inputs": ["y"]}),
            record("m-3", {"id": "c", "inputs": ["z"]}),
        )
    )
    assert failures(reply) == ["m-2"]
    assert sorted(sink.objects) == ["results/a.json", "results/c.json"]
    assert [(x["messageId"], x["stage"], x["id"]) for x in logged] == [("m-2", "store", "b")]
    assert logged[0]["errorType"] == "OSError"


@pytest.mark.parametrize(
    "bad_id", ["../etc/passwd", "a/b", "", ".hidden", "x" * 129, 7, None, "sp ace", "é"]
)
def test_an_unsafe_id_is_refused_under_the_message_id(bad_id: object) -> None:
    adapter, sink, logged = make()
    reply = adapter(
        batch(
            record("m-1", {"id": bad_id, "inputs": ["x"]}),
            record("m-2", {"id": "A.b_c-9", "inputs": ["y"]}),
        )
    )
    assert failures(reply) == []
    assert sorted(sink.objects) == ["results/A.b_c-9.json", "results/m-1.json"]
    assert "'id' must be" in refusal(sink, "results/m-1.json")["error"]["message"]
    assert "'id' must be" in logged[0]["message"]


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"inputs": ["a"] * 65}, "PayloadTooLargeError"),
        ({"inputs": []}, "InvalidRequestError"),
        ({"inputs": ["a"], "extra": 1}, "InvalidRequestError"),
        (["a"], "InvalidRequestError"),
        ("", "InvalidRequestError"),
    ],
)
def test_refused_input_is_stored_as_a_refusal_without_a_traceback(
    body: Any, error_type: str
) -> None:
    adapter, sink, logged = make()
    reply = adapter(batch(record("m-1", body), record("m-2", {"inputs": ["ok"]})))
    assert failures(reply) == []
    assert sorted(sink.objects) == ["results/m-1.json", "results/m-2.json"]
    status = refusal(sink, "results/m-1.json")["status"]
    assert status == (413 if error_type == "PayloadTooLargeError" else 400)
    assert logged[0]["errorType"] == error_type and "traceback" not in logged[0]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('{"inputs": [' + "9" * 5000 + "]}", "too many digits"),
        ('{"inputs": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ('{"inputs": ["fine", "\\udc00"]}', "lone surrogate"),
        ('{"inputs": ["\ud800"]}', "not UTF-8"),
        ('{"inputs": ["  "]}', "only whitespace"),
        ('{"inputs": [NaN]}', "NaN is not JSON"),
        ('{"id": ' + "[" * 400 + "]" * 400 + ', "inputs": ["a"]}', "'id' must be"),
    ],
)
def test_valid_json_python_cannot_take_is_bad_input_not_a_bug(body: str, needle: str) -> None:
    adapter, sink, logged = make()
    reply = adapter(batch(record("m-1", body), record("m-2", {"inputs": ["ok"]})))
    assert failures(reply) == []
    assert needle in refusal(sink, "results/m-1.json")["error"]["message"]
    (line,) = logged
    assert (line["stage"], line["errorType"]) == ("parse", "InvalidRequestError")
    assert needle in line["message"] and "traceback" not in line


def test_a_record_that_is_not_sqs_fails_alone() -> None:
    adapter, sink, logged = make()
    stray = {**record("m-1", {"inputs": ["x"]}), "eventSource": "aws:kinesis"}
    no_body = record("m-2", {"inputs": ["x"]})
    del no_body["body"]
    reply = adapter(batch(stray, no_body, record("m-3", {"inputs": ["y"]})))
    assert failures(reply) == ["m-1"]  # not ours to answer: it goes back
    assert sorted(sink.objects) == ["results/m-2.json", "results/m-3.json"]
    assert "must be a string of JSON" in refusal(sink, "results/m-2.json")["error"]["message"]
    assert "aws:kinesis" in logged[0]["message"]


def test_a_model_crash_fails_every_message_and_logs_the_traceback() -> None:
    adapter, sink, logged = make(fail=True)
    reply = adapter(batch(record("m-1", {"inputs": ["x"]}), record("m-2", {"inputs": ["y"]})))
    assert failures(reply) == ["m-1", "m-2"]  # the second was still attempted
    assert not sink.objects
    assert all(x["stage"] == "embed" and "model exploded" in x["traceback"] for x in logged)


def test_an_empty_batch_succeeds_without_creating_the_sink() -> None:
    made: list[MemorySink] = []

    def factory() -> MemorySink:
        made.append(MemorySink())
        return made[-1]

    adapter = SqsBatchAdapter(service(), factory, log=lambda line: None)
    assert adapter({"Records": []}) == {"batchItemFailures": []}
    assert not made


def test_a_batch_with_a_record_without_message_id_is_refused_whole() -> None:
    adapter, sink, _ = make()
    nameless = record("m-2", {"inputs": ["y"]})
    del nameless["messageId"]
    with pytest.raises(InvalidRequestError, match=r"Records\[1\] has no messageId"):
        adapter(batch(record("m-1", {"inputs": ["x"]}), nameless))
    assert not sink.objects  # nothing ran: the whole batch will be retried


def test_no_bucket_fails_every_message_naming_the_variable() -> None:
    clients: list[object] = []

    def make_client() -> Any:
        clients.append(object())
        raise AssertionError("no client may be made without a bucket")

    lines: list[str] = []
    adapter = SqsBatchAdapter(service(), lazy_s3_sink(AsyncConfig(), make_client), log=lines.append)
    event = batch(record("m-1", {"inputs": ["x"]}), record("m-2", {"inputs": ["y"]}))
    for _ in range(2):  # a later batch tries again, and fails the same way
        assert failures(adapter(event)) == ["m-1", "m-2"]
    logged = [json.loads(line) for line in lines]
    assert len(logged) == 4 and not clients
    assert {x["errorType"] for x in logged} == {"ConfigurationError"}
    assert all("COLDBREW_RESULT_BUCKET" in x["message"] for x in logged)


def test_no_sink_at_all_fails_every_message() -> None:
    lines: list[str] = []
    adapter = SqsBatchAdapter(service(), None, log=lines.append)
    assert failures(adapter(batch(record("m-1", {"inputs": ["x"]})))) == ["m-1"]
    assert json.loads(lines[0])["errorType"] == "ConfigurationError"


def test_the_lambda_adapter_routes_batches_and_creates_the_sink_lazily() -> None:
    sink = MemorySink()
    made: list[MemorySink] = []

    def factory() -> MemorySink:
        made.append(sink)
        return sink

    adapter = LambdaAdapter(service(), results=factory, result_prefix="out/")
    context = SimpleNamespace(aws_request_id="req-1")
    url_event = {
        "rawPath": "/embed",
        "body": '{"inputs": ["x"]}',
        "requestContext": {"http": {"method": "POST", "path": "/embed"}},
    }
    assert adapter(url_event, context)["statusCode"] == 200
    assert adapter({"inputs": ["x"]}, context)["dimensions"] == 2
    assert not made  # the URL and direct paths never create the sink
    for message_id in ("m-1", "m-2"):
        reply = adapter(batch(record(message_id, {"inputs": ["y"]})), context)
        assert reply == {"batchItemFailures": []}
    assert len(made) == 1 and sorted(sink.objects) == ["out/m-1.json", "out/m-2.json"]


def test_event_recognition_and_keys() -> None:
    assert is_sqs_event({"Records": []})
    assert not is_sqs_event({"inputs": ["x"]}) and not is_sqs_event(["Records"])
    assert result_key("results/", "doc") == "results/doc.json"


class FakeS3Client:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {}


def test_s3_sink_puts_json_objects_in_its_bucket() -> None:
    client = FakeS3Client()
    sink = lazy_s3_sink(AsyncConfig(result_bucket="bucket"), lambda: client)()
    assert isinstance(sink, S3ResultSink)
    sink.put("results/a.json", b"{}")
    assert client.calls == [
        {
            "Bucket": "bucket",
            "Key": "results/a.json",
            "Body": b"{}",
            "ContentType": "application/json",
        }
    ]


def test_async_config_from_env() -> None:
    assert AsyncConfig.from_env({}) == AsyncConfig(None, "results/")
    env = {"COLDBREW_RESULT_BUCKET": "b", "COLDBREW_RESULT_PREFIX": "emb/"}
    assert AsyncConfig.from_env(env) == AsyncConfig("b", "emb/")
    assert AsyncConfig.from_env({"COLDBREW_RESULT_BUCKET": ""}).result_bucket is None
    with pytest.raises(ConfigurationError, match="COLDBREW_RESULT_PREFIX"):
        AsyncConfig.from_env({"COLDBREW_RESULT_PREFIX": "/abs/"})
    with pytest.raises(ConfigurationError, match="COLDBREW_RESULT_BUCKET"):
        AsyncConfig(result_bucket="  ")


def test_initialization_type_defaults_to_on_demand() -> None:
    assert initialization_type({}) == "on-demand"
    assert initialization_type({"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}) == "snap-start"
