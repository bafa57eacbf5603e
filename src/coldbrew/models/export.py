"""PyTorch to ONNX: the transformer plus pooling and normalisation in one graph.

Putting mean pooling and L2 normalisation inside the graph means the runtime
needs no numpy post-processing and cannot get it subtly wrong. torch and
transformers are imported inside the functions: ``import coldbrew.models``
must stay cheap and work without them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from coldbrew.errors import ModelError
from coldbrew.models.recipe import Recipe

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"
BATCH_AXIS = "batch"
SEQUENCE_AXIS = "sequence"


def import_transformers() -> Any:
    """Import transformers offline and quiet, and return the module.

    Weights come from an installed package; a hub download attempt would hang
    or fail on a machine without internet. The hub library reads these
    variables when first imported, so they are set before the import.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers

    # Weight-loading progress bars and notices would break the CLI's step display.
    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return transformers


def export_onnx(recipe: Recipe, source_dir: Path, out_path: Path) -> None:
    """Export the model in ``source_dir`` to one self-contained ONNX file.

    Inputs are int64 ``[batch, sequence]``; the one output is float32
    ``[batch, dimensions]``, mean-pooled over the attention mask and, when the
    recipe says so, L2-normalised.
    """
    transformers = import_transformers()
    import torch

    # Eager attention: only this graph matches ONNX Runtime's attention fusion patterns.
    encoder = transformers.AutoModel.from_pretrained(str(source_dir), attn_implementation="eager")
    encoder.eval()
    hidden = int(encoder.config.hidden_size)
    if hidden != recipe.dimensions:
        raise ModelError(
            f"source model has hidden size {hidden}, the recipe expects {recipe.dimensions}"
        )
    wrapper = _pooled_module(torch, encoder, normalize=recipe.export.normalize)

    # Any small example works: the axes are declared dynamic below.
    example = torch.ones((2, 8), dtype=torch.int64)
    dynamic_axes = {name: {0: BATCH_AXIS, 1: SEQUENCE_AXIS} for name in INPUT_NAMES}
    dynamic_axes[OUTPUT_NAME] = {0: BATCH_AXIS}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # The legacy exporter warns about itself and about traced Python
        # conditions in transformers' mask code; the accuracy gate checks the result.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (example, example, torch.zeros_like(example)),
            str(out_path),
            dynamo=False,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=dynamic_axes,
            opset_version=recipe.export.opset,
            do_constant_folding=True,
        )
    strays = sorted(p.name for p in out_path.parent.iterdir() if p != out_path)
    if strays:
        raise ModelError(f"ONNX export wrote extra files next to the model: {', '.join(strays)}")


def _pooled_module(torch: Any, encoder: Any, *, normalize: bool) -> Any:
    # Defined here because torch.nn.Module only exists once torch is imported.
    class PooledEncoder(torch.nn.Module):  # type: ignore[misc]
        """BERT, then sentence-transformers' mean pooling and Normalize."""

        def __init__(self) -> None:
            super().__init__()
            # The attribute name becomes the node-name prefix ("/bert/encoder/...")
            # that recipes use in quantization.exclude_nodes.
            self.bert = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            tokens = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            # Same clamp as sentence-transformers' Pooling, so empty masks match too.
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            if normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
            return pooled

    return PooledEncoder().eval()


def write_tokenizer(source_dir: Path, out_path: Path, *, max_tokens: int) -> None:
    """Write the source tokenizer with truncation at ``max_tokens`` and no padding.

    Source packages often ship fixed-length padding (128 here); the runtime pads
    each batch only to its longest member, so padding must be off in the file.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(out_path), pretty=False)
