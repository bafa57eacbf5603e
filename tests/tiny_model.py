"""A tiny, real embedding model for tests: an ONNX graph and a tokenizer.

Same interface as a built recipe (``model.onnx``, ``tokenizer.json``,
``manifest.json``; inputs ``input_ids``/``attention_mask``/``token_type_ids``,
output ``sentence_embedding``), but a few kilobytes and built in milliseconds
without torch: embedding lookup, masked mean pooling, L2 normalisation.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

WORDS = "the a cat dog sat on mat ran fast slow red blue green big small".split()
DIMENSIONS = 8


def _tokenizer_json(path: Path, max_tokens: int) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    vocab.update({word: i + 4 for i, word in enumerate(WORDS)})
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.save(str(path))


def _onnx_model(path: Path, vocab_size: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    table = rng.standard_normal((vocab_size, DIMENSIONS)).astype(np.float32)
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])
    types = helper.make_tensor_value_info(
        "token_type_ids", TensorProto.INT64, ["batch", "sequence"]
    )
    out = helper.make_tensor_value_info(
        "sentence_embedding", TensorProto.FLOAT, ["batch", DIMENSIONS]
    )
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axis_last"], ["mask_3d"]),
        helper.make_node("Mul", ["tokens", "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis_seq"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask_3d", "axis_seq"], ["count"], keepdims=0),
        helper.make_node("Max", ["count", "one"], ["count_safe"]),
        helper.make_node("Div", ["summed", "count_safe"], ["mean"]),
        helper.make_node("LpNormalization", ["mean"], ["sentence_embedding"], axis=-1, p=2),
        # token_type_ids is accepted (as BERT's is) but unused.
        helper.make_node("Shape", ["token_type_ids"], ["unused_shape"]),
    ]
    initializers = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_seq"),
        numpy_helper.from_array(np.array([1e-9], dtype=np.float32), "one"),
    ]
    graph = helper.make_graph(nodes, "tiny", [ids, mask, types], [out], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_tiny_model(model_dir: Path, *, name: str = "tiny", max_tokens: int = 16) -> Path:
    """Write a complete model directory (with manifest) into ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    _tokenizer_json(model_dir / "tokenizer.json", max_tokens)
    _onnx_model(model_dir / "model.onnx", vocab_size=len(WORDS) + 4)
    files = {
        f: {
            "sha256": hashlib.sha256((model_dir / f).read_bytes()).hexdigest(),
            "bytes": (model_dir / f).stat().st_size,
        }
        for f in ("model.onnx", "tokenizer.json")
    }
    manifest = {
        "schema": 1,
        "name": name,
        "version": "0.0.1",
        "task": "sentence-embedding",
        "dimensions": DIMENSIONS,
        "max_tokens": max_tokens,
        "files": files,
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return model_dir
