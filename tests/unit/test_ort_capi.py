"""The ctypes binding of ONNX Runtime's C API, against the real library.

The build host's onnxruntime wheel ships ``libonnxruntime.so``; the binding
loads it and runs the tiny model, and its answers are compared with the
``onnxruntime`` Python package's (tests may import numpy and onnxruntime; the
runtime may not).
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from coldbrew.errors import ConfigurationError, InferenceError
from coldbrew.runtime.embedder import OnnxEmbedder
from coldbrew.runtime.ort_capi import OrtLibrary, Session, find_library

OUTPUT = "sentence_embedding"


class CountingLibrary(OrtLibrary):
    """The real library, counting what it releases, by kind."""

    def __init__(self) -> None:
        self.released: Counter[str] = Counter()
        super().__init__()

    def release(self, kind: str, handle: int | None) -> None:
        if handle:
            self.released[kind] += 1
        super().release(kind, handle)


@pytest.fixture(scope="module")
def library() -> Iterator[OrtLibrary]:
    lib = OrtLibrary()
    yield lib
    lib.close()


def _feeds(ids: list[list[int]]) -> dict[str, tuple[array[int], tuple[int, int]]]:
    shape = (len(ids), len(ids[0]))
    flat = [t for row in ids for t in row]
    return {
        "input_ids": (array("q", flat), shape),
        "attention_mask": (array("q", [1 if t else 0 for t in flat]), shape),
        "token_type_ids": (array("q", [0] * len(flat)), shape),
    }


def _reference(model: Path, feeds: dict[str, tuple[array[int], tuple[int, int]]]) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    inputs = {k: np.asarray(v, dtype=np.int64).reshape(s) for k, (v, s) in feeds.items()}
    (out,) = session.run([OUTPUT], inputs)
    return np.asarray(out)


def test_finds_the_library_the_onnxruntime_wheel_ships() -> None:
    path = find_library()
    package_capi = Path(ort.__file__).parent / "capi"
    assert Path(path).parent == package_capi
    assert Path(path).name.startswith("libonnxruntime.so")


def test_missing_library_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found; looked in: ") as caught:
        find_library([str(tmp_path)])
    assert str(tmp_path / "onnxruntime" / "capi") in caught.value.message
    with pytest.raises(ConfigurationError, match="cannot load ONNX Runtime"):
        OrtLibrary(tmp_path / "libonnxruntime.so.0")


def test_session_matches_the_python_binding(library: OrtLibrary, tiny_model_dir: Path) -> None:
    model = tiny_model_dir / "model.onnx"
    session = Session(library, model, intra_op_threads=1)
    assert session.input_names == ("input_ids", "attention_mask", "token_type_ids")
    assert session.output_names == (OUTPUT,)
    for ids in ([[2, 4, 5, 3]], [[2, 4, 5, 6, 3], [2, 7, 3, 0, 0]]):
        feeds = _feeds(ids)
        values, shape = session.run(OUTPUT, feeds)
        assert isinstance(values, array) and values.typecode == "f"
        expected = _reference(model, feeds)
        assert shape == expected.shape
        np.testing.assert_array_equal(np.asarray(values).reshape(shape), expected)
    session.close()
    session.close()  # idempotent
    with pytest.raises(InferenceError, match="closed"):
        session.run(OUTPUT, _feeds([[2, 3]]))


def test_embedder_rows_are_float_arrays_numpy_can_read(tiny_model_dir: Path) -> None:
    texts = ["the cat sat on the mat", "a dog", "red"]
    for batch_size in (1, 2):
        rows = OnnxEmbedder.load(tiny_model_dir, batch_size=batch_size).embed(texts)
        assert [type(r) for r in rows] == [array] * 3
        assert all(r.typecode == "f" and len(r.tolist()) == 8 for r in rows)
        matrix = np.asarray(rows)
        assert matrix.shape == (3, 8) and matrix.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    # One text alone matches the Python binding fed the same tokens.
    from tokenizers import Tokenizer

    tokens = Tokenizer.from_file(str(tiny_model_dir / "tokenizer.json")).encode(texts[0]).ids
    expected = _reference(tiny_model_dir / "model.onnx", _feeds([tokens]))
    np.testing.assert_allclose(matrix[0], expected[0], rtol=1e-6, atol=1e-6)


def test_missing_model_file_is_a_configuration_error_with_ort_message(
    library: OrtLibrary, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.onnx"
    with pytest.raises(ConfigurationError, match="loading model") as caught:
        Session(library, missing)
    assert str(missing) in caught.value.message
    assert "ONNX Runtime error 3" in caught.value.message  # ORT_NO_SUCHFILE


def test_bad_inputs_are_inference_errors_with_ort_message(
    library: OrtLibrary, tiny_model_dir: Path
) -> None:
    session = Session(library, tiny_model_dir / "model.onnx")
    with pytest.raises(InferenceError, match="Invalid output name"):
        session.run("no_such_output", _feeds([[2, 3]]))
    feeds = _feeds([[2, 4, 3]])
    feeds["attention_mask"] = (array("q", [1, 1]), (1, 2))  # disagrees with input_ids
    with pytest.raises(InferenceError, match="running the model: ONNX Runtime error"):
        session.run(OUTPUT, feeds)
    feeds = _feeds([[2, 4, 3]])
    feeds["input_ids"] = (array("q", [2, 4]), (1, 3))  # buffer shorter than its shape
    with pytest.raises(InferenceError, match="creating input tensor 'input_ids'"):
        session.run(OUTPUT, feeds)
    with pytest.raises(InferenceError, match="int64"):
        session.run(OUTPUT, {"input_ids": (array("i", [2, 3]), (1, 2))})
    session.close()


def test_everything_allocated_is_released(tiny_model_dir: Path) -> None:
    lib = CountingLibrary()
    session = Session(lib, tiny_model_dir / "model.onnx")
    assert lib.released == Counter(SessionOptions=1)
    for _ in range(3):
        session.run(OUTPUT, _feeds([[2, 4, 3]]))
    # Per run: three input tensors and the output, and the output's shape info.
    assert lib.released["Value"] == 3 * 4
    assert lib.released["TensorTypeAndShapeInfo"] == 3
    assert lib.released["Status"] == 0
    with pytest.raises(InferenceError):
        session.run("no_such_output", _feeds([[2, 3]]))
    assert lib.released["Status"] == 1  # the error's status, after reading its message
    assert lib.released["Value"] == 3 * 4 + 3  # the inputs of the failed run too
    session.close()
    lib.close()
    assert lib.released["Session"] == lib.released["MemoryInfo"] == lib.released["Env"] == 1
    with pytest.raises(ConfigurationError, match="closed"):
        Session(lib, tiny_model_dir / "model.onnx")


def test_session_config_entries_reach_onnx_runtime(
    library: OrtLibrary, tiny_model_dir: Path
) -> None:
    spinning = {"session.intra_op.allow_spinning": "0"}
    Session(library, tiny_model_dir / "model.onnx", config=spinning).close()
    with pytest.raises(ConfigurationError, match="setting session option"):
        Session(library, os.fspath(tiny_model_dir / "model.onnx"), config={"": "x"})
