"""The real handler module on an SQS batch, writing through a real boto3 S3 client to moto.

The handler file shipped in artifacts is loaded as Lambda loads it (module
scope: config from the environment, model load), over the tiny model, or the
real MiniLM build for the ``slow`` case. boto3 is the one Lambda's runtime
provides; here moto stands in for S3, in process.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "handlers" / "aws" / "lambda_function.py"
MINILM_DIST = ROOT / "models" / "minilm-l6-v2" / "dist"
BUCKET = "coldbrew-results"
CONTEXT = SimpleNamespace(aws_request_id="req-sqs")
TEXTS = ["the cat sat on the mat", "a big red dog ran fast", "blue green small"]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a region for boto3; moto intercepts every call."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    monkeypatch.delenv("COLDBREW_RESULT_PREFIX", raising=False)
    with mock_aws():
        yield


def load_handler(model_dir: Path, monkeypatch: pytest.MonkeyPatch, bucket: str | None) -> Any:
    """Import the handler file afresh, as Lambda's init does, under a unique name."""
    monkeypatch.setenv("COLDBREW_MODEL_DIR", str(model_dir))
    if bucket is None:
        monkeypatch.delenv("COLDBREW_RESULT_BUCKET", raising=False)
    else:
        monkeypatch.setenv("COLDBREW_RESULT_BUCKET", bucket)
    spec = importlib.util.spec_from_file_location(f"handler_{id(model_dir)}", HANDLER)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:coldbrew-jobs",
        "awsRegion": "us-east-1",
    }


def poisoned_batch() -> dict[str, Any]:
    return {
        "Records": [
            record("11111111-1111-4111-8111-111111111111", json.dumps({"inputs": TEXTS[:2]})),
            record("22222222-2222-4222-8222-222222222222", '{"inputs": ["the cat"'),  # cut off
            record(
                "33333333-3333-4333-8333-333333333333",
                json.dumps({"id": "doc-3", "inputs": TEXTS[2]}),
            ),
        ]
    }


def read_result(key: str) -> Any:
    s3 = boto3.client("s3")
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@pytest.mark.parametrize(
    "model",
    ["tiny", pytest.param("minilm", marks=pytest.mark.slow)],
)
def test_poisoned_message_is_answered_with_its_refusal_and_the_rest_land_in_s3(
    model: str,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model_dir = tiny_model_dir if model == "tiny" else MINILM_DIST
    if not (model_dir / "manifest.json").is_file():
        pytest.fail("the MiniLM model is not built: run `make model` (make test does)")
    dimensions = json.loads((model_dir / "manifest.json").read_text())["dimensions"]
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    handler = load_handler(model_dir, monkeypatch, BUCKET)

    reply = handler(poisoned_batch(), CONTEXT)

    assert reply == {"batchItemFailures": []}  # the poison is answered, not retried
    keys = sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [
        "results/11111111-1111-4111-8111-111111111111.json",
        "results/22222222-2222-4222-8222-222222222222.json",
        "results/doc-3.json",
    ]
    refused = read_result(keys[1])
    assert (refused["status"], refused["error"]["code"]) == (400, "invalid_request")
    assert "not valid JSON" in refused["error"]["message"]
    first = read_result(keys[0])
    assert first["id"] == first["messageId"] == "11111111-1111-4111-8111-111111111111"
    assert first["dimensions"] == dimensions and len(first["embeddings"]) == 2
    third = read_result("results/doc-3.json")
    assert third["messageId"] == "33333333-3333-4333-8333-333333333333"
    assert len(third["embeddings"]) == 1
    for row in first["embeddings"] + third["embeddings"]:
        assert len(row) == dimensions
        assert math.isclose(math.sqrt(sum(x * x for x in row)), 1.0, abs_tol=1e-4)
    # The same texts over the function URL path give the same vectors.
    direct = handler({"inputs": TEXTS[:2]}, CONTEXT)
    assert direct["embeddings"] == first["embeddings"] and direct["model"] == first["model"]
    # One JSON line for the one refusal, and no traceback: refused input is not a bug.
    err = capsys.readouterr().err
    refusals = [json.loads(line) for line in err.splitlines() if "sqs_message_refused" in line]
    assert "sqs_message_failed" not in err
    assert [(f["messageId"], f["errorType"]) for f in refusals] == [
        ("22222222-2222-4222-8222-222222222222", "InvalidRequestError")
    ]
    assert "Traceback" not in err


def test_a_missing_bucket_fails_every_message_and_loses_none(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bucket is configured but does not exist (moto starts empty): S3
    # refuses each put, so each message is reported and stays queued.
    handler = load_handler(tiny_model_dir, monkeypatch, BUCKET)
    event = {
        "Records": [record("m-1", '{"inputs": ["the cat"]}'), record("m-2", '{"inputs": "a"}')]
    }
    reply = handler(event, CONTEXT)
    assert [f["itemIdentifier"] for f in reply["batchItemFailures"]] == ["m-1", "m-2"]
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if "sqs_message" in x]
    assert {(x["stage"], x["errorType"]) for x in lines} == {("store", "NoSuchBucket")}


def test_no_bucket_configured_fails_every_message_without_touching_s3(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = load_handler(tiny_model_dir, monkeypatch, None)
    reply = handler({"Records": [record("m-1", '{"inputs": ["the cat"]}')]}, CONTEXT)
    assert reply == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines() if "sqs_message" in x]
    assert line["errorType"] == "ConfigurationError"
    assert "COLDBREW_RESULT_BUCKET" in line["message"]
    # The function URL path is unaffected by the missing bucket.
    assert handler({"inputs": ["the cat"]}, CONTEXT)["dimensions"] == 8
