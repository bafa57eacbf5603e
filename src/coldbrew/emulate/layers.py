"""Lambda layers in the emulator: where each one is unpacked, and where a sandbox finds it.

On Lambda, a function's layers are extracted into ``/opt`` in the order they
are listed, a later layer's file overwriting an earlier one's. The Python
runtime's bootstrap (``/var/runtime/bootstrap.py``, ``set_default_sys_path``:
"precedence: LAMBDA_TASK_ROOT -> /opt/python/lib/pythonN.N/site-packages ->
/opt/python") then puts on ``sys.path``, in this order::

    /var/task                                   the function's code
    /opt/python/lib/python3.12/site-packages    layers, "site directories"
    /opt/python                                 layers
    /var/lang/lib/python3.12/site-packages      the runtime's own (boto3...), then
    /var/runtime, the standard library          (3.11 and later)

so the function's own copy of a package wins over a layer's, and a layer's
over the runtime's. ``/opt/lib`` ends LD_LIBRARY_PATH and ``/opt/bin`` ends PATH.

Here each layer is unpacked read-only into its own directory in the
emulator's work directory (a directory layer is used in place), and the
sandbox gets the same search order through PYTHONPATH. Within each kind of
path the LATER layer comes first, because on Lambda its files would have
overwritten the earlier layer's. What separate directories cannot do is merge
one package split across two layers; coldbrew's builds ship a single layer.

The layer's bytecode was compiled for ``/opt/python`` with unchecked-hash
invalidation, so it is used wherever the layer is unpacked (nothing about the
path or the source is checked), and importlib rewrites each code object's
``co_filename`` to where its source really is, so tracebacks name this directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coldbrew.emulate.artifact import directory_task_root, unpack_artifact

#: Lambda's limit on layers per function.
MAX_LAYERS = 5


@dataclass(frozen=True)
class LayerPaths:
    """Where a sandbox finds its layers: each tuple in search order, later layers first."""

    python: tuple[Path, ...]  # every layer's site-packages, then every layer's python/
    libraries: tuple[Path, ...]  # every layer's lib/ (LD_LIBRARY_PATH)
    executables: tuple[Path, ...]  # every layer's bin/ (PATH)


def unpack_layers(layers: Sequence[Path], dest: Path) -> tuple[Path, ...]:
    """Unpack each layer zip read-only into its own directory under ``dest``.

    Returns the layer roots (what ``/opt`` would hold for each layer), in the
    order given. A directory layer is used in place, never copied or changed.
    Raises :class:`~coldbrew.errors.EmulationError` for a missing or bad zip.
    """
    roots: list[Path] = []
    for index, layer in enumerate(layers, start=1):
        if layer.is_dir():
            roots.append(directory_task_root(layer))
        else:
            # Numbered first: two layers may share a file name.
            name = f"{index}-{layer.name.removesuffix('.zip')}"
            roots.append(unpack_artifact(layer, dest / name))
    return tuple(roots)


def layer_paths(layer_roots: Sequence[Path], python_version: str) -> LayerPaths:
    """The search paths for ``layer_roots`` (in Lambda's merge order) on Python ``python_version``.

    Lambda puts both Python directories on the path whether or not a layer
    uses them; so does this (a missing directory on PYTHONPATH costs nothing).
    """
    newest_first = tuple(reversed(layer_roots))
    site_packages = tuple(
        root / "python" / "lib" / f"python{python_version}" / "site-packages"
        for root in newest_first
    )
    return LayerPaths(
        python=site_packages + tuple(root / "python" for root in newest_first),
        libraries=tuple(root / "lib" for root in newest_first),
        executables=tuple(root / "bin" for root in newest_first),
    )
