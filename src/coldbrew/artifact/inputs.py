"""The build cache: a hash of every input, and reuse of an identical artifact.

Inputs: the builder's own version, the target and options, the rules file,
the handler, the shipped coldbrew sources, the model's manifest (which hashes
every model file), and the target interpreter's exact version (it writes the
bytecode). When the artifact on disk was built from the same inputs and still
has the digest its report records, the build is a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from coldbrew.artifact.archive import sha256_file
from coldbrew.artifact.report import BuildReport, report_path

#: Bump when the builder's output changes for the same inputs.
BUILDER_VERSION = "4"


def inputs_key(*, settings: dict[str, object], files: Iterable[Path]) -> str:
    """sha256 over ``settings`` (JSON) and the contents of ``files`` (in order)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([BUILDER_VERSION, settings], sort_keys=True, default=str).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def reusable_report(artifact: Path, key: str) -> BuildReport | None:
    """The report beside ``artifact`` if it was built from ``key`` and every zip it
    wrote is intact; else None. (An image recipe is a directory: always rebuilt.)"""
    path = report_path(artifact)
    if not path.is_file():
        return None
    try:
        report = BuildReport.from_json(json.loads(path.read_text(encoding="utf-8")))
        parts = [(Path(p["path"]), p["sha256"]) for p in report.artifacts.get("parts", [])]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if report.inputs_key != key or not parts:
        return None
    for part, digest in parts:
        if not part.is_file() or sha256_file(part) != digest:
            return None
    return report
