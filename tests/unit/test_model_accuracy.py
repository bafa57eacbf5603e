"""The accuracy gate's arithmetic and messages, on hand-made vectors (no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from coldbrew.errors import AccuracyGateError, ModelError
from coldbrew.models.accuracy import AccuracyReport, compare, read_sentences
from coldbrew.models.recipe import AccuracySpec

SPEC = AccuracySpec(
    sentences="s.txt", min_sentences=1, batch_sizes=(1, 32), threshold_mean=0.99, threshold_min=0.98
)
Rows = npt.NDArray[np.float32]
SENTENCES = ["first", "second", "third", "fourth"]


def unit_rows(seed: int, rows: int = 4, width: int = 16) -> Rows:
    matrix = np.random.default_rng(seed).standard_normal((rows, width))
    unit: Rows = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    return unit


def rotate_row(matrix: Rows, row: int, cosine: float) -> Rows:
    """A copy of ``matrix`` whose ``row`` has exactly ``cosine`` with the original."""
    out = matrix.copy()
    original = matrix[row]
    orthogonal = unit_rows(99, rows=1, width=matrix.shape[1])[0]
    orthogonal = orthogonal - orthogonal @ original * original
    orthogonal /= np.linalg.norm(orthogonal)
    out[row] = cosine * original + np.sqrt(1 - cosine**2) * orthogonal
    return out


def test_identical_embeddings_score_one() -> None:
    reference = unit_rows(1)
    report = compare(reference, [reference, reference], SENTENCES, SPEC)
    assert report.mean_cosine == pytest.approx(1.0)
    assert report.min_cosine == pytest.approx(1.0)
    assert report.passed
    report.check()


def test_each_sentence_keeps_its_worst_cosine_over_runs() -> None:
    reference = unit_rows(2)
    batch_one = rotate_row(reference, 1, 0.97)
    batch_many = rotate_row(reference, 3, 0.95)
    report = compare(reference, [batch_one, batch_many], SENTENCES, SPEC)
    assert report.min_cosine == pytest.approx(0.95, abs=1e-6)
    assert report.worst_sentence == "fourth"
    assert report.mean_cosine == pytest.approx((1 + 0.97 + 1 + 0.95) / 4, abs=1e-6)
    assert report.sentences == 4
    assert not report.passed


def test_a_scaled_reference_is_still_compared_by_angle() -> None:
    reference = unit_rows(3)
    assert compare(reference * 7.5, [reference], SENTENCES, SPEC).min_cosine == pytest.approx(1.0)


def test_the_failure_message_names_the_figures_and_the_worst_sentence() -> None:
    report = AccuracyReport(
        sentences=64,
        mean_cosine=0.9916,
        min_cosine=0.9781,
        worst_sentence="Hello world.",
        threshold_mean=0.99,
        threshold_min=0.98,
    )
    with pytest.raises(AccuracyGateError) as caught:
        report.check()
    message = caught.value.message
    assert "64 sentences" in message
    assert "mean cosine 0.9916 (needs >= 0.99)" in message
    assert "min cosine 0.9781 (needs >= 0.98)" in message
    assert "'Hello world.'" in message


@pytest.mark.parametrize(
    ("mean", "minimum", "passed"),
    [(0.99, 0.98, True), (0.9899, 0.99, False), (0.999, 0.9799, False)],
)
def test_thresholds_are_inclusive(mean: float, minimum: float, passed: bool) -> None:
    report = AccuracyReport(64, mean, minimum, "x" * 100, 0.99, 0.98)
    assert report.passed is passed
    assert report.as_manifest() == {
        "sentences": 64, "mean_cosine": mean, "min_cosine": minimum,
        "threshold_mean": 0.99, "threshold_min": 0.98,
    }  # fmt: skip


def test_non_unit_output_is_a_broken_export_not_a_low_score() -> None:
    reference = unit_rows(4)
    with pytest.raises(ModelError, match="not unit length"):
        compare(reference, [reference * 1.01], SENTENCES, SPEC)


def test_wrong_shape_is_reported() -> None:
    reference = unit_rows(5)
    with pytest.raises(ModelError, match=r"shape \(3, 16\)"):
        compare(reference, [reference[:3]], SENTENCES, SPEC)


def test_read_sentences_skips_blank_lines_and_enforces_the_minimum(tmp_path: Path) -> None:
    path = tmp_path / "sentences.txt"
    path.write_text("  Hello world. \n\n東京\n   \nx = 1 + 2\n", encoding="utf-8")
    assert read_sentences(path, minimum=3) == ["Hello world.", "東京", "x = 1 + 2"]
    with pytest.raises(ModelError, match="holds 3 sentences, the gate needs 50"):
        read_sentences(path, minimum=50)
    with pytest.raises(ModelError, match="cannot read gate sentences"):
        read_sentences(tmp_path / "absent.txt", minimum=1)
