"""Reading and checking an ONNX graph's signature, on the tiny test model (no torch)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coldbrew.errors import ModelError
from coldbrew.models.graph import check_signature, read_signature, set_output_width

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
