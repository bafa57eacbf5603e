"""``manifest.json``: what a built model is, how it was made and how good it is.

Other parts of coldbrew (the runtime, the artifact builder) read this file, so
its layout is a contract: schema 1, keys in the order written here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coldbrew.errors import ModelError
from coldbrew.models.recipe import Recipe

SCHEMA = 1
MODEL_FILE = "model.onnx"
#: The graph's weights, beside the graph as ONNX external data (``MODEL_FILE``
#: names it by this relative path, so the two must stay side by side). With the
#: weights outside the protobuf, ONNX Runtime 1.20.1 maps this file instead of
#: copying every initializer out of the parsed graph: session creation with a
#: cold page cache 59 -> 34 ms, memory 64 -> 41 MB, whole cold start 17-23 ms
#: faster (bench, n=30, paired), embeddings bit-identical.
DATA_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
#: The gate's sentences and the original model's embeddings of them. Not
#: shipped in artifacts: the artifact builder re-runs the gate against it in
#: the target runtime, whose ONNX Runtime may differ from the build host's.
GATE_FILE = "gate.json"
#: Everything a built model directory holds, and nothing else.
OUTPUT_FILES = (MODEL_FILE, DATA_FILE, TOKENIZER_FILE, GATE_FILE, MANIFEST_FILE)
HASHED_FILES = (MODEL_FILE, DATA_FILE, TOKENIZER_FILE, GATE_FILE)
#: The files that make up the int8 model itself: the manifest's ``int8_bytes``.
MODEL_FILES = (MODEL_FILE, DATA_FILE)

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(directory: Path) -> dict[str, dict[str, Any]]:
    """The manifest's ``files`` section for the model files in ``directory``."""
    return {
        name: {"sha256": sha256_file(directory / name), "bytes": (directory / name).stat().st_size}
        for name in HASHED_FILES
    }


def build_manifest(
    recipe: Recipe,
    *,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    opset: int,
    files: Mapping[str, Mapping[str, Any]],
    accuracy: Mapping[str, Any] | None,
    fp32_bytes: int,
    source_version: str,
    cache_key: str,
    tools: Mapping[str, str],
    fused: bool,
) -> dict[str, Any]:
    """Assemble a schema-1 manifest. ``accuracy`` is None only before the gate has run."""
    return {
        "schema": SCHEMA,
        "name": recipe.name,
        "version": recipe.version,
        "task": recipe.task,
        "dimensions": recipe.dimensions,
        "max_tokens": recipe.max_tokens,
        "opset": opset,
        "inputs": inputs,
        "outputs": outputs,
        "files": {name: dict(entry) for name, entry in files.items()},
        "accuracy": None if accuracy is None else dict(accuracy),
        "sizes": {
            "fp32_bytes": fp32_bytes,
            "int8_bytes": sum(int(files[name]["bytes"]) for name in MODEL_FILES),
        },
        "source": {"package": recipe.source.package, "version": source_version},
        "quantization": {
            "method": recipe.quantization.method,
            "weight_type": recipe.quantization.weight_type,
            "per_channel": recipe.quantization.per_channel,
            "fused": fused,
        },
        "build": {"cache_key": cache_key, **dict(tools)},
    }


def write_manifest(directory: Path, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest.json`` into ``directory``."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (directory / MANIFEST_FILE).write_text(text, encoding="utf-8")


def read_manifest(directory: Path) -> dict[str, Any]:
    """Read ``manifest.json`` from ``directory``; :class:`ModelError` if absent or broken."""
    path = directory / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no manifest at {path}") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"manifest {path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ModelError(f"manifest {path} is not a schema-{SCHEMA} manifest")
    return data


def verify_directory(directory: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Problems with ``directory`` against its manifest; empty when it is intact.

    Checks that exactly the expected files are present and that each hashed
    file has the size and sha256 the manifest records.
    """
    if not directory.is_dir():
        return [f"{directory} does not exist"]
    problems: list[str] = []
    present = sorted(p.name for p in directory.iterdir())
    if present != sorted(OUTPUT_FILES):
        problems.append(f"holds {present}, expected {sorted(OUTPUT_FILES)}")
    files = manifest.get("files")
    if not isinstance(files, Mapping) or sorted(files) != sorted(HASHED_FILES):
        return [*problems, "manifest lists the wrong files"]
    for name in HASHED_FILES:
        path, expected = directory / name, files[name]
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.stat().st_size != expected.get("bytes"):
            problems.append(f"{name} has {path.stat().st_size} bytes, expected {expected}")
        elif sha256_file(path) != expected.get("sha256"):
            problems.append(f"{name} does not match its sha256")
    return problems
