"""The accuracy gate: the built model must agree with the original.

The original sentence-transformers model embeds a fixed sentence set; the built
model embeds it through the real runtime (:class:`OnnxEmbedder`), once per
batch size, because dynamic quantization makes a text's vector depend slightly
on its batch neighbours. Each sentence keeps its worst cosine, and the mean
and minimum of those must clear the recipe's thresholds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coldbrew.errors import AccuracyGateError, ModelError
from coldbrew.models.recipe import AccuracySpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]
    Vectors = npt.NDArray[np.floating[Any]]
else:
    Matrix = Vectors = Any

#: Output rows further than this from unit length mean normalisation is broken.
NORM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class AccuracyReport:
    """Cosine agreement between reference and built model on the gate set."""

    sentences: int
    mean_cosine: float
    min_cosine: float
    worst_sentence: str
    threshold_mean: float
    threshold_min: float

    @property
    def passed(self) -> bool:
        """Whether both thresholds are met."""
        return self.mean_cosine >= self.threshold_mean and self.min_cosine >= self.threshold_min

    def as_manifest(self) -> dict[str, Any]:
        """The manifest's ``accuracy`` section."""
        return {
            "sentences": self.sentences,
            "mean_cosine": round(self.mean_cosine, 6),
            "min_cosine": round(self.min_cosine, 6),
            "threshold_mean": self.threshold_mean,
            "threshold_min": self.threshold_min,
        }

    def check(self) -> None:
        """Raise :class:`AccuracyGateError` with the figures unless the gate passes."""
        if self.passed:
            return
        worst = (
            self.worst_sentence
            if len(self.worst_sentence) <= 60
            else (self.worst_sentence[:57] + "...")
        )
        raise AccuracyGateError(
            f"accuracy gate failed on {self.sentences} sentences: "
            f"mean cosine {self.mean_cosine:.4f} (needs >= {self.threshold_mean}), "
            f"min cosine {self.min_cosine:.4f} (needs >= {self.threshold_min}); "
            f"worst: {worst!r}"
        )


def read_sentences(path: Path, *, minimum: int) -> list[str]:
    """The gate set: one sentence per line, blank lines ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read gate sentences {path}: {exc.strerror}") from None
    sentences = [line.strip() for line in lines if line.strip()]
    if len(sentences) < minimum:
        raise ModelError(f"{path} holds {len(sentences)} sentences, the gate needs {minimum}")
    return sentences


def compare(
    reference: Vectors,
    candidates: Sequence[Vectors],
    sentences: Sequence[str],
    spec: AccuracySpec,
) -> AccuracyReport:
    """Score each candidate run against ``reference``, keeping each row's worst cosine.

    Candidate rows must be unit length (the graph normalises); anything else is
    a broken export, reported as :class:`ModelError` rather than a low score.
    """
    import numpy as np

    ref = np.asarray(reference, dtype=np.float64)
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    worst = np.full(len(sentences), np.inf)
    for run in candidates:
        rows = np.asarray(run, dtype=np.float64)
        if rows.shape != ref.shape:
            raise ModelError(f"built model returned shape {rows.shape}, expected {ref.shape}")
        norms = np.linalg.norm(rows, axis=1)
        drift = float(np.max(np.abs(norms - 1.0)))
        if drift > NORM_TOLERANCE:
            raise ModelError(f"built model's embeddings are not unit length (off by {drift:.2e})")
        worst = np.minimum(worst, np.sum(rows * ref, axis=1) / norms)
    index = int(np.argmin(worst))
    return AccuracyReport(
        sentences=len(sentences),
        mean_cosine=float(np.mean(worst)),
        min_cosine=float(worst[index]),
        worst_sentence=sentences[index],
        threshold_mean=spec.threshold_mean,
        threshold_min=spec.threshold_min,
    )


def reference_embeddings(source_dir: Path, sentences: Sequence[str], max_tokens: int) -> Matrix:
    """Embed with the original sentence-transformers model, truncating at ``max_tokens``."""
    import numpy as np

    from coldbrew.models.export import import_transformers

    import_transformers()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(source_dir), device="cpu")
    # Pin the reference to the same truncation as the built tokenizer, whatever
    # the package's config says, so the gate compares like with like.
    model.max_seq_length = max_tokens
    if model.max_seq_length != max_tokens:
        raise ModelError(f"reference model refused max_seq_length {max_tokens}")
    vectors = model.encode(list(sentences), batch_size=16, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def built_embeddings(model_dir: Path, sentences: Sequence[str], batch_size: int) -> Matrix:
    """Embed through the runtime exactly as a deployed function would."""
    import numpy as np

    from coldbrew.runtime.embedder import OnnxEmbedder

    embedder = OnnxEmbedder.load(model_dir, batch_size=batch_size)
    # The runtime returns array.array("f") rows (it carries no numpy); the gate is numpy.
    return np.asarray(embedder.embed(list(sentences)), dtype=np.float32)


def run_gate(
    reference: Vectors, model_dir: Path, sentences: Sequence[str], spec: AccuracySpec
) -> AccuracyReport:
    """Compare the built model in ``model_dir`` with the original; do not raise on failure."""
    runs = [built_embeddings(model_dir, sentences, size) for size in spec.batch_sizes]
    return compare(reference, runs, sentences, spec)


def write_gate_file(
    path: Path, sentences: Sequence[str], reference: Vectors, spec: AccuracySpec
) -> None:
    """Keep the gate set and the original's embeddings beside the model (``gate.json``).

    The artifact builder scores the artifact's own runtime against these, so a
    different ONNX Runtime in the artifact cannot drift past the thresholds unseen.
    """
    payload = {
        "schema": 1,
        "threshold_mean": spec.threshold_mean,
        "threshold_min": spec.threshold_min,
        "sentences": list(sentences),
        "embeddings": [[round(float(x), 7) for x in row] for row in reference],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False) + "\n", encoding="utf-8")
