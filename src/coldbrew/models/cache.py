"""The build cache: finished builds stored under a hash of everything that made them.

An entry lives in ``<cache-dir>/models/<name>/<cache-key>/`` and holds exactly
the files of a built model. The key covers the recipe, the gate sentences, the
source package, the versions of the tools that did the work, and
:data:`BUILD_CODE_VERSION`; any change to those gives a new key, so an entry
is never stale, only unused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from coldbrew.errors import ModelError
from coldbrew.models.manifest import OUTPUT_FILES, read_manifest, verify_directory
from coldbrew.models.recipe import Recipe

#: Bump whenever a change to the build code could change its output.
#: 3: weights saved as external data (model.onnx.data); 4: int8 GEMM weights shifted to uint8.
BUILD_CODE_VERSION = 4

#: Distributions whose versions enter the key, by the manifest's name for them:
#: every package that writes part of the output. sentence-transformers computes
#: the reference embeddings kept in gate.json and tokenizers serialises
#: tokenizer.json, so a new release of either must not reuse an old entry.
TOOLS = {
    "torch": "torch",
    "transformers": "transformers",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "sentence-transformers": "sentence-transformers",
    "tokenizers": "tokenizers",
}


def tool_versions() -> dict[str, str]:
    """Installed versions of the build tools, read from package metadata (no imports)."""
    versions: dict[str, str] = {}
    for key, distribution in TOOLS.items():
        try:
            versions[key] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            raise ModelError(
                f"{distribution} is not installed; model builds need the 'model' extra: "
                "pip install 'coldbrew[model]'"
            ) from None
    return versions


def cache_key(
    recipe: Recipe,
    *,
    source_version: str,
    tools: Mapping[str, str],
    code_version: int = BUILD_CODE_VERSION,
) -> str:
    """Hex sha256 identifying one build's inputs.

    Only file contents count, not paths, so a copy of a recipe elsewhere (a test's
    temporary directory, another checkout) shares the same entry.
    """
    inputs: dict[str, Any] = {
        "code": code_version,
        "recipe": _sha256_bytes(recipe.path),
        "sentences": _sha256_bytes(recipe.sentences_path),
        "source": {"package": recipe.source.package, "version": source_version},
        "tools": dict(sorted(tools.items())),
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_dir(cache_dir: Path, name: str, key: str) -> Path:
    """Where the entry for ``key`` lives, whether or not it exists."""
    return cache_dir / "models" / name / key


def lookup(entry: Path) -> dict[str, Any] | None:
    """The manifest of a complete, intact entry, or None.

    A damaged entry (files missing or altered) counts as a miss and is rebuilt.
    """
    if not (entry / "manifest.json").is_file():
        return None
    try:
        manifest = read_manifest(entry)
    except ModelError:
        return None
    build = manifest.get("build")
    if not isinstance(build, dict) or build.get("cache_key") != entry.name:
        return None
    return None if verify_directory(entry, manifest) else manifest


def store(staging: Path, entry: Path) -> None:
    """Move a finished build from ``staging`` into the cache as ``entry``."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    if entry.exists():
        # --force, or a damaged entry: the new build replaces it.
        shutil.rmtree(entry)
    try:
        staging.rename(entry)  # atomic: readers never see half an entry
    except OSError:
        if lookup(entry) is None:  # not another build that finished first
            raise
        shutil.rmtree(staging)


def publish(entry: Path, dest: Path) -> None:
    """Make ``dest`` an exact copy of ``entry`` (the build's ``dist`` directory).

    Skipped when ``dest`` already holds this very build, so a cache hit costs
    only the hashing that proves it.
    """
    manifest = read_manifest(entry)
    if _holds(dest, manifest):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    temp.mkdir()
    try:
        for name in OUTPUT_FILES:
            shutil.copy2(entry / name, temp / name)
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(temp, dest)
    finally:
        if temp.exists():
            shutil.rmtree(temp)


def _holds(directory: Path, manifest: Mapping[str, Any]) -> bool:
    try:
        current = read_manifest(directory)
    except ModelError:
        return False
    return current == manifest and not verify_directory(directory, current)


def _sha256_bytes(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror}") from None
