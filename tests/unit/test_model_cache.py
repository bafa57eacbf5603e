"""The build cache: keys follow content, entries are verified, dist is an exact copy."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

import pytest

from coldbrew.models import cache
from coldbrew.models.manifest import OUTPUT_FILES, file_entries, write_manifest
from coldbrew.models.recipe import Recipe, load_recipe

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAME = "minilm-l6-v2"
TOOLS = {
    "torch": "2.13.0",
    "transformers": "5.0",
    "onnx": "1.17",
    "onnxruntime": "1.20",
    "sentence-transformers": "6.3.0",
    "tokenizers": "0.23.3",
}


def copy_recipe(models_dir: Path) -> Recipe:
    shutil.copytree(PROJECT_ROOT / "models" / NAME, models_dir / NAME, ignore=_only_inputs)
    return load_recipe(models_dir, NAME)


def _only_inputs(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n not in ("model.toml", "sentences.txt")]


def key_of(recipe: Recipe, **changes: object) -> str:
    arguments: dict[str, object] = {"source_version": "0.1.0", "tools": TOOLS, **changes}
    return cache.cache_key(recipe, **arguments)  # type: ignore[arg-type]


def test_key_is_stable_and_independent_of_location(tmp_path: Path) -> None:
    first = copy_recipe(tmp_path / "a")
    second = copy_recipe(tmp_path / "b")
    assert key_of(first) == key_of(first) == key_of(second)
    assert len(key_of(first)) == 64
    assert key_of(first, tools=dict(reversed(TOOLS.items()))) == key_of(first)


@pytest.mark.parametrize(
    "change",
    [
        {"source_version": "0.1.1"},
        {"tools": {**TOOLS, "torch": "2.14.0"}},
        {"tools": {**TOOLS, "transformers": "5.1"}},
        {"tools": {**TOOLS, "onnx": "1.18"}},
        {"tools": {**TOOLS, "onnxruntime": "1.21"}},
        {"tools": {**TOOLS, "sentence-transformers": "6.4.0"}},
        {"tools": {**TOOLS, "tokenizers": "0.24.0"}},
        {"code_version": cache.BUILD_CODE_VERSION + 1},
    ],
)
def test_key_changes_with_each_build_input(tmp_path: Path, change: dict[str, object]) -> None:
    recipe = copy_recipe(tmp_path)
    assert key_of(recipe, **change) != key_of(recipe)


@pytest.mark.parametrize("file_name", ["model.toml", "sentences.txt"])
def test_key_changes_when_a_recipe_file_changes(tmp_path: Path, file_name: str) -> None:
    recipe = copy_recipe(tmp_path)
    before = key_of(recipe)
    path = recipe.directory / file_name
    path.write_text(path.read_text("utf-8") + "\n# one more line\n", encoding="utf-8")
    assert key_of(recipe) != before


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not all(map(_installed, TOOLS)), reason="needs the 'model' extra")
def test_tool_versions_name_every_package_that_writes_output() -> None:
    # sentence-transformers makes gate.json's reference, tokenizers writes tokenizer.json:
    # a new release of either changes the output, so it must change the key too.
    assert sorted(cache.tool_versions()) == sorted(TOOLS)


def make_entry(cache_dir: Path, key: str, payload: bytes = b"onnx bytes") -> Path:
    entry = cache.entry_dir(cache_dir, NAME, key)
    entry.mkdir(parents=True)
    (entry / "model.onnx").write_bytes(payload)
    (entry / "model.onnx.data").write_bytes(b"weights")
    (entry / "tokenizer.json").write_text("{}", encoding="utf-8")
    (entry / "gate.json").write_text("{}", encoding="utf-8")
    write_manifest(entry, {"schema": 1, "build": {"cache_key": key}, "files": file_entries(entry)})
    return entry


def test_lookup_returns_the_manifest_of_an_intact_entry(tmp_path: Path) -> None:
    entry = make_entry(tmp_path, "k1")
    manifest = cache.lookup(entry)
    assert manifest is not None
    assert manifest["build"]["cache_key"] == "k1"
    assert cache.lookup(cache.entry_dir(tmp_path, NAME, "absent")) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda e: (e / "model.onnx").write_bytes(b"onnx bytez"),  # same size, other bytes
        lambda e: (e / "model.onnx").write_bytes(b"short"),
        lambda e: (e / "tokenizer.json").unlink(),
        lambda e: (e / "model.onnx.data").unlink(),  # the graph without its weights
        lambda e: (e / "model.onnx.data").write_bytes(b"wEights"),
        lambda e: (e / "stray.txt").write_text("x"),
        lambda e: (e / "manifest.json").write_text("{not json"),
        lambda e: e.rename(e.parent / "k2"),  # an entry whose manifest names another key
    ],
)
def test_a_damaged_entry_is_a_miss(tmp_path: Path, damage: object) -> None:
    entry = make_entry(tmp_path, "k1")
    damage(entry)  # type: ignore[operator]
    moved = entry.parent / "k2"
    assert cache.lookup(moved if moved.exists() else entry) is None


def test_store_moves_staging_into_place_and_replaces_an_old_entry(tmp_path: Path) -> None:
    old = make_entry(tmp_path / "cache", "k1", payload=b"old")
    staging = make_entry(tmp_path / "staging", "k1", payload=b"new")
    cache.store(staging, old)
    assert not staging.exists()
    assert (old / "model.onnx").read_bytes() == b"new"
    assert cache.lookup(old) is not None


def test_publish_copies_exactly_the_output_files(tmp_path: Path) -> None:
    entry = make_entry(tmp_path / "cache", "k1")
    dist = tmp_path / "models" / NAME / "dist"
    dist.mkdir(parents=True)
    (dist / "leftover.onnx").write_text("from an older build")
    cache.publish(entry, dist)
    assert sorted(p.name for p in dist.iterdir()) == sorted(OUTPUT_FILES)
    assert (dist / "model.onnx").read_bytes() == b"onnx bytes"
    assert (dist / "model.onnx.data").read_bytes() == b"weights"
    assert sorted(p.name for p in dist.parent.iterdir()) == ["dist"]  # no temp dirs left


def test_publish_leaves_an_identical_dist_untouched(tmp_path: Path) -> None:
    entry = make_entry(tmp_path / "cache", "k1")
    dist = tmp_path / "dist"
    cache.publish(entry, dist)
    inode = (dist / "model.onnx").stat().st_ino
    cache.publish(entry, dist)
    assert (dist / "model.onnx").stat().st_ino == inode


def test_publish_replaces_a_dist_from_another_build(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    cache.publish(make_entry(tmp_path / "cache", "k1", payload=b"first"), dist)
    cache.publish(make_entry(tmp_path / "cache", "k2", payload=b"second"), dist)
    assert (dist / "model.onnx").read_bytes() == b"second"
    assert json.loads((dist / "manifest.json").read_text())["build"]["cache_key"] == "k2"
