"""Text to unit-norm embedding vectors with ONNX Runtime's C API and `tokenizers`.

No numpy and no ``onnxruntime`` Python package: the session is driven through
:mod:`coldbrew.runtime.ort_capi` (ctypes over ``libonnxruntime.so``), inputs
are ``array.array("q")`` buffers and each output row is an ``array.array("f")``.
Importing numpy and the Python binding was most of a cold start; loading the C
library is a small part of it. The rows support ``.tolist()`` (the service's
JSON) and the buffer protocol (``numpy.asarray(rows)`` on a build host).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tokenizers import Tokenizer

from coldbrew.errors import ConfigurationError, InferenceError
from coldbrew.runtime.loading import start_loading
from coldbrew.runtime.model_info import OUTPUT_NAME, ModelInfo
from coldbrew.runtime.ort_capi import Session

if TYPE_CHECKING:
    from typing import TypeAlias

    #: One embedding: float32 values (typecode "f"), one per dimension.
    Row: TypeAlias = array[float]

_FEEDS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEmbedder:
    """Embeds texts in length-sorted batches with dynamic padding."""

    def __init__(
        self,
        session: Session,
        tokenizer: Tokenizer,
        info: ModelInfo,
        *,
        batch_size: int = 32,
    ) -> None:
        unknown = sorted(set(session.input_names) - set(_FEEDS))
        if unknown:
            raise ConfigurationError(
                f"model inputs {unknown} are not among the ones fed ({', '.join(_FEEDS)})"
            )
        if OUTPUT_NAME not in session.output_names:
            raise ConfigurationError(
                f"model has no output {OUTPUT_NAME!r} (it has {list(session.output_names)})"
            )
        self._session = session
        self._tokenizer = tokenizer
        self.info = info
        self._batch_size = max(1, batch_size)
        self._input_names = session.input_names

    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike[str],
        *,
        intra_op_threads: int = 0,
        batch_size: int = 1,
    ) -> OnnxEmbedder:
        """Load the tokenizer, manifest and ONNX session from ``model_dir``.

        When the CPU allows, the session is created on a second thread while
        the tokenizer loads (:func:`coldbrew.runtime.loading.start_loading`).
        """
        return start_loading(
            model_dir, intra_op_threads=intra_op_threads, batch_size=batch_size
        ).result()

    def embed(self, texts: Sequence[str]) -> list[Row]:
        """Return one float32 row (``array.array("f")``) per text, in input order."""
        rows: list[Row | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            for i, row in zip(chunk, self._run([texts[i] for i in chunk]), strict=True):
                rows[i] = row
        return [row for row in rows if row is not None]

    def _run(self, texts: list[str]) -> list[Row]:
        encodings = self._tokenizer.encode_batch(texts)
        shape = (len(encodings), len(encodings[0].ids) if encodings else 0)
        feeds = {
            "input_ids": array("q", [t for e in encodings for t in e.ids]),
            "attention_mask": array("q", [t for e in encodings for t in e.attention_mask]),
            "token_type_ids": array("q", [t for e in encodings for t in e.type_ids]),
        }
        flat, out_shape = self._session.run(
            OUTPUT_NAME, {name: (feeds[name], shape) for name in self._input_names}
        )
        width = self.info.dimensions
        if out_shape != (len(texts), width):
            raise InferenceError(
                f"model returned shape {out_shape}, expected ({len(texts)}, {width})"
            )
        return [flat[i * width : (i + 1) * width] for i in range(len(texts))]


def load_tokenizer(path: str, max_tokens: int) -> Tokenizer:
    """The tokenizer at ``path``, truncating at ``max_tokens`` and padding each batch."""
    tokenizer = Tokenizer.from_file(path)
    tokenizer.enable_truncation(max_length=max_tokens)
    # Pad each batch only to its longest member: most requests are short.
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer
