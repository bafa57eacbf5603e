"""Baseline (d) of ``coldbrew bench``, the floor of coldbrew's own stack.

The same least-work handler as the floor (c), on the libraries coldbrew's
artifact actually carries: tokenizers, and ONNX Runtime's C library through
the runtime's ctypes binding (``coldbrew.runtime.ort_capi``, shipped in the
artifact). At module scope it loads the tokenizer, creates the session (with
the coldbrew runtime's options) and runs one inference; its handler returns a
tiny JSON. It ships over the slim artifact's own tree, so the difference
between the two cold starts is what the rest of coldbrew's code (service,
contract, validation, adapter, manifest) costs.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from coldbrew.runtime.ort_capi import OrtLibrary, Session

_MODEL_DIR = Path(__file__).resolve().parent / "model"

tokenizer = Tokenizer.from_file(str(_MODEL_DIR / "tokenizer.json"))
session = Session(OrtLibrary(), _MODEL_DIR / "model.onnx", inter_op_threads=1)
_encoding = tokenizer.encode("A cold brew is coffee steeped in cold water for many hours.")
_shape = (1, len(_encoding.ids))
_feeds = {
    "input_ids": (array("q", _encoding.ids), _shape),
    "attention_mask": (array("q", _encoding.attention_mask), _shape),
    "token_type_ids": (array("q", _encoding.type_ids), _shape),
}
session.run("sentence_embedding", {name: _feeds[name] for name in session.input_names})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer every request with a tiny JSON: the floor measures init, not work."""
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": '{"ok": true}',
    }
