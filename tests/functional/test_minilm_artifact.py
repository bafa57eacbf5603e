"""The real thing: the MiniLM artifact for python3.12 x86_64, built by the
builder from the recipe's output, served through the local function URL under
AWS's runtime client, and queried over HTTP.

Needs the model build (``make test`` runs ``coldbrew model build`` first).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coldbrew.artifact.builder import BuildOptions, build_artifact
from coldbrew.artifact.limits import DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT
from coldbrew.artifact.report import BuildReport
from coldbrew.artifact.target import Target
from coldbrew.emulate import EmulatorConfig, LocalFunctionUrl
from coldbrew.emulate.probe import FunctionUrlClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIST = ROOT / "models" / "minilm-l6-v2" / "dist"
CACHE_DIR = Path.home() / ".cache" / "coldbrew"
SENTENCES = [
    "A cold brew is coffee steeped in cold water for many hours.",
    "Cold-brewed coffee is made by soaking the grounds in cold water overnight.",
    "The function scaled to zero and started again on the next request.",
]


def _build(out: Path) -> BuildReport:
    if not (MODEL_DIST / "manifest.json").is_file():
        pytest.fail("the MiniLM model is not built: run `make model` (make test does)")
    options = BuildOptions(
        model="minilm-l6-v2",
        project_dir=ROOT,
        out_dir=out,
        cache_dir=CACHE_DIR,
        target=Target("3.12", "x86_64"),
    )
    return build_artifact(options)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    return _build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def served(built: BuildReport) -> Iterator[tuple[LocalFunctionUrl, FunctionUrlClient]]:
    config = EmulatorConfig(artifact=Path(built.artifact), cache_dir=CACHE_DIR, timeout_s=60)
    with LocalFunctionUrl(config) as server:
        client = FunctionUrlClient(server.url)
        yield server, client
        client.close()


def test_artifact_fits_lambda_and_is_reproducible(built: BuildReport, tmp_path: Path) -> None:
    assert built.zipped_bytes < DIRECT_UPLOAD_LIMIT
    assert built.unzipped_bytes < UNZIPPED_LIMIT
    assert _build(tmp_path).sha256 == built.sha256
    with zipfile.ZipFile(built.artifact) as zf:
        assert (
            zf.getinfo("model/model.onnx").file_size
            == json.loads((MODEL_DIST / "manifest.json").read_text())["files"]["model.onnx"][
                "bytes"
            ]
        )


def test_embeddings_over_http(served: tuple[LocalFunctionUrl, FunctionUrlClient]) -> None:
    server, client = served
    reply = client.embed(SENTENCES)
    assert reply.status == 200, reply.body
    assert reply.body["model"] == "minilm-l6-v2" and reply.body["dimensions"] == 384
    vectors = np.array(reply.body["embeddings"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > 0.6 > unrelated
    assert server.records[0].cold and server.records[0].init_ms


def test_served_embeddings_agree_with_the_original_model(
    served: tuple[LocalFunctionUrl, FunctionUrlClient],
) -> None:
    # gate.json holds the sentence-transformers model's own embeddings of the gate set.
    gate = json.loads((MODEL_DIST / "gate.json").read_text())
    _, client = served
    reply = client.embed(gate["sentences"][:64])
    assert reply.status == 200
    served_vectors = np.array(reply.body["embeddings"])
    cosines = np.sum(served_vectors * np.array(gate["embeddings"][:64]), axis=1)
    assert cosines.mean() >= gate["threshold_mean"]
    assert cosines.min() >= gate["threshold_min"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/embed", '{"inputs": [', 400),
        ("POST", "/embed", '{"inputs": "x", "extra": 1}', 400),
        ("POST", "/embed", '{"inputs": [1, 2]}', 400),
        ("POST", "/embed", '{"inputs": []}', 400),
        ("POST", "/embed", json.dumps({"inputs": ["x"] * 65}), 413),
        ("POST", "/embed", json.dumps({"inputs": ["y" * 10_001]}), 413),
        ("GET", "/nowhere", None, 404),
        ("DELETE", "/embed", None, 405),
    ],
)
def test_malformed_requests_get_4xx_json_and_serving_continues(
    served: tuple[LocalFunctionUrl, FunctionUrlClient],
    method: str,
    path: str,
    body: str | None,
    status: int,
) -> None:
    _, client = served
    reply = client.request(method, path, body)
    assert reply.status == status
    assert reply.body["error"]["message"] and reply.body["error"]["request_id"]
    health = client.request("GET", "/health")
    assert health.status == 200 and health.body["dimensions"] == 384


def test_long_input_is_truncated_not_refused(
    served: tuple[LocalFunctionUrl, FunctionUrlClient],
) -> None:
    _, client = served
    reply = client.embed(["token " * 1500])  # far past 256 tokens, under the char limit
    assert reply.status == 200
    assert math.isclose(float(np.linalg.norm(reply.body["embeddings"][0])), 1.0, abs_tol=1e-4)
