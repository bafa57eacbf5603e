"""int8 GEMM weights shifted to uint8: the same model, exact on every x86 CPU.

ONNX Runtime multiplies uint8 activations by int8 weights with VPMADDUBSW on
x86 CPUs without VNNI (AVX2, AVX-512 without VNNI), which adds pairs of
products in saturating 16-bit arithmetic: the result depends on the host. On
this project's CI machine that moved MiniLM's gate from min cosine 0.986 to
0.966. With uint8 weights ONNX Runtime takes its u8u8 path, exact everywhere.

The shift is exact too: a weight ``w`` with zero point ``z`` stands for
``(w - z) * scale``, and ``w + 128`` with ``z + 128`` stands for the same
value. ONNX Runtime's ``session.x64quantprecision`` option does this same
conversion, but on every session creation (+60 ms of cold start, measured);
here it is done once, at build time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Operator -> (weight input index, weight zero-point input index).
GEMM_WEIGHTS = {
    "MatMulInteger": (1, 3),
    "QAttention": (1, 7),
}


def shift_weights_to_uint8(path: Path) -> int:
    """Rewrite ``path`` in place with every int8 GEMM weight and its zero point in uint8.

    Returns how many weights were shifted. A weight without a zero-point input
    (symmetric) gets one of 128 added, which is what the int8 zero of 0 becomes.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    shifted: dict[str, str] = {}

    def to_uint8(name: str) -> str:
        if name in shifted:
            return shifted[name]
        tensor = initializers[name]
        values = numpy_helper.to_array(tensor).astype(np.int16) + 128
        new = numpy_helper.from_array(values.astype(np.uint8), f"{name}_u8")
        graph.initializer.append(new)
        shifted[name] = new.name
        return new.name

    count = 0
    for node in graph.node:
        positions = GEMM_WEIGHTS.get(node.op_type)
        if positions is None:
            continue
        weight_at, zero_at = positions
        weight = node.input[weight_at]
        if weight not in initializers or initializers[weight].data_type != onnx.TensorProto.INT8:
            continue
        node.input[weight_at] = to_uint8(weight)
        while len(node.input) <= zero_at:
            node.input.append("")
        zero = node.input[zero_at]
        if zero:
            node.input[zero_at] = to_uint8(zero)
        else:
            name = f"{weight}_zero_point_u8"
            graph.initializer.append(numpy_helper.from_array(np.array(128, np.uint8), name))
            node.input[zero_at] = name
        count += 1
    _drop_unused(graph, set(shifted))
    onnx.save(model, str(path))
    return count


def _drop_unused(graph: Any, candidates: set[str]) -> None:
    used = {name for node in graph.node for name in node.input}
    keep = [t for t in graph.initializer if t.name not in candidates or t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
