"""Reading and checking an ONNX graph's signature, on the tiny test model (no torch)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coldbrew.errors import ModelError
from coldbrew.models.graph import (
    check_signature,
    read_signature,
    save_with_external_data,
    set_output_width,
)

pytest.importorskip("onnx")

INT64_IO = {"dtype": "int64", "shape": ["batch", "sequence"]}
OUTPUT = [{"name": "sentence_embedding", "dtype": "float32", "shape": ["batch", 8]}]


def test_read_signature_describes_the_tiny_model(tiny_model_dir: Path) -> None:
    inputs, outputs, opset = read_signature(tiny_model_dir / "model.onnx")
    names = ("input_ids", "attention_mask", "token_type_ids")
    assert inputs == [{"name": name, **INT64_IO} for name in names]
    assert outputs == OUTPUT
    assert opset == 17
    check_signature(inputs, outputs, 8)


def test_set_output_width_replaces_a_symbolic_width(tiny_model_dir: Path, tmp_path: Path) -> None:
    import onnx

    path = tmp_path / "model.onnx"
    shutil.copy(tiny_model_dir / "model.onnx", path)
    model = onnx.load(str(path))
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_param = "Div_dim_1"
    onnx.save(model, str(path))
    assert read_signature(path)[1][0]["shape"] == ["batch", "Div_dim_1"]
    set_output_width(path, 8)
    assert read_signature(path)[1] == OUTPUT


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        ([{"name": "input_ids", **INT64_IO}], OUTPUT, "graph inputs are"),
        (
            [{"name": n, **INT64_IO} for n in ("input_ids", "attention_mask", "position_ids")],
            OUTPUT,
            "graph inputs are",
        ),
        (
            [
                {"name": "input_ids", **INT64_IO},
                {"name": "attention_mask", "dtype": "int32", "shape": ["batch", "sequence"]},
            ],
            OUTPUT,
            "is not int64",
        ),
        (
            [{"name": n, **INT64_IO} for n in ("input_ids", "attention_mask")],
            [{"name": "last_hidden_state", "dtype": "float32", "shape": ["batch", 8]}],
            "graph outputs are",
        ),
        (
            [{"name": n, **INT64_IO} for n in ("input_ids", "attention_mask")],
            [{"name": "sentence_embedding", "dtype": "float32", "shape": ["batch", 16]}],
            "graph outputs are",
        ),
    ],
)
def test_check_signature_refuses_graphs_the_runtime_cannot_feed(
    inputs: list[dict[str, object]], outputs: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        check_signature(inputs, outputs, 8)


def write_dense_model(path: Path) -> None:
    """y = x @ W + b with a 2 KiB weight (external) and a 128-byte bias (inline)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((16, 32)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(32).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
        "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])],
        [weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what ONNX Runtime 1.20 reads
    onnx.save(model, str(path))


def test_save_with_external_data_moves_the_weights_beside_the_graph(tmp_path: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    source = tmp_path / "dense.onnx"
    write_dense_model(source)
    out = tmp_path / "out" / "model.onnx"
    out.parent.mkdir()
    (out.parent / "model.onnx.data").write_bytes(b"stale bytes from an earlier save")
    save_with_external_data(source, out, "model.onnx.data")

    data = out.parent / "model.onnx.data"
    # Replaced, not appended to (onnx appends to an existing file).
    assert data.stat().st_size == 16 * 32 * 4
    assert data.stat().st_mode & 0o777 == 0o644
    graph = onnx.load(str(out), load_external_data=False).graph
    moved = {t.name: {e.key: e.value for e in t.external_data} for t in graph.initializer}
    # The weight (2 KiB) moves; the bias (128 bytes, under size_threshold) stays inline.
    assert moved == {"W": {"location": "model.onnx.data", "offset": "0", "length": "2048"}, "b": {}}

    # Same weights, same answers: ONNX Runtime loads the pair like the single file.
    x = np.random.default_rng(1).standard_normal((1, 16)).astype(np.float32)
    before = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    after = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(after.run(None, {"x": x})[0], before.run(None, {"x": x})[0])


def test_save_with_external_data_refuses_a_model_with_nothing_to_move(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # The tiny test model's tensors are all under 1 KiB: no data file would be
    # written, and a model directory without one is incomplete.
    with pytest.raises(ModelError, match="no external data file"):
        save_with_external_data(tiny_model_dir / "model.onnx", tmp_path / "model.onnx", "m.data")
