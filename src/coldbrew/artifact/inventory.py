"""What is in a staged task root: every file's size and owning distribution."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from coldbrew.artifact.rules import normalize_distribution

HANDLER_PACKAGE = "(handler)"
MODEL_PACKAGE = "(model)"


@dataclass(frozen=True)
class Inventory:
    """Sizes and owners of the files under a task root (POSIX relative paths)."""

    sizes: dict[str, int]
    owners: dict[str, str]

    def package_of(self, path: str) -> str:
        """The report's package name for a file: its distribution, or where it came from."""
        path = bytecode_source(path)  # compiled files count with their source
        owner = self.owners.get(path)
        if owner is not None:
            return owner
        top = PurePosixPath(path).parts[0]
        if top == "model":
            return MODEL_PACKAGE
        if top.endswith(".py") and "/" not in path:
            return HANDLER_PACKAGE
        return top.removesuffix(".libs")

    def sizes_by_package(
        self, paths: Mapping[str, int] | None = None
    ) -> dict[str, tuple[int, int]]:
        """package -> (files, bytes), over ``paths`` (default: everything)."""
        totals: dict[str, tuple[int, int]] = {}
        for path, size in (self.sizes if paths is None else paths).items():
            package = self.package_of(path)
            files, total = totals.get(package, (0, 0))
            totals[package] = (files + 1, total + size)
        return totals


def _record_owners(root: Path) -> dict[str, str]:
    owners: dict[str, str] = {}
    for record in sorted(root.glob("*.dist-info/RECORD")):
        name = record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        dist = normalize_distribution(name)
        with record.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if row and not row[0].startswith(".."):
                    owners[PurePosixPath(row[0]).as_posix()] = dist
        for path in record.parent.rglob("*"):
            if path.is_file():
                owners[path.relative_to(root).as_posix()] = dist
    return owners


def take_inventory(root: Path) -> Inventory:
    """Walk ``root``; owners come from each installed distribution's RECORD."""
    sizes = {
        path.relative_to(root).as_posix(): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink()
    }
    owners = {p: d for p, d in _record_owners(root).items() if p in sizes}
    return Inventory(sizes, owners)


def bytecode_source(path: str) -> str:
    """``a/__pycache__/b.cpython-312.pyc`` -> ``a/b.py``; other paths unchanged."""
    parent, sep, name = path.rpartition("__pycache__/")
    if not sep or not name.endswith(".pyc"):
        return path
    return parent + name.split(".", 1)[0] + ".py"
