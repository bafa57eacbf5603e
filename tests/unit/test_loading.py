"""Loading an embedder in two steps: the session on a second thread, or in sequence.

Both ways must give the same embedder and fail with the same error, in the
order a sequential load meets them. No timing here: what the thread saves is
measured by ``coldbrew bench``.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from coldbrew.errors import ConfigurationError
from coldbrew.runtime import embedder as embedder_module
from coldbrew.runtime import loading
from coldbrew.runtime.embedder import OnnxEmbedder
from coldbrew.runtime.loading import start_loading

TEXTS = ["the cat sat on the mat", "a dog", "red", "the mat"]


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    return target


def _error(model_dir: Path, background: bool) -> BaseException:
    with pytest.raises(Exception) as caught:  # each case checks what it got
        start_loading(model_dir, background=background).result()
    return caught.value


@pytest.mark.parametrize(("threads", "expected"), [(1, False), (0, True), (2, True)])
def test_second_thread_only_with_more_than_one_cpu(
    tiny_model_dir: Path, threads: int, expected: bool
) -> None:
    # intra_op_threads 1 is config's answer for one vCPU or less (Lambda under ~2.6 GB).
    pending = start_loading(tiny_model_dir, intra_op_threads=threads)
    assert pending.background is expected
    pending.result()
    assert start_loading(tiny_model_dir, intra_op_threads=1, background=True).background


def test_both_ways_give_the_same_embeddings(tiny_model_dir: Path) -> None:
    rows = {}
    for background in (False, True):
        embedder = start_loading(
            tiny_model_dir, intra_op_threads=1, batch_size=2, background=background
        ).result()
        assert isinstance(embedder, OnnxEmbedder)
        rows[background] = [row.tobytes() for row in embedder.embed(TEXTS)]
    assert rows[True] == rows[False]
    # OnnxEmbedder.load is the same two steps.
    loaded = OnnxEmbedder.load(tiny_model_dir, intra_op_threads=1, batch_size=2)
    assert [row.tobytes() for row in loaded.embed(TEXTS)] == rows[False]


def test_result_is_the_same_embedder_every_time(tiny_model_dir: Path) -> None:
    pending = start_loading(tiny_model_dir, background=True)
    assert pending.result() is pending.result()


@pytest.mark.parametrize("background", [False, True])
def test_missing_files_fail_as_a_sequential_load_does(
    tiny_model_dir: Path, tmp_path: Path, background: bool
) -> None:
    model_dir = _copy(tiny_model_dir, tmp_path)
    (model_dir / "model.onnx").unlink()
    # The thread's own failure (ONNX Runtime's "no such file") is not what is reported.
    error = _error(model_dir, background)
    assert isinstance(error, ConfigurationError)
    assert error.message == f"model file not found: {model_dir / 'model.onnx'}"
    (model_dir / "manifest.json").unlink()
    error = _error(model_dir, background)
    assert isinstance(error, ConfigurationError)
    assert "model manifest not found" in error.message


def test_tokenizer_errors_come_before_session_errors_both_ways(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = _copy(tiny_model_dir, tmp_path)
    (model_dir / "model.onnx").write_bytes(b"not a model")
    broken_session = {bg: _error(model_dir, bg) for bg in (False, True)}
    assert {type(e) for e in broken_session.values()} == {ConfigurationError}
    assert str(broken_session[True]) == str(broken_session[False])
    assert "loading model" in str(broken_session[True])
    (model_dir / "tokenizer.json").write_text("{ not json")
    broken_both = {bg: _error(model_dir, bg) for bg in (False, True)}
    assert type(broken_both[True]) is type(broken_both[False])
    assert str(broken_both[True]) == str(broken_both[False])
    assert not isinstance(broken_both[True], ConfigurationError)  # the tokenizer's own error


def test_a_failing_init_waits_for_the_session_thread(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenizer_failed, finished = threading.Event(), threading.Event()
    real_session = loading.Session

    def failing_tokenizer(path: str, max_tokens: int) -> Any:
        tokenizer_failed.set()
        raise ValueError("broken tokenizer")

    def slow_session(*args: Any, **kwargs: Any) -> Any:
        session = real_session(*args, **kwargs)
        tokenizer_failed.wait(timeout=30)
        threading.Event().wait(0.2)  # still working after the tokenizer has failed
        finished.set()
        return session

    monkeypatch.setattr(embedder_module, "load_tokenizer", failing_tokenizer)
    monkeypatch.setattr(loading, "Session", slow_session)
    with pytest.raises(ValueError, match="broken tokenizer"):
        start_loading(tiny_model_dir, background=True).result()
    # The error reached the caller only once the thread was done with ONNX Runtime.
    assert finished.is_set()
