"""Writing artifact layouts: one zip, a function zip plus a layer, or an image recipe.

One staged task root (after the slimming rules, before bytecode) ships in one
of three layouts, all reproducible:

``zip``
    The whole task root in one zip: ``NAME.zip``.
``layer``
    The third-party dependencies as a Lambda layer, ``NAME-layer.zip``, every
    entry under ``python/`` (Lambda unpacks layers to /opt, and /opt/python is
    on the Python runtime's sys.path), plus a small function zip,
    ``NAME-function.zip``: the handler, the ``coldbrew`` runtime package and
    ``model/``. Each part's bytecode records where it will live: /var/task for
    the function, /opt/python for the layer.
``image``
    A container-image build context, ``NAME-image/`` (see
    :mod:`coldbrew.artifact.container`), whose task root is the zip's, byte for byte.

Which one fits is decided by :func:`coldbrew.artifact.layout_choice.choose_layout`
(pure); :func:`write_chosen_layout` measures, chooses and writes.

API::

    write_chosen_layout(stage, out_dir, name, target, *, requested="auto",
                        via_s3=False, compile=None, limits=None)
                        -> tuple[LayoutChoice, LayoutResult]
    write_layout(kind, stage, out_dir, name, target, *, compile=None) -> LayoutResult
    split_for_layer(stage, dest) -> LayerRoots
    target_compiler(target) -> Compile      # Compile = Callable[[Path, str], BytecodeResult]
    output_paths(out_dir, name) -> {layout: (paths...)}

The builder calls :func:`write_chosen_layout` with the stage before bytecode
and ``compile=target_compiler(target)`` (``None`` for the unslimmed baseline),
and puts ``choice.to_json()`` and ``result.to_json()`` in its report. ``stage``
is never modified: each layout works on hard-linked copies in a scratch
directory beside it (same filesystem), which the caller must be able to write.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from coldbrew.artifact.archive import ArchiveInfo, write_zip
from coldbrew.artifact.bytecode import (
    LAMBDA_LAYER_PYTHON,
    LAMBDA_TASK_ROOT,
    BytecodeResult,
    compile_tree,
)
from coldbrew.artifact.container import ImageContext, write_image_context
from coldbrew.artifact.inventory import bytecode_source
from coldbrew.artifact.layout_choice import (
    Layout,
    LayoutChoice,
    choose_layout,
    needs_layer_sizes,
    parse_layout,
)
from coldbrew.artifact.limits import Limits
from coldbrew.artifact.resolve import link_tree
from coldbrew.artifact.target import Target
from coldbrew.errors import BuildError, ConfigurationError

#: Top-level entries of the task root that stay in the function zip of the layer layout.
FUNCTION_ENTRIES = ("lambda_function.py", "coldbrew", "model")
#: Compiles the .py files under a root, recording ``prefix`` as their location on Lambda.
Compile = Callable[[Path, str], BytecodeResult]


@dataclass(frozen=True)
class LayoutPart:
    """One written piece of a layout: a zip, or an image build context."""

    role: str  # "function", "layer" or "image-context"
    path: Path
    sha256: str  # of the zip; of the context's files for an image context
    zipped_bytes: int | None  # None for an image context
    unzipped_bytes: int
    files: int
    bytecode: str

    @classmethod
    def from_archive(cls, role: str, info: ArchiveInfo, bytecode: str) -> LayoutPart:
        """The part for a zip written by :func:`coldbrew.artifact.archive.write_zip`."""
        return cls(
            role,
            info.path,
            info.sha256,
            info.zipped_bytes,
            info.unzipped_bytes,
            info.files,
            bytecode,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the build report."""
        return {
            "role": self.role,
            "path": str(self.path),
            "sha256": self.sha256,
            "zipped_bytes": self.zipped_bytes,
            "unzipped_bytes": self.unzipped_bytes,
            "files": self.files,
            "bytecode": self.bytecode,
        }


@dataclass(frozen=True)
class LayoutResult:
    """What a layout wrote: its parts (function first) and, for an image, the context."""

    layout: Layout
    parts: tuple[LayoutPart, ...]
    image: ImageContext | None = None

    @property
    def artifact(self) -> Path:
        """The main output: the zip, the function zip, or the image context directory."""
        return self.parts[0].path

    def part(self, role: str) -> LayoutPart:
        """The part with this role ("function", "layer", "image-context")."""
        for part in self.parts:
            if part.role == role:
                return part
        raise KeyError(role)

    @property
    def zipped_bytes(self) -> int:
        """Zipped bytes over all zip parts (0 for an image)."""
        return sum(p.zipped_bytes or 0 for p in self.parts)

    @property
    def unzipped_bytes(self) -> int:
        """What the function and its layers occupy on Lambda, unzipped."""
        return sum(p.unzipped_bytes for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the build report."""
        data: dict[str, Any] = {
            "layout": self.layout,
            "zipped_bytes": self.zipped_bytes,
            "unzipped_bytes": self.unzipped_bytes,
            "parts": [p.to_json() for p in self.parts],
        }
        if self.image is not None:
            data["image"] = self.image.to_json()
        return data


def output_paths(out_dir: Path, name: str) -> dict[Layout, tuple[Path, ...]]:
    """Where each layout writes, for ``name`` (``minilm-l6-v2-py312-x86_64``)."""
    return {
        "zip": (out_dir / f"{name}.zip",),
        "layer": (out_dir / f"{name}-function.zip", out_dir / f"{name}-layer.zip"),
        "image": (out_dir / f"{name}-image",),
    }


def target_compiler(target: Target) -> Compile:
    """Compile with the target's interpreter (skipped, with a reason, when there is none)."""

    def compile_for_target(root: Path, prefix: str) -> BytecodeResult:
        return compile_tree(root, target.python, prefix=prefix)

    return compile_for_target


@dataclass(frozen=True)
class LayerRoots:
    """The two roots of the layer layout, ready for bytecode and zipping."""

    function: Path  # becomes /var/task
    layer: Path  # the layer zip's root: holds python/

    @property
    def python(self) -> Path:
        """``layer/python``: becomes /opt/python."""
        return self.layer / "python"


def _link(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)  # later steps only add files, so the stage is never changed
    except OSError:
        shutil.copy2(source, dest)


def split_for_layer(
    stage: Path, dest: Path, *, function_entries: tuple[str, ...] = FUNCTION_ENTRIES
) -> LayerRoots:
    """Hard-link ``stage`` into a function root and a layer root under ``dest``.

    Top-level ``function_entries`` (and their bytecode) go to the function;
    everything else, the third-party packages, goes under the layer's ``python/``.
    """
    missing = [entry for entry in function_entries if not (stage / entry).exists()]
    if missing:
        raise BuildError(
            f"the staged task root {stage} has no {', '.join(missing)}: the layer layout "
            "keeps the handler, the coldbrew runtime and the model in the function zip"
        )
    roots = LayerRoots(dest / "function", dest / "layer")
    roots.function.mkdir(parents=True)
    roots.python.mkdir(parents=True)
    for path in sorted(p for p in stage.rglob("*") if p.is_file()):
        relative = path.relative_to(stage).as_posix()
        top = PurePosixPath(bytecode_source(relative)).parts[0]
        root = roots.function if top in function_entries else roots.python
        _link(path, root / relative)
    return roots


def _compile(root: Path, prefix: str, compile: Compile | None) -> str:
    if compile is None:
        return "not compiled"
    return compile(root, prefix).detail


def _task_root(
    stage: Path, scratch: Path, compile: Compile | None, code_root: str = LAMBDA_TASK_ROOT
) -> tuple[Path, str]:
    task = scratch / "task"
    link_tree(stage, task)
    return task, _compile(task, code_root, compile)


def write_source_zip(
    stage: Path, out_dir: Path, name: str, *, code_root: str, compile: Compile | None = None
) -> tuple[LayoutChoice, LayoutResult]:
    """The one-zip layout for a platform with no other (a Cloud Functions source archive).

    Bytecode records ``code_root`` (``/workspace`` for the buildpack's
    source) as the files' location; other layouts' outputs for ``name`` are
    removed, as :func:`write_chosen_layout` does.
    """
    with _scratch(stage) as scratch:
        task, bytecode = _task_root(stage, scratch, compile, code_root)
        archive = write_zip(task, scratch / "out" / f"{name}.zip")
        out_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale(out_dir, name, keep="zip")
        part = _publish(LayoutPart.from_archive("function", archive, bytecode), out_dir)
    choice = LayoutChoice("zip", "a source archive is the only layout this platform deploys")
    return choice, LayoutResult("zip", (part,))


def _layer_parts(
    stage: Path, scratch: Path, into: Path, name: str, compile: Compile | None
) -> tuple[LayoutPart, LayoutPart]:
    roots = split_for_layer(stage, scratch / "split")
    function_bytecode = _compile(roots.function, LAMBDA_TASK_ROOT, compile)
    layer_bytecode = _compile(roots.python, LAMBDA_LAYER_PYTHON, compile)
    function_zip, layer_zip = output_paths(into, name)["layer"]
    return (
        LayoutPart.from_archive(
            "function", write_zip(roots.function, function_zip), function_bytecode
        ),
        LayoutPart.from_archive("layer", write_zip(roots.layer, layer_zip), layer_bytecode),
    )


def _image(task: Path, out_dir: Path, name: str, target: Target, bytecode: str) -> LayoutResult:
    context = write_image_context(task, output_paths(out_dir, name)["image"][0], target)
    part = LayoutPart(
        "image-context",
        context.path,
        context.digest,
        None,
        context.task_bytes,
        context.files,
        bytecode,
    )
    return LayoutResult("image", (part,), context)


@contextmanager
def _scratch(stage: Path) -> Iterator[Path]:
    # Beside the stage, so hard links to it work (same filesystem).
    with tempfile.TemporaryDirectory(prefix="layouts-", dir=stage.parent) as tmp:
        yield Path(tmp)


def write_layout(
    kind: str,
    stage: Path,
    out_dir: Path,
    name: str,
    target: Target,
    *,
    compile: Compile | None = None,
) -> LayoutResult:
    """Write one layout of ``stage`` into ``out_dir``, whatever its size (no limit check)."""
    layout = parse_layout(kind)
    if layout == "auto":
        raise ConfigurationError("write_layout needs a layout, not auto: use write_chosen_layout")
    with _scratch(stage) as scratch:
        if layout == "layer":
            return LayoutResult("layer", _layer_parts(stage, scratch, out_dir, name, compile))
        task, bytecode = _task_root(stage, scratch, compile)
        if layout == "image":
            return _image(task, out_dir, name, target, bytecode)
        archive = write_zip(task, output_paths(out_dir, name)["zip"][0])
        return LayoutResult("zip", (LayoutPart.from_archive("function", archive, bytecode),))


def _publish(part: LayoutPart, out_dir: Path) -> LayoutPart:
    dest = out_dir / part.path.name
    partial = dest.with_name(dest.name + ".partial")
    shutil.copyfile(part.path, partial)  # the scratch may be on another filesystem
    os.replace(partial, dest)
    return replace(part, path=dest)


def _remove_stale(out_dir: Path, name: str, keep: Layout) -> None:
    # A previous build's other layout must not be mistaken for this one.
    outputs = output_paths(out_dir, name)
    for path in (p for layout, paths in outputs.items() if layout != keep for p in paths):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def write_chosen_layout(
    stage: Path,
    out_dir: Path,
    name: str,
    target: Target,
    *,
    requested: str = "auto",
    via_s3: bool = False,
    compile: Compile | None = None,
    limits: Limits | None = None,
) -> tuple[LayoutChoice, LayoutResult]:
    """Measure, choose (:func:`choose_layout`) and write the layout that fits.

    Candidates are written in a scratch directory; only the chosen layout
    reaches ``out_dir``, and other layouts' outputs for ``name`` are removed.
    Raises :class:`LambdaLimitError` (leaving ``out_dir`` untouched) when
    nothing fits or a forced layout does not.
    """
    wanted = parse_layout(requested)
    with _scratch(stage) as scratch:
        task, bytecode = _task_root(stage, scratch, compile)
        single = write_zip(task, scratch / "out" / f"{name}.zip")
        layer: tuple[LayoutPart, LayoutPart] | None = None
        if needs_layer_sizes(
            single.zipped_bytes, single.unzipped_bytes, wanted, via_s3=via_s3, limits=limits
        ):
            layer = _layer_parts(stage, scratch, scratch / "out", name, compile)
        choice = choose_layout(
            single.zipped_bytes,
            single.unzipped_bytes,
            layer[0].zipped_bytes if layer else None,
            layer[1].zipped_bytes if layer else None,
            layer[1].unzipped_bytes if layer else None,
            function_unzipped=layer[0].unzipped_bytes if layer else None,
            via_s3=via_s3,
            requested=wanted,
            limits=limits,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale(out_dir, name, keep=choice.layout)
        if choice.layout == "image":
            return choice, _image(task, out_dir, name, target, bytecode)
        if choice.layout == "layer":
            assert layer is not None  # choose_layout picks the layer only from measured sizes
            return choice, LayoutResult("layer", tuple(_publish(p, out_dir) for p in layer))
        part = LayoutPart.from_archive("function", single, bytecode)
        return choice, LayoutResult("zip", (_publish(part, out_dir),))
