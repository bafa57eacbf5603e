"""Fault injection on the SQS path, on moto: nothing is lost, nothing is stored twice.

A real (moto) SQS queue with a dead-letter queue and ``maxReceiveCount``, and a
real S3 bucket behind the real result sink. A small loop plays the event source
mapping with ``ReportBatchItemFailures``: receive a batch, invoke the Lambda
adapter, delete the messages it did not report; a function error (the handler
crashing) deletes nothing. The visibility timeout is 0, so a message that is
not deleted is received again at once.

Injected faults: the sandbox crashes mid-batch (an exception that is not an
``Exception``, as a process exit ends the invocation, raised by the embedder on
its Nth call), the model fails once (a transient error), S3 refuses a put
(twice for one key, always for another), an acknowledgement is lost (the same
message is redelivered after it was stored), a producer sends the same job
twice, and poisoned messages (bad JSON, JSON Python cannot hold, a lone
surrogate) arrive among good ones.

At the end every message is accounted for: its result in S3 under its id (for
poison, its refusal, stored after one receive instead of being retried), or
the message in the dead-letter queue; never both, never neither.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.platforms.result_sink import lazy_s3_sink
from coldbrew.runtime.model_info import ModelInfo
from coldbrew.runtime.service import EmbeddingService
from coldbrew.runtime.settings import AsyncConfig, RuntimeConfig

BUCKET = "coldbrew-results"
MAX_RECEIVES = 4
BATCH_SIZE = 4
CONTEXT = SimpleNamespace(aws_request_id="req-faults")


class SandboxCrash(BaseException):
    """The invocation dies (a process exit): not an Exception, so no handler catches it."""


class FaultyEmbedder:
    """Deterministic unit rows; crashes or fails on chosen calls (1-based), as the real one can."""

    info = ModelInfo(name="fake", version="1", dimensions=2, max_tokens=8)

    def __init__(self, crash_on: set[int], fail_on: set[int]) -> None:
        self.crash_on = crash_on
        self.fail_on = fail_on
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[array[float]]:
        self.calls += 1
        if self.calls in self.crash_on:
            raise SandboxCrash(f"sandbox died on embed call {self.calls}")
        if self.calls in self.fail_on:
            raise RuntimeError(f"model failed on embed call {self.calls}")
        for text in texts:
            text.encode("utf-8")  # as the Rust tokenizer does
        return [array("f", [1.0, 0.0] if len(t) % 2 else [0.0, 1.0]) for t in texts]


class FlakyS3:
    """A real boto3 S3 client (on moto) whose put_object fails for chosen keys."""

    def __init__(self, client: Any, failures: dict[str, int]) -> None:
        self._client = client
        self.failures = dict(failures)  # key -> puts still to fail (-1: always)
        self.puts: list[str] = []

    def put_object(self, **kwargs: Any) -> Any:
        key = kwargs["Key"]
        left = self.failures.get(key, 0)
        if left:
            self.failures[key] = left - 1 if left > 0 else left
            raise ConnectionError(f"injected: S3 refused {key}")
        self.puts.append(key)
        return self._client.put_object(**kwargs)


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def make_queues(sqs: Any) -> tuple[str, str]:
    """The jobs queue (visibility 0, redrive after MAX_RECEIVES) and its dead-letter queue."""
    dlq_url = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
    url = sqs.create_queue(
        QueueName="jobs",
        Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(policy)},
    )["QueueUrl"]
    return url, dlq_url


def as_record(message: dict[str, Any]) -> dict[str, Any]:
    """An SQS message as the event source mapping hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
        "awsRegion": "us-east-1",
    }


class EventSourceMapping:
    """Receive, invoke, delete what succeeded (ReportBatchItemFailures); a crash deletes nothing."""

    def __init__(self, sqs: Any, url: str, handler: LambdaAdapter, lose_acks: set[str]) -> None:
        self._sqs = sqs
        self._url = url
        self._handler = handler
        self.lose_acks = set(lose_acks)  # ids whose first delete is lost
        self.receives: dict[str, int] = {}
        self.crashes = 0

    def run(self, max_polls: int = 500) -> None:
        for _ in range(max_polls):
            messages = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=BATCH_SIZE,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                self.receives[message["MessageId"]] = self.receives.get(message["MessageId"], 0) + 1
            self._invoke(messages)
        raise AssertionError(f"the queue did not drain in {max_polls} polls")

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        try:
            reply = self._handler({"Records": [as_record(m) for m in messages]}, CONTEXT)
        except SandboxCrash:
            self.crashes += 1
            return  # a function error: the whole batch comes back
        failed = {item["itemIdentifier"] for item in reply["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] in failed:
                continue
            if message["MessageId"] in self.lose_acks:
                self.lose_acks.discard(message["MessageId"])
                continue  # the delete never reached SQS: the message is redelivered
            self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not batch.get("Messages"):
            return out
        for message in batch["Messages"]:
            out.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


POISON = {
    "bad-json": '{"id": "bad-json", "inputs": ["cut off"',
    "too-many-digits": '{"id": "too-many-digits", "inputs": [' + "7" * 5000 + "]}",
    "too-deep": '{"id": "too-deep", "inputs": ' + "[" * 5000 + "]" * 5000 + "}",
    "lone-surrogate": '{"id": "lone-surrogate", "inputs": ["\\ud800"]}',
    "blank": '{"id": "blank", "inputs": ["  "]}',
}


def test_every_message_is_stored_once_or_dead_lettered_under_faults() -> None:
    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    url, dlq_url = make_queues(sqs)
    good = [f"doc-{n:02d}" for n in range(16)]
    jobs = {name: json.dumps({"id": name, "inputs": [f"text {name}", "the cat"]}) for name in good}
    jobs.update(POISON)
    sent = {
        sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]: name
        for name, body in jobs.items()
    }
    # A producer retry: the same job sent again (a second message, the same result key).
    sent[sqs.send_message(QueueUrl=url, MessageBody=jobs["doc-03"])["MessageId"]] = "doc-03"
    by_name = {name: message_id for message_id, name in sent.items()}

    flaky = FlakyS3(s3, {"results/doc-05.json": 2, "results/doc-09.json": -1})
    embedder = FaultyEmbedder(crash_on={3}, fail_on={7})
    logged: list[dict[str, Any]] = []
    handler = LambdaAdapter(
        EmbeddingService(embedder, RuntimeConfig(model_dir=str(Path(".")))),
        results=lazy_s3_sink(AsyncConfig(result_bucket=BUCKET), lambda: flaky),
        sqs_log=lambda line: logged.append(json.loads(line)),
    )
    mapping = EventSourceMapping(sqs, url, handler, lose_acks={by_name["doc-01"]})
    mapping.run()

    # The faults happened: one crash, a lost ack redelivered, a model failure.
    assert mapping.crashes == 1
    assert mapping.receives[by_name["doc-01"]] >= 2 and flaky.puts.count("results/doc-01.json") >= 2
    assert any(line["stage"] == "embed" and "traceback" in line for line in logged)

    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    dead = {m["MessageId"]: m["Body"] for m in drain(sqs, dlq_url)}
    assert not drain(sqs, url)  # the queue is empty: nothing in flight, nothing left behind

    def refusal_key(message_id: str, name: str) -> str:
        # Poison whose id could be read is answered under it; the rest under its messageId.
        by_id, by_message = f"results/{name}.json", f"results/{message_id}.json"
        assert (by_id in stored) != (by_message in stored), (name, stored)
        return by_id if by_id in stored else by_message

    keys = {
        message_id: refusal_key(message_id, name) if name in POISON else f"results/{name}.json"
        for message_id, name in sent.items()
    }
    for message_id, name in sent.items():
        in_s3 = keys[message_id] in stored
        in_dlq = message_id in dead
        assert in_s3 != in_dlq, (name, in_s3, in_dlq)  # exactly one of the two: none lost
        assert in_dlq == (name == "doc-09"), name
    assert stored == {key for key in keys.values() if key != "results/doc-09.json"}
    for message_id, name in sent.items():
        if name == "doc-09":
            continue
        document = json.loads(s3.get_object(Bucket=BUCKET, Key=keys[message_id])["Body"].read())
        assert document["messageId"] in sent
        if name in POISON:
            assert document["messageId"] == message_id and document["status"] == 400
            assert document["error"]["code"] == "invalid_request"
        else:
            assert document["id"] == name and len(document["embeddings"]) == 2

    # Poison is bad input: answered with its refusal on its first receive, logged as such
    # (never as a bug), and never retried into the dead-letter queue.
    for name in POISON:
        lines = [line for line in logged if line["messageId"] == by_name[name]]
        assert len(lines) == mapping.receives[by_name[name]] == 1
        assert {line["errorType"] for line in lines} == {"InvalidRequestError"}
        assert all(line["stage"] == "parse" and "traceback" not in line for line in lines)
    store_failures = [line for line in logged if line.get("id") == "doc-09"]
    assert len(store_failures) == MAX_RECEIVES and {x["stage"] for x in store_failures} == {"store"}
