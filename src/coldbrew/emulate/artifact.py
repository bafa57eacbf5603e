"""Unpacking an artifact zip into a task root, the way Lambda does; or taking a
directory artifact as the task root in place.

File modes and modification times come from the zip. The times matter: a
shipped timestamp-based ``.pyc`` is only used when its recorded source mtime
matches the extracted file, so extracting with "now" would silently turn
every cold start into a compile. Zip times carry no zone; like Lambda (whose
task root runs with TZ=UTC) they are read as UTC.

A directory artifact (a baseline too big for a zip, say) is neither copied
nor made read-only: it is the caller's, so it is only checked and used.
"""

from __future__ import annotations

import calendar
import os
import shutil
import stat
import zipfile
from pathlib import Path

from coldbrew.errors import EmulationError

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def unpack_artifact(zip_path: Path, dest: Path) -> Path:
    """Extract ``zip_path`` into the empty directory ``dest`` and make it read-only.

    Returns ``dest``. Raises :class:`EmulationError` for a missing or bad zip,
    or a member that would land outside ``dest``.
    """
    if not zip_path.is_file():
        raise EmulationError(f"artifact {zip_path} does not exist")
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise EmulationError(f"artifact {zip_path} is not a zip file: {exc}") from None
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    dir_times: list[tuple[Path, float]] = []
    with archive:
        for info in archive.infolist():
            target = _member_path(root, info.filename)
            mode = info.external_attr >> 16
            mtime = float(calendar.timegm((*info.date_time, 0, 0, 0)))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                dir_times.append((target, mtime))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if stat.S_ISLNK(mode):
                link = archive.read(info).decode()
                _member_path(root, str(Path(info.filename).parent / link))  # stays inside
                os.symlink(link, target)
                continue
            with archive.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
            # Zips made without unix modes (e.g. on Windows) get Lambda-friendly defaults.
            perm = stat.S_IMODE(mode) if mode else 0o644
            os.chmod(target, perm & ~_WRITE_BITS)
            os.utime(target, (mtime, mtime))
    _make_dirs_read_only(root)
    # Directory times last: writing their children above changed them.
    for directory, mtime in dir_times:
        os.utime(directory, (mtime, mtime))
    return dest


def directory_task_root(path: Path) -> Path:
    """Check a directory artifact and return it, resolved, to run in place.

    Nothing is copied or changed: the emulator never writes to it or deletes
    it. Raises :class:`EmulationError` when ``path`` is not a directory.
    """
    if not path.is_dir():
        raise EmulationError(f"artifact directory {path} does not exist")
    return path.resolve()


def remove_task_root(path: Path) -> None:
    """Delete a task root made by :func:`unpack_artifact` (it is read-only)."""
    if not path.exists():
        return
    for dirpath, _dirnames, _files in os.walk(path):
        os.chmod(dirpath, 0o755)
    shutil.rmtree(path, ignore_errors=True)


def _member_path(root: Path, name: str) -> Path:
    target = Path(os.path.normpath(root / name))
    if target != root and root not in target.parents:
        raise EmulationError(f"artifact member {name!r} would be written outside the task root")
    return target


def _make_dirs_read_only(root: Path) -> None:
    # Lambda mounts the task root read-only. Dropping the write bits is the
    # closest portable thing; note that root ignores them.
    for dirpath, _dirnames, _files in os.walk(root):
        os.chmod(dirpath, 0o555)
