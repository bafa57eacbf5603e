"""One check of an artifact zip, run before anything unpacks, uploads or trusts it.

``coldbrew serve`` (and demo, bench) unpack an artifact; ``coldbrew deploy``
uploads one; ``cdk synth`` hands one to CloudFormation. Each first calls
:func:`check_artifact_zip`, which reads the zip's central directory and
refuses, naming the member and the problem:

* a zip that cannot be read (truncated, not a zip, a corrupt directory);
* a member name that is absolute, empty, holds a NUL, or climbs out with ``..``;
* two members with the same path (the later would silently replace the earlier);
* a member under another member that is a file or a symlink. Refusing any path
  through a symlink member is what makes a chain of relative links
  (``l1 -> .``, ``l2 -> l1/..``, ``l3 -> l2/..``, then ``l3/x``) harmless: no
  member can be written through a link, whatever the link resolves to;
* a symlink whose target is absolute, or leaves the root when resolved
  against its own directory, or passes through another symlink on the way
  (``l1/..`` is the parent of wherever ``l1`` points, not of ``l1``'s directory);
* devices, FIFOs and sockets;
* more than :data:`MAX_MEMBERS` members, or declared sizes that add up past
  Lambda's unzipped limit (:data:`coldbrew.artifact.limits.UNZIPPED_LIMIT`).

Declared sizes can lie (a zip bomb), so whoever unpacks must also cap the
bytes actually written: :attr:`ZipSurvey.unzipped_bytes` is the budget.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from coldbrew.artifact.limits import MB, UNZIPPED_LIMIT
from coldbrew.errors import ArtifactError

#: More members than any real artifact has (MiniLM's holds ~1,000); a zip of
#: millions of empty files would exhaust inodes and time, not bytes.
MAX_MEMBERS = 100_000
#: Linux's PATH_MAX: no real symlink target is longer.
MAX_LINK_TARGET_BYTES = 4096
#: What to do about an artifact this module refuses.
REBUILD = "rebuild it with `coldbrew build`"
#: What zipfile raises for a corrupt zip (a truncated member, bad deflate data,
#: an unknown compression method); reading the file itself can raise OSError.
CORRUPT_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)

_SPECIAL_FILES = (stat.S_ISCHR, stat.S_ISBLK, stat.S_ISFIFO, stat.S_ISSOCK)


@dataclass(frozen=True)
class SafeMember:
    """A member that passed every check, with its normalised relative path."""

    info: zipfile.ZipInfo
    path: PurePosixPath  # relative, no "." or ".." parts, never empty
    kind: str  # "file", "dir" or "symlink"
    link_target: str | None = None  # for a symlink: its (checked) target


@dataclass(frozen=True)
class ZipSurvey:
    """What :func:`check_artifact_zip` found: the checked members and their declared size."""

    zip_path: Path
    members: tuple[SafeMember, ...]
    unzipped_bytes: int


def unreadable_zip(zip_path: Path, exc: BaseException) -> ArtifactError:
    """The one error for a zip whose directory or data cannot be read."""
    detail = str(exc) or type(exc).__name__
    return ArtifactError(f"{zip_path} is not a readable zip ({detail}): {REBUILD}")


def check_artifact_zip(
    zip_path: Path, *, max_unzipped_bytes: int = UNZIPPED_LIMIT, read_data: bool = False
) -> ZipSurvey:
    """Check every member of ``zip_path``; see the module docstring for the rules.

    ``read_data`` also decompresses every member and checks its CRC (for a
    zip about to be uploaded rather than unpacked). Raises
    :class:`~coldbrew.errors.ArtifactError`, naming the member and the problem.
    """
    if not zip_path.is_file():
        raise ArtifactError(f"artifact {zip_path} does not exist: build it with `coldbrew build`")
    try:
        with zipfile.ZipFile(zip_path) as archive:
            survey = survey_open_zip(zip_path, archive, max_unzipped_bytes=max_unzipped_bytes)
            if read_data:
                bad = archive.testzip()
                if bad is not None:
                    raise ArtifactError(
                        f"{zip_path}: member {bad!r} is corrupt (bad CRC): {REBUILD}"
                    )
    except (*CORRUPT_ZIP_ERRORS, OSError) as exc:
        raise unreadable_zip(zip_path, exc) from None
    return survey


def survey_open_zip(
    zip_path: Path, archive: zipfile.ZipFile, *, max_unzipped_bytes: int = UNZIPPED_LIMIT
) -> ZipSurvey:
    """:func:`check_artifact_zip` on an already open ``archive`` (the one about to be unpacked)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArtifactError(
            f"{zip_path} holds {len(infos)} members, more than the {MAX_MEMBERS} "
            f"an artifact may: {REBUILD}"
        )
    try:
        members = _check_members(zip_path, archive, infos)
    except CORRUPT_ZIP_ERRORS as exc:
        raise unreadable_zip(zip_path, exc) from None
    total = sum(m.info.file_size for m in members if m.kind == "file")
    check_unzipped_size(total, max_unzipped_bytes, str(zip_path))
    return ZipSurvey(zip_path, tuple(members), total)


def check_function_zips(function: Path, layers: Sequence[Path] = ()) -> int:
    """Check a function's zip and its layer zips, and their unzipped total against Lambda's limit.

    Only files are checked: a directory is used in place, and a missing path is
    its caller's error to name. Returns the declared unzipped bytes of the zips.
    """
    zips = [path for path in (function, *layers) if path.is_file()]
    total = sum(check_artifact_zip(path).unzipped_bytes for path in zips)
    if layers:
        check_unzipped_size(total, UNZIPPED_LIMIT, f"{function} with its layers")
    return total


def check_unzipped_size(total: int, limit: int, what: str) -> None:
    """Refuse ``total`` unzipped bytes over ``limit`` (Lambda's, for a function and its layers)."""
    if total > limit:
        raise ArtifactError(
            f"{what} unzips to {total / MB:.1f} MB, over Lambda's {limit / MB:.0f} MB limit "
            "for a function and its layers: shrink it (`coldbrew build` reports what is "
            "large), or ship it as a container image (`coldbrew build --layout image`)"
        )


def _check_members(
    zip_path: Path, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]
) -> list[SafeMember]:
    members: list[SafeMember] = []
    kinds: dict[PurePosixPath, str] = {}
    for info in infos:
        path = _member_path(zip_path, info.filename)
        mode = info.external_attr >> 16
        if any(is_special(mode) for is_special in _SPECIAL_FILES):
            raise _refuse(zip_path, info.filename, "is a device, FIFO or socket")
        if info.is_dir():
            kind = "dir"
        elif stat.S_ISLNK(mode):
            kind = "symlink"
        else:
            kind = "file"
        if path in kinds:
            raise _refuse(zip_path, info.filename, "appears twice in the zip")
        kinds[path] = kind
        target = _link_target(zip_path, archive, info) if kind == "symlink" else None
        members.append(SafeMember(info, path, kind, target))
    for member in members:
        for parent in member.path.parents:
            if kinds.get(parent, "dir") != "dir":
                raise _refuse(
                    zip_path,
                    member.info.filename,
                    f"lies under {str(parent)!r}, which is a {kinds[parent]}, not a directory",
                )
        if member.link_target is not None:
            _check_link(zip_path, member, kinds)
    return members


def _member_path(zip_path: Path, name: str) -> PurePosixPath:
    if not name or "\0" in name:
        raise _refuse(zip_path, name, "has an empty name or a NUL byte")
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise _refuse(zip_path, name, "has an absolute or Windows path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refuse(zip_path, name, "climbs out of the task root with '..'")
    if not parts:
        raise _refuse(zip_path, name, "names the task root itself")
    return PurePosixPath(*parts)


def _link_target(zip_path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    if info.file_size > MAX_LINK_TARGET_BYTES:
        raise _refuse(zip_path, info.filename, f"is a symlink with a {info.file_size}-byte target")
    try:
        target = archive.read(info).decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(zip_path, info.filename, "is a symlink whose target is not UTF-8") from None
    if not target or "\0" in target or target.startswith("/"):
        raise _refuse(zip_path, info.filename, f"is a symlink to an absolute path {target!r}")
    return target


def _check_link(zip_path: Path, link: SafeMember, kinds: dict[PurePosixPath, str]) -> None:
    # Resolve the target from the link's directory, one part at a time. Through
    # a symlink, a later '..' would be taken from wherever that link points,
    # so a link may only end on another link, never pass through one.
    assert link.link_target is not None
    where = list(link.path.parent.parts)
    parts = [p for p in link.link_target.split("/") if p not in ("", ".")]
    for index, part in enumerate(parts):
        if part == "..":
            if not where:
                raise _refuse(
                    zip_path,
                    link.info.filename,
                    f"is a symlink to {link.link_target!r}, outside the task root",
                )
            where.pop()
            continue
        where.append(part)
        if index < len(parts) - 1 and kinds.get(PurePosixPath(*where)) == "symlink":
            raise _refuse(
                zip_path,
                link.info.filename,
                f"is a symlink to {link.link_target!r}, through another symlink "
                f"{'/'.join(where)!r}",
            )


def _refuse(zip_path: Path, member: str, problem: str) -> ArtifactError:
    return ArtifactError(f"{zip_path}: member {member!r} {problem}: {REBUILD}")
