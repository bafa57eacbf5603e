"""The image layout: a container-image recipe for artifacts over the zip limits.

Lambda runs container images of up to 10 GB, against 250 MB for a zip and its
layers. coldbrew writes the *recipe*, a build context, and leaves building and
pushing to the user's tools (``docker build``, or CDK's image assets)::

    NAME-image/
      Dockerfile      FROM the AWS Lambda Python base image for the target's
                      Python and platform, COPY task/ to ${LAMBDA_TASK_ROOT}, CMD
      .dockerignore   sends only task/ to the builder
      task/           the task root: byte for byte the zip layout's files

The context is reproducible: file modes are normalised (0644, 0755 for
executables) and every time is fixed at 1980-01-01, like the zip's entries,
so the ``COPY`` layer does not depend on when or where the build ran.

:func:`check_image_context` verifies a recipe without a container engine: it
parses the Dockerfile (with dockerfile-parse) and checks the instructions, the
base image and platform against the target, that every COPY source is in the
context, and optionally that ``task/`` holds exactly a zip's files.

API::

    dockerfile_text(target, *, handler=HANDLER) -> str
    write_image_context(task_root, dest, target, *, handler=HANDLER) -> ImageContext
    check_image_context(context, target, *, expect_zip=None, handler=HANDLER) -> ImageCheck
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from coldbrew.artifact.archive import sha256_file
from coldbrew.artifact.target import Target
from coldbrew.errors import BuildError

#: AWS's Lambda base images for Python; the tag is the Python version.
BASE_IMAGE = "public.ecr.aws/lambda/python"
#: Docker's names for the target architectures.
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
#: The handler the Lambda runtime interface client calls: module.function.
HANDLER = "lambda_function.handler"
#: Where the task root sits inside the build context.
TASK_DIR = "task"
#: Every time in the context: 1980-01-01 UTC, the zip layout's fixed date.
FIXED_MTIME = 315_532_800
TASK_ROOT_DEST = "${LAMBDA_TASK_ROOT}/"
DOCKERIGNORE_RULES = ("*", f"!{TASK_DIR}")
_DOCKERIGNORE = (
    "# Only the task root goes to the builder; Dockerfile and .dockerignore are read anyway.\n"
    + "\n".join(DOCKERIGNORE_RULES)
    + "\n"
)
_CONTEXT_FILES = {"Dockerfile", ".dockerignore"}


@dataclass(frozen=True)
class ImageContext:
    """A written build context: where, its digest, and what the image will run."""

    path: Path
    #: sha256 over every file's path, mode, time and content: equal digests, equal contexts.
    digest: str
    files: int
    task_bytes: int
    base_image: str
    platform: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the build report."""
        return {
            "path": str(self.path),
            "digest": self.digest,
            "files": self.files,
            "task_bytes": self.task_bytes,
            "base_image": self.base_image,
            "platform": self.platform,
            "built": False,
        }


@dataclass(frozen=True)
class ImageCheck:
    """What :func:`check_image_context` verified."""

    base_image: str
    platform: str
    copies: tuple[tuple[tuple[str, ...], str], ...]
    cmd: tuple[str, ...]
    task_files: int
    matched_zip: bool


def base_image(target: Target) -> str:
    """``public.ecr.aws/lambda/python:3.12``: pinned by tag (see the Dockerfile's comment)."""
    return f"{BASE_IMAGE}:{target.python}"


def dockerfile_text(target: Target, *, handler: str = HANDLER) -> str:
    """The Dockerfile for ``target``: the same text for the same target, every time."""
    platform = DOCKER_PLATFORMS[target.arch]
    return (
        f"# Written by coldbrew: an AWS Lambda image for Python {target.python} on {target.arch}.\n"
        f"# Build it with: docker build --platform {platform} --provenance=false -t IMAGE .\n"
        "# (--provenance=false: Lambda refuses the image index that attestations wrap it in.)\n"
        "# The base image is pinned by tag, which AWS republishes with security patches.\n"
        "# In production pin it by digest, FROM --platform=... IMAGE:TAG@sha256:...,\n"
        "# so every rebuild starts from the same bytes.\n"
        f"FROM --platform={platform} {base_image(target)}\n"
        "# Handler, coldbrew runtime, model, dependencies and the target's bytecode.\n"
        f"COPY {TASK_DIR}/ {TASK_ROOT_DEST}\n"
        f"CMD {json.dumps([handler])}\n"
    )


def _normalise(path: Path, *, executable: bool) -> None:
    path.chmod(0o755 if executable else 0o644)
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def context_digest(context: Path) -> str:
    """sha256 over each file's relative path, mode, mtime and content, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        info = path.stat()
        relative = path.relative_to(context).as_posix()
        line = f"{relative}\0{stat.S_IMODE(info.st_mode):o}\0{int(info.st_mtime)}\0"
        digest.update((line + sha256_file(path) + "\n").encode())
    return digest.hexdigest()


def write_image_context(
    task_root: Path, dest: Path, target: Target, *, handler: str = HANDLER
) -> ImageContext:
    """Write the build context for ``task_root`` into ``dest`` (replaced whole).

    ``task_root`` should be the compiled task root of the zip layout: files are
    copied (never hard-linked, since their modes and times are rewritten).
    """
    if dest.exists() and not (dest / "Dockerfile").is_file():
        raise BuildError(
            f"{dest} exists and is not an image context coldbrew wrote: "
            "move it away or choose another output directory"
        )
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    task = partial / TASK_DIR
    task.mkdir(parents=True)
    files = 0
    task_bytes = 0
    for source in sorted(p for p in task_root.rglob("*") if p.is_file()):
        copy = task / source.relative_to(task_root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, copy)
        _normalise(copy, executable=bool(source.stat().st_mode & stat.S_IXUSR))
        files += 1
        task_bytes += copy.stat().st_size
    (partial / "Dockerfile").write_text(dockerfile_text(target, handler=handler), encoding="utf-8")
    (partial / ".dockerignore").write_text(_DOCKERIGNORE, encoding="utf-8")
    for name in _CONTEXT_FILES:
        _normalise(partial / name, executable=False)
    # Directories last, deepest first: writing into one changes its time.
    for directory in sorted((p for p in task.rglob("*") if p.is_dir()), reverse=True):
        _normalise(directory, executable=True)
    _normalise(task, executable=True)
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return ImageContext(
        dest,
        context_digest(dest),
        files,
        task_bytes,
        base_image(target),
        DOCKER_PLATFORMS[target.arch],
    )


def _parse_dockerfile(path: Path) -> list[dict[str, Any]]:
    try:
        parser_module = importlib.import_module("dockerfile_parse")
    except ImportError as exc:
        raise BuildError(
            "checking an image recipe needs dockerfile-parse: pip install 'coldbrew[dev]'"
        ) from exc
    parser = parser_module.DockerfileParser(path=str(path), env_replace=False)
    structure: list[dict[str, Any]] = parser.structure
    return [i for i in structure if i["instruction"] != "COMMENT"]


def _json_form(value: str) -> list[str] | None:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
        return parsed
    return None


def _check_from(value: str, target: Target, problems: list[str]) -> tuple[str, str]:
    words = value.split()
    flags = [w for w in words if w.startswith("--")]
    rest = [w for w in words if not w.startswith("--")]
    platform = next((f.split("=", 1)[1] for f in flags if f.startswith("--platform=")), "")
    image = rest[0] if len(rest) == 1 else ""
    expected = DOCKER_PLATFORMS[target.arch]
    if platform != expected:
        problems.append(
            f"FROM has platform {platform or '(none)'!r}, the target {target.arch} needs "
            f"--platform={expected}"
        )
    if len(flags) != 1 or len(rest) != 1:
        problems.append(f"FROM should be `--platform=PLATFORM IMAGE`, got {value!r}")
    # A digest pin (IMAGE:TAG@sha256:...) is what production should use: accept it.
    if image.split("@", 1)[0] != base_image(target):
        problems.append(f"FROM image is {image!r}, the target needs {base_image(target)}")
    return image, platform


def _check_copy(value: str, context: Path, problems: list[str]) -> tuple[tuple[str, ...], str]:
    words = _json_form(value) if value.lstrip().startswith("[") else value.split()
    if not words or len(words) < 2:
        problems.append(f"COPY needs sources and a destination, got {value!r}")
        return (), ""
    if any(w.startswith("--") for w in words):
        problems.append(f"COPY takes no flags here (--from etc. copy from outside): {value!r}")
    *sources, dest = words
    for source in sources:
        relative = PurePosixPath(source)
        if relative.is_absolute() or ".." in relative.parts:
            problems.append(f"COPY source {source!r} is outside the build context")
        elif not relative.parts or relative.parts[0] != TASK_DIR:
            # Only task/ survives .dockerignore: anything else copies nothing, or the recipe.
            problems.append(f"COPY source {source!r} is not under {TASK_DIR}/ (see .dockerignore)")
        elif not any(context.glob(str(relative))):
            problems.append(f"COPY source {source!r} does not exist in {context}")
    if dest.rstrip("/") not in {TASK_ROOT_DEST.rstrip("/"), "/var/task"}:
        problems.append(f"COPY destination {dest!r} is not the task root {TASK_ROOT_DEST}")
    return tuple(sources), dest


def _check_task_matches_zip(task: Path, archive: Path, problems: list[str]) -> None:
    on_disk = {p.relative_to(task).as_posix(): p for p in task.rglob("*") if p.is_file()}
    with zipfile.ZipFile(archive) as zf:
        entries = {info.filename: info for info in zf.infolist() if not info.is_dir()}
        for name in sorted(set(entries) ^ set(on_disk)):
            where = "only in the zip" if name in entries else "only in the context"
            problems.append(f"task/{name}: {where}")
        for name in sorted(set(entries) & set(on_disk)):
            path = on_disk[name]
            if zf.read(name) != path.read_bytes():
                problems.append(f"task/{name}: content differs from {archive.name}")
            elif (entries[name].external_attr >> 16) & 0o777 != stat.S_IMODE(path.stat().st_mode):
                problems.append(f"task/{name}: mode differs from {archive.name}")


def check_image_context(
    context: Path, target: Target, *, expect_zip: Path | None = None, handler: str = HANDLER
) -> ImageCheck:
    """Verify a build context without building it; raise :class:`BuildError` listing problems.

    Checks: exactly FROM, COPY..., CMD; the base image and ``--platform`` match
    ``target``; every COPY source exists in the context and is not ignored; the
    destination is the task root; CMD is ``[handler]`` and the handler's module
    is in ``task/``; the context holds nothing else; and, given ``expect_zip``,
    ``task/`` holds exactly the zip's files, bytes and modes.
    """
    dockerfile = context / "Dockerfile"
    if not dockerfile.is_file():
        raise BuildError(
            f"{context} has no Dockerfile: rebuild with `coldbrew build --layout image`"
        )
    problems: list[str] = []
    instructions = _parse_dockerfile(dockerfile)
    kinds = [i["instruction"] for i in instructions]
    if not kinds or kinds[0] != "FROM" or kinds[-1] != "CMD" or set(kinds[1:-1]) != {"COPY"}:
        problems.append(f"instructions should be FROM, COPY..., CMD; got {', '.join(kinds)}")
    image, platform = "", ""
    cmd: tuple[str, ...] = ()
    copies: list[tuple[tuple[str, ...], str]] = []
    for instruction in instructions:
        kind, value = instruction["instruction"], str(instruction["value"])
        if kind == "FROM":
            image, platform = _check_from(value, target, problems)
        elif kind == "COPY":
            copies.append(_check_copy(value, context, problems))
        elif kind == "CMD":
            cmd = tuple(_json_form(value) or ())
            if list(cmd) != [handler]:
                problems.append(f"CMD should be the exec form [{handler!r}], got {value!r}")
    # The module CMD names must be in the task root, whatever the handler should be.
    module = (cmd[0] if len(cmd) == 1 else handler).rsplit(".", 1)[0].replace(".", "/") + ".py"
    if not (context / TASK_DIR / module).is_file():
        problems.append(f"the handler module {TASK_DIR}/{module} is missing")
    ignore = context / ".dockerignore"
    rules = [] if not ignore.is_file() else ignore.read_text(encoding="utf-8").splitlines()
    if tuple(r.strip() for r in rules if r.strip() and not r.startswith("#")) != DOCKERIGNORE_RULES:
        problems.append(f".dockerignore should hold exactly {', '.join(DOCKERIGNORE_RULES)}")
    strays = sorted(p.name for p in context.iterdir() if p.name not in {*_CONTEXT_FILES, TASK_DIR})
    if strays:
        problems.append(f"unexpected files in the context: {', '.join(strays)}")
    if expect_zip is not None:
        _check_task_matches_zip(context / TASK_DIR, expect_zip, problems)
    if problems:
        raise BuildError(
            f"the image recipe in {context} is not right:\n  "
            + "\n  ".join(problems[:20])
            + "\nrewrite it with `coldbrew build --layout image`"
        )
    task_files = sum(1 for p in (context / TASK_DIR).rglob("*") if p.is_file())
    return ImageCheck(
        image, platform, tuple(copies), cmd, task_files, matched_zip=expect_zip is not None
    )
