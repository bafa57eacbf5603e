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
import contextlib
import os
import shutil
import stat
import zipfile
from pathlib import Path
from typing import IO

from coldbrew.artifact.zip_safety import (
    CORRUPT_ZIP_ERRORS,
    ZipSurvey,
    survey_open_zip,
    unreadable_zip,
)
from coldbrew.errors import ArtifactError, EmulationError

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def unpack_artifact(zip_path: Path, dest: Path) -> Path:
    """Extract ``zip_path`` into the empty directory ``dest`` and make it read-only.

    Returns ``dest``. Every member is checked first
    (:func:`coldbrew.artifact.zip_safety.check_artifact_zip`: no escapes, no
    duplicates, at most Lambda's unzipped size) and nothing is written until
    all have passed; then each file is written through no symlink and capped
    at its declared size. Raises :class:`~coldbrew.errors.ArtifactError` for a
    missing, corrupt or unsafe zip, naming the member.
    """
    if not zip_path.is_file():
        raise ArtifactError(f"artifact {zip_path} does not exist: build it with `coldbrew build`")
    try:
        with zipfile.ZipFile(zip_path) as archive:
            survey = survey_open_zip(zip_path, archive)
            dest.mkdir(parents=True, exist_ok=True)
            root = dest.resolve()
            dir_times = _extract(archive, survey, root)
    except CORRUPT_ZIP_ERRORS as exc:
        raise unreadable_zip(zip_path, exc) from None
    except OSError as exc:
        raise EmulationError(f"could not unpack {zip_path} into {dest}: {exc}") from None
    _make_dirs_read_only(root)
    # Directory times last: writing their children above changed them.
    for directory, mtime in dir_times:
        os.utime(directory, (mtime, mtime), follow_symlinks=False)
    return dest


def _extract(archive: zipfile.ZipFile, survey: ZipSurvey, root: Path) -> list[tuple[Path, float]]:
    dir_times: list[tuple[Path, float]] = []
    for member in survey.members:
        info = member.info
        target = root.joinpath(*member.path.parts)
        mtime = float(calendar.timegm((*info.date_time, 0, 0, 0)))
        if member.kind == "dir":
            _make_real_dirs(root, member.path.parts)
            dir_times.append((target, mtime))
            continue
        _make_real_dirs(root, member.path.parent.parts)
        if member.link_target is not None:
            os.symlink(member.link_target, target)
            continue
        # O_EXCL and O_NOFOLLOW: never write through a link or over an earlier file.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with archive.open(info) as src, os.fdopen(os.open(target, flags, 0o600), "wb") as out:
            _copy_capped(src, out, info.file_size, survey.zip_path, info.filename)
        mode = info.external_attr >> 16
        # Zips made without unix modes (e.g. on Windows) get Lambda-friendly defaults.
        perm = stat.S_IMODE(mode) if mode else 0o644
        os.chmod(target, perm & ~_WRITE_BITS)
        os.utime(target, (mtime, mtime))
    return dir_times


def _make_real_dirs(root: Path, parts: tuple[str, ...]) -> None:
    # The survey already refused any member under a symlink; this checks the
    # disk agrees, so nothing is ever created outside the root.
    current = root
    for part in parts:
        current = current / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(current, 0o755)
        if not stat.S_ISDIR(os.lstat(current).st_mode):
            raise ArtifactError(f"artifact member directory {current} is not a real directory")


def _copy_capped(src: IO[bytes], out: IO[bytes], declared: int, zip_path: Path, name: str) -> None:
    # Declared sizes can lie (a zip bomb): never write more than was declared,
    # which is what the unzipped-size check counted.
    written = 0
    while chunk := src.read(1024 * 1024):
        written += len(chunk)
        if written > declared:
            raise ArtifactError(
                f"{zip_path}: member {name!r} unzips past its declared {declared} bytes: "
                "rebuild it with `coldbrew build`"
            )
        out.write(chunk)


def directory_task_root(path: Path) -> Path:
    """Check a directory artifact and return it, resolved, to run in place.

    Nothing is copied or changed: the emulator never writes to it or deletes
    it. Raises :class:`EmulationError` when ``path`` is not a directory.
    """
    if not path.is_dir():
        raise EmulationError(f"artifact directory {path} does not exist")
    return path.resolve()


def remove_task_root(path: Path) -> None:
    """Delete a task root made by :func:`unpack_artifact` (it is read-only); idempotent.

    Works on any part-done state too: a tree half made read-only, or one a
    removal interrupted halfway. Never follows a symlink out of the tree.
    """
    if not os.path.lexists(path):
        return
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    # Directories need their write bit back before their entries can go; a
    # directory gone meanwhile (another removal) is simply skipped.
    for dirpath, _dirnames, _files in os.walk(path):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o755)
    shutil.rmtree(path, ignore_errors=True)


def _make_dirs_read_only(root: Path) -> None:
    # Lambda mounts the task root read-only. Dropping the write bits is the
    # closest portable thing; note that root ignores them.
    for dirpath, _dirnames, _files in os.walk(root):
        os.chmod(dirpath, 0o555)
