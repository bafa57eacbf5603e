"""Every session computes int8 products exactly, whatever the host CPU.

ONNX Runtime's default uint8 x int8 kernel on x86 CPUs without VNNI adds
pairs of products in saturating 16-bit arithmetic. This graph makes every
pair saturate: 64 activations that quantize to 255 against weights of 127,
so each pair is 2 x 255 x 127 = 64,770 > 32,767. Exact arithmetic gives
64 x 255 x 127 = 2,072,640 per output; the saturating kernel gives
32 x 32,767 = 1,048,544. On a VNNI host both paths are exact, so this test
can only fail on a CPU without VNNI, the kind it guards (this project's CI
machine is one).
"""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from coldbrew.runtime.ort_capi import EXACT_INT8, OrtLibrary, Session

EXACT = 64 * 255 * 127


def saturating_graph(path: Path) -> Path:
    """int64 X -> float -> DynamicQuantizeLinear -> MatMulInteger(W=127, zero points) -> float."""
    weights = numpy_helper.from_array(np.full((64, 8), 127, dtype=np.int8), "W")
    weight_zero = numpy_helper.from_array(np.zeros(8, dtype=np.int8), "WZ")
    nodes = [
        helper.make_node("Cast", ["X"], ["Xf"], to=TensorProto.FLOAT),
        helper.make_node("DynamicQuantizeLinear", ["Xf"], ["Xq", "Xs", "Xz"]),
        helper.make_node("MatMulInteger", ["Xq", "W", "Xz", "WZ"], ["Y32"]),
        helper.make_node("Cast", ["Y32"], ["Y"], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "saturating",
        [helper.make_tensor_value_info("X", TensorProto.INT64, [1, 64])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 8])],
        [weights, weight_zero],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_sessions_multiply_int8_exactly(tmp_path: Path) -> None:
    session = Session(OrtLibrary(), saturating_graph(tmp_path / "saturating.onnx"))
    values, shape = session.run("Y", {"X": (array("q", [1] * 64), (1, 64))})
    assert shape == (1, 8)
    assert list(values) == [EXACT] * 8


def test_the_exact_mode_is_the_documented_config_entry() -> None:
    # The key ONNX Runtime reads (kOrtSessionOptionsAvx2PrecisionMode); a typo would be ignored.
    assert dict(EXACT_INT8) == {"session.x64quantprecision": "1"}
