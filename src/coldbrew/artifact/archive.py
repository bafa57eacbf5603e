"""Reproducible zip files: the same tree gives the same bytes, every time.

Entries are sorted, timestamps fixed, permissions normalised (0644, or 0755
for executables) and owners absent, so the sha256 of the zip depends only on
the files' paths and contents.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can record


@dataclass(frozen=True)
class ArchiveInfo:
    """The written zip: where, its digest and its sizes."""

    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's contents."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_zip(root: Path, dest: Path, *, compresslevel: int = 9) -> ArchiveInfo:
    """Zip every file under ``root`` into ``dest`` (written atomically)."""
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    unzipped = 0
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3  # unix, so the modes above are honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            zf.writestr(info, data, compresslevel=compresslevel)
    os.replace(partial, dest)
    return ArchiveInfo(dest, sha256_file(dest), dest.stat().st_size, unzipped, len(files))
