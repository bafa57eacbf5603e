"""``build_model``: recipe in, gated int8 ONNX model out, cached by content hash.

The steps, each in its own module: find the source weights (:mod:`.source`),
export to ONNX (:mod:`.export`), fuse and quantize (:mod:`.optimize`), check
the signature (:mod:`.graph`), gate accuracy (:mod:`.accuracy`), write the
manifest (:mod:`.manifest`) and store the result (:mod:`.cache`).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coldbrew.errors import ModelError
from coldbrew.models import cache
from coldbrew.models.accuracy import (
    read_sentences,
    reference_embeddings,
    run_gate,
    write_gate_file,
)
from coldbrew.models.exact_int8 import shift_weights_to_uint8
from coldbrew.models.export import export_onnx, write_tokenizer
from coldbrew.models.graph import (
    check_signature,
    read_signature,
    save_with_external_data,
    set_output_width,
)
from coldbrew.models.manifest import (
    DATA_FILE,
    GATE_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    build_manifest,
    file_entries,
    write_manifest,
)
from coldbrew.models.optimize import fuse, quantize
from coldbrew.models.recipe import Recipe, load_recipe
from coldbrew.models.source import SourceModel, locate_source

#: The build output directory inside a recipe's directory (gitignored).
DIST_DIR = "dist"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuiltModel:
    """A built model: its ``dist`` directory, its manifest, and whether it came from cache."""

    path: Path
    manifest: dict[str, Any]
    cached: bool


def build_model(
    name: str,
    *,
    models_dir: Path,
    cache_dir: Path,
    force: bool = False,
    progress: Progress | None = None,
) -> BuiltModel:
    """Build the recipe ``name`` from ``models_dir`` into ``models/<name>/dist/``.

    A previous build with the same cache key is reused unless ``force``.
    ``progress`` is called with a short description as each step starts.
    Raises :class:`~coldbrew.errors.ModelError` for recipe and export problems
    and :class:`~coldbrew.errors.AccuracyGateError` when the gate fails; nothing
    is cached or published then.
    """
    report: Progress = progress or (lambda _message: None)
    recipe = load_recipe(models_dir, name)
    source = locate_source(recipe.source)
    tools = cache.tool_versions()
    key = cache.cache_key(recipe, source_version=source.version, tools=tools)
    entry = cache.entry_dir(cache_dir, recipe.name, key)
    dist = recipe.directory / DIST_DIR

    if not force:
        manifest = cache.lookup(entry)
        if manifest is not None:
            report(f"Using cached build {key[:12]}")
            cache.publish(entry, dist)
            return BuiltModel(path=dist, manifest=manifest, cached=True)

    # Build beside the entry so the final move into the cache is a same-disk rename.
    scratch = entry.parent / f".build-{uuid.uuid4().hex[:12]}"
    try:
        staging = scratch / "out"
        _build(recipe, source, tools, key, work=scratch / "work", out=staging, report=report)
        report("Storing in cache")
        cache.store(staging, entry)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    cache.publish(entry, dist)
    manifest = cache.lookup(entry)
    if manifest is None:  # only if someone deletes the entry under our feet
        raise ModelError(f"cache entry {entry} vanished right after the build")
    return BuiltModel(path=dist, manifest=manifest, cached=False)


def _build(
    recipe: Recipe,
    source: SourceModel,
    tools: dict[str, str],
    key: str,
    *,
    work: Path,
    out: Path,
    report: Progress,
) -> None:
    # Read the gate set first: a bad sentence file should fail in a second, not a minute.
    sentences = read_sentences(recipe.sentences_path, minimum=recipe.accuracy.min_sentences)
    work.mkdir(parents=True)
    out.mkdir(parents=True)

    report("Exporting to ONNX (legacy exporter, eager attention, pooling in graph)")
    exported = work / "fp32" / "model.onnx"  # own directory: the export must be one file
    export_onnx(recipe, source.directory, exported)
    set_output_width(exported, recipe.dimensions)
    fp32_bytes = exported.stat().st_size

    to_quantize = exported
    if recipe.fusion.enabled:
        fusion = recipe.fusion
        report(
            f"Fusing ({fusion.model_type}, {fusion.num_heads} heads, hidden {fusion.hidden_size})"
        )
        to_quantize = work / "fused.onnx"
        fuse(exported, to_quantize, fusion)

    spec = recipe.quantization
    channel = "per-channel" if spec.per_channel else "per-tensor"
    report(f"Quantizing ({spec.method}, {spec.weight_type}, {channel})")
    quantized = work / "int8" / MODEL_FILE
    quantized.parent.mkdir()
    quantize(to_quantize, quantized, spec)
    report("Shifting int8 weights to uint8 (the same values; exact on every x86 CPU)")
    shift_weights_to_uint8(quantized)
    # Only the final model is split into graph + external weights: the runtime
    # loads it, and ORT maps the weights instead of copying them (DATA_FILE).
    report(f"Saving {MODEL_FILE} with its weights as external data ({DATA_FILE})")
    save_with_external_data(quantized, out / MODEL_FILE, DATA_FILE)
    inputs, outputs, opset = read_signature(out / MODEL_FILE)
    check_signature(inputs, outputs, recipe.dimensions)
    write_tokenizer(source.directory, out / TOKENIZER_FILE, max_tokens=recipe.max_tokens)
    report(f"Embedding the {len(sentences)} gate sentences with the original model")
    reference = reference_embeddings(source.directory, sentences, recipe.max_tokens)
    write_gate_file(out / GATE_FILE, sentences, reference, recipe.accuracy)

    def manifest(accuracy: dict[str, Any] | None) -> dict[str, Any]:
        return build_manifest(
            recipe,
            inputs=inputs,
            outputs=outputs,
            opset=opset,
            files=file_entries(out),
            accuracy=accuracy,
            fp32_bytes=fp32_bytes,
            source_version=source.version,
            cache_key=key,
            tools=tools,
            fused=recipe.fusion.enabled,
        )

    # The runtime's embedder loads a model directory by its manifest, so the gate
    # needs one before there are accuracy figures to put in it.
    write_manifest(out, manifest(None))
    sizes = ", ".join(str(size) for size in recipe.accuracy.batch_sizes)
    report(f"Gating accuracy on {len(sentences)} sentences (batch sizes {sizes})")
    result = run_gate(reference, out, sentences, recipe.accuracy)
    result.check()
    write_manifest(out, manifest(result.as_manifest()))
