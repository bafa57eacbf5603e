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

from coldbrew.models.exact_int8 import shift_weights_to_uint8
from coldbrew.runtime.ort_capi import EXACT_INT8, OrtLibrary, Session

EXACT = 64 * 255 * 127


def saturating_graph(path: Path, *, zero_point: bool = True) -> Path:
    """int64 X -> float -> DynamicQuantizeLinear -> MatMulInteger(W=127, zero points) -> float."""
    weights = numpy_helper.from_array(np.full((64, 8), 127, dtype=np.int8), "W")
    weight_zero = numpy_helper.from_array(np.zeros(8, dtype=np.int8), "WZ")
    nodes = [
        helper.make_node("Cast", ["X"], ["Xf"], to=TensorProto.FLOAT),
        helper.make_node("DynamicQuantizeLinear", ["Xf"], ["Xq", "Xs", "Xz"]),
        helper.make_node(
            "MatMulInteger", ["Xq", "W", "Xz", "WZ"] if zero_point else ["Xq", "W", "Xz"], ["Y32"]
        ),
        helper.make_node("Cast", ["Y32"], ["Y"], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "saturating",
        [helper.make_tensor_value_info("X", TensorProto.INT64, [1, 64])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 8])],
        [weights, weight_zero] if zero_point else [weights],
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


#: The session option off: what a session computes from the model file alone.
DEFAULT_KERNELS = {"session.x64quantprecision": "0"}


def _run(path: Path, config: dict[str, str]) -> list[float]:
    session = Session(OrtLibrary(), path, config=config)
    values, _ = session.run("Y", {"X": (array("q", [1] * 64), (1, 64))})
    return list(values)


def test_shifted_weights_are_exact_without_the_session_option(tmp_path: Path) -> None:
    # What coldbrew's model builds ship: exact from the file, no per-session conversion.
    path = saturating_graph(tmp_path / "shifted.onnx")
    assert shift_weights_to_uint8(path) == 1
    weights = {t.name: t.data_type for t in onnx.load(str(path)).graph.initializer}
    assert weights == {"W_u8": TensorProto.UINT8, "WZ_u8": TensorProto.UINT8}
    assert _run(path, DEFAULT_KERNELS) == [EXACT] * 8


def test_a_symmetric_weight_gets_the_zero_point_128(tmp_path: Path) -> None:
    path = saturating_graph(tmp_path / "symmetric.onnx", zero_point=False)
    assert shift_weights_to_uint8(path) == 1
    assert _run(path, DEFAULT_KERNELS) == [EXACT] * 8


def test_shifting_twice_changes_nothing_more(tmp_path: Path) -> None:
    path = saturating_graph(tmp_path / "twice.onnx")
    shift_weights_to_uint8(path)
    assert shift_weights_to_uint8(path) == 0  # uint8 weights are left alone
