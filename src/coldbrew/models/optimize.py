"""Graph fusion and int8 quantization with ONNX Runtime's own tools.

Fusion replaces each attention subgraph with one ``Attention`` node (and the
embedding and layer norms with their fused kernels); quantization then stores
the weights as int8 and quantizes activations on the fly. Both tools are
imported inside the functions so ``import coldbrew.models`` stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coldbrew.errors import ModelError
from coldbrew.models.graph import node_names, op_counts
from coldbrew.models.recipe import FusionSpec, QuantizationSpec


def fuse(in_path: Path, out_path: Path, spec: FusionSpec) -> dict[str, int]:
    """Apply the transformer optimizer; return the counts of fused operators.

    Raises :class:`ModelError` when no attention subgraph was fused: the model
    would still work, but slower, and a silent slowdown is worse than an error.
    """
    from onnxruntime.transformers import optimizer

    # opt_level 0: graph fusion in Python only. Higher levels run ONNX Runtime's
    # own optimizer first, which can bake in kernels for the build machine's CPU.
    model = optimizer.optimize_model(
        str(in_path),
        model_type=spec.model_type,
        num_heads=spec.num_heads,
        hidden_size=spec.hidden_size,
        opt_level=0,
        use_gpu=False,
    )
    stats = {op: int(n) for op, n in model.get_fused_operator_statistics().items() if n}
    if not stats.get("Attention") and not stats.get("MultiHeadAttention"):
        raise ModelError(
            "fusion found no attention subgraph to fuse: was the model exported with "
            "eager attention and the legacy exporter?"
        )
    model.save_model_to_file(str(out_path), use_external_data_format=False)
    return stats


def quantize(in_path: Path, out_path: Path, spec: QuantizationSpec) -> None:
    """Quantize weights dynamically to 8 bits, leaving ``spec.exclude_nodes`` float32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    missing = sorted(set(spec.exclude_nodes) - node_names(in_path))
    if missing:
        raise ModelError(
            f"quantization.exclude_nodes names nodes not in the graph: {', '.join(missing)}"
        )
    weight_type = {"int8": QuantType.QInt8, "uint8": QuantType.QUInt8}[spec.weight_type]
    with _quiet_preprocessing_hint():
        quantize_dynamic(
            str(in_path),
            str(out_path),
            per_channel=spec.per_channel,
            weight_type=weight_type,
            nodes_to_exclude=list(spec.exclude_nodes),
            # The fused graph has contrib ops whose output types the quantizer cannot
            # infer; without a default it refuses to quantize their consumers.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    if not any(op.startswith(("MatMulInteger", "QAttention")) for op in op_counts(out_path)):
        raise ModelError("quantization left no quantized operator in the graph")


class _DropPreprocessingHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextmanager
def _quiet_preprocessing_hint() -> Iterator[None]:
    # quantize_dynamic logs a hint on the root logger to run shape-inference
    # pre-processing, which fails on fused graphs; it would only clutter the CLI.
    hint = _DropPreprocessingHint()
    root = logging.getLogger()
    root.addFilter(hint)
    try:
        yield
    finally:
        root.removeFilter(hint)
