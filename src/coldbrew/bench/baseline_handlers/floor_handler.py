"""Baseline (c) of ``coldbrew bench``, the floor: the least a function serving
this model must do before its first answer.

At module scope it imports onnxruntime, numpy and tokenizers, loads the
tokenizer, creates the session (with the coldbrew runtime's options) and runs
one inference; its handler returns a tiny JSON. It ships over a slim build of
the same pins and model made with the numpy-stack rules
(``packaging/aws-lambda-numpy.toml``): coldbrew's own artifact carries neither
numpy nor the onnxruntime Python package (its runtime calls ONNX Runtime's C
API), so this floor is the least a function on the usual Python stack does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

_MODEL_DIR = Path(__file__).resolve().parent / "model"

tokenizer = Tokenizer.from_file(str(_MODEL_DIR / "tokenizer.json"))
_options = ort.SessionOptions()
_options.inter_op_num_threads = 1
_options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
# The same exact int8 arithmetic coldbrew's sessions use (ort_capi.EXACT_INT8), like for like.
_options.add_session_config_entry("session.x64quantprecision", "1")
session = ort.InferenceSession(
    str(_MODEL_DIR / "model.onnx"), sess_options=_options, providers=["CPUExecutionProvider"]
)
_encoding = tokenizer.encode("A cold brew is coffee steeped in cold water for many hours.")
_feeds = {
    "input_ids": np.array([_encoding.ids], dtype=np.int64),
    "attention_mask": np.array([_encoding.attention_mask], dtype=np.int64),
    "token_type_ids": np.array([_encoding.type_ids], dtype=np.int64),
}
session.run(None, {i.name: _feeds[i.name] for i in session.get_inputs()})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer every request with a tiny JSON: the floor measures init, not work."""
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": '{"ok": true}',
    }
