"""Text to unit-norm embedding vectors with ONNX Runtime and `tokenizers`.

The only runtime module that imports numpy, onnxruntime and tokenizers; all
three are what an artifact carries, and loading them is most of a cold start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from coldbrew.errors import ConfigurationError, InferenceError
from coldbrew.runtime.model_info import (
    MODEL_FILE,
    OUTPUT_NAME,
    TOKENIZER_FILE,
    ModelInfo,
    read_model_info,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]


class OnnxEmbedder:
    """Embeds texts in length-sorted batches with dynamic padding."""

    def __init__(
        self,
        session: Any,
        tokenizer: Tokenizer,
        info: ModelInfo,
        *,
        batch_size: int = 32,
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.info = info
        self._batch_size = batch_size
        self._input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike[str],
        *,
        intra_op_threads: int = 0,
        batch_size: int = 1,
    ) -> OnnxEmbedder:
        """Load the tokenizer, manifest and ONNX session from ``model_dir``."""
        info = read_model_info(model_dir)
        model_path, tokenizer_path = (
            os.path.join(model_dir, f) for f in (MODEL_FILE, TOKENIZER_FILE)
        )
        for required in (model_path, tokenizer_path):
            if not os.path.isfile(required):
                raise ConfigurationError(f"model file not found: {required}")
        tokenizer = Tokenizer.from_file(tokenizer_path)
        tokenizer.enable_truncation(max_length=info.max_tokens)
        # Pad each batch only to its longest member: most requests are short.
        pad_id = tokenizer.token_to_id("[PAD]")
        tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(
            model_path, sess_options=options, providers=["CPUExecutionProvider"]
        )
        return cls(session, tokenizer, info, batch_size=batch_size)

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Return one float32 row per text, in input order."""
        out = np.empty((len(texts), self.info.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            out[chunk] = self._run([texts[i] for i in chunk])
        return out

    def _run(self, texts: list[str]) -> Matrix:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        try:
            (result,) = self._session.run(
                [OUTPUT_NAME], {name: feeds[name] for name in self._input_names}
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise InferenceError(f"model inference failed: {type(exc).__name__}") from exc
        return np.asarray(result, dtype=np.float32)
