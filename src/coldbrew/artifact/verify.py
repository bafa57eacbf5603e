"""Verification of a slimmed task root against the unslimmed one, and of the
artifact's own accuracy against the original model (pure).

Two probe runs are *the same* when every event got the same answer: the
responses are compared as data, embeddings included, bit for bit (the probe
pins ONNX Runtime to one thread, so equivalent trees agree exactly).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coldbrew.artifact.smoke import embeddings_from
from coldbrew.artifact.trace import ProbeRun


def first_difference(reference: ProbeRun, candidate: ProbeRun) -> str | None:
    """None when ``candidate`` answered every event as ``reference`` did; else where not."""
    failure = candidate.failure()
    if failure is not None:
        return failure
    if len(candidate.results) != len(reference.results):
        return f"{len(candidate.results)} answers, expected {len(reference.results)}"
    for index, (want, got) in enumerate(zip(reference.results, candidate.results, strict=True)):
        if want != got:
            return f"event {index} answered differently: {json.dumps(got)[:200]}"
    return None


@dataclass(frozen=True)
class ArtifactAccuracy:
    """Cosine of the artifact's embeddings to the original model's, on the gate set."""

    sentences: int
    mean_cosine: float
    min_cosine: float
    threshold_mean: float
    threshold_min: float

    @property
    def passed(self) -> bool:
        """Both thresholds met."""
        return self.mean_cosine >= self.threshold_mean and self.min_cosine >= self.threshold_min

    def describe(self) -> str:
        """One line with the figures and the thresholds."""
        return (
            f"mean cosine {self.mean_cosine:.4f} (>= {self.threshold_mean}), "
            f"min {self.min_cosine:.4f} (>= {self.threshold_min}) on {self.sentences} sentences"
        )


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def artifact_accuracy(run: ProbeRun, gate: Mapping[str, Any]) -> ArtifactAccuracy | None:
    """Score the probe's gate-sentence embeddings against ``gate.json``; None if absent."""
    vectors = embeddings_from(run.results)
    reference = gate.get("embeddings")
    if vectors is None or not isinstance(reference, list) or len(vectors) > len(reference):
        return None
    cosines = [_cosine(v, r) for v, r in zip(vectors, reference, strict=False)]
    return ArtifactAccuracy(
        sentences=len(cosines),
        mean_cosine=sum(cosines) / len(cosines),
        min_cosine=min(cosines),
        threshold_mean=float(gate["threshold_mean"]),
        threshold_min=float(gate["threshold_min"]),
    )
