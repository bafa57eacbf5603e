"""Resolve and install the runtime's wheels for the target, never the host.

``pip install --target`` with ``--platform``/``--python-version``/``--abi``
and ``--only-binary=:all:`` picks wheels for the Lambda runtime whatever the
build host is. ``--no-compile`` keeps the host's bytecode out. The installed
tree is cached by a hash of its inputs, so a rebuild costs a copy.

On a cold cache the wheels come from the local wheelhouse that ``make`` fills
(:mod:`coldbrew.artifact.wheelhouse`), with ``--no-index``: no package index is
reached. Only when the wheelhouse is missing or lacks a pin does pip go to the
index, and a note says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from coldbrew.artifact.target import Target
from coldbrew.artifact.wheelhouse import target_flags, wheelhouse_dir
from coldbrew.errors import ResolveError

_COMPLETE = ".coldbrew-complete"
_LAYOUT_VERSION = "1"  # bump when the installed layout changes


def resolve_key(requirements: Sequence[str], target: Target) -> str:
    """The cache key of an install: requirements, target and pip's tags."""
    blob = json.dumps(
        [_LAYOUT_VERSION, sorted(requirements), target.python, target.abi, target.pip_platforms]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def pip_command(
    requirements: Sequence[str], target: Target, dest: Path, *, wheelhouse: Path | None = None
) -> list[str]:
    """The pip invocation that installs ``requirements`` for ``target`` into ``dest``.

    With ``wheelhouse``, only from there (``--no-index --find-links``).
    """
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--target", str(dest), "--no-compile", *target_flags(target)]
    if wheelhouse is not None:
        command += ["--no-index", "--find-links", str(wheelhouse)]
    return [*command, *requirements]


def _note(line: str) -> None:
    print(line, file=sys.stderr)


def _pip(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )


def install_requirements(
    requirements: Sequence[str],
    target: Target,
    cache_dir: Path,
    *,
    say: Callable[[str], None] = _note,
) -> Path:
    """Install (or reuse) the wheels for ``target``; returns the cached site tree.

    From the wheelhouse when it holds them; else from the index, and ``say`` says why.
    """
    site = cache_dir / "site" / f"{target.slug}-{resolve_key(requirements, target)}"
    if (site / _COMPLETE).exists():
        return site
    partial = site.with_name(site.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    wheelhouse = wheelhouse_dir(cache_dir, target)
    result = None
    if any(wheelhouse.glob("*.whl")):
        result = _pip(pip_command(requirements, target, partial, wheelhouse=wheelhouse))
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            say(
                f"note: the wheelhouse {wheelhouse} lacks {', '.join(requirements)} for "
                f"{target.slug}: resolving from the package index (make fills the wheelhouse)"
            )
            result = None
    else:
        say(
            f"note: no wheelhouse at {wheelhouse}: resolving {target.slug} wheels from the "
            "package index (make fills the wheelhouse)"
        )
    if result is None:
        result = _pip(pip_command(requirements, target, partial))
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        detail = "\n".join(
            line for line in result.stderr.splitlines() if not line.startswith("WARNING: Location")
        ).strip()
        raise ResolveError(
            f"pip could not install {', '.join(requirements)} for python {target.python} "
            f"{target.arch} ({', '.join(target.pip_platforms)}):\n{detail[-2000:]}"
        )
    (partial / _COMPLETE).write_text("ok\n")
    shutil.rmtree(site, ignore_errors=True)
    partial.rename(site)
    return site


def link_tree(source: Path, dest: Path) -> None:
    """Populate ``dest`` from ``source`` with hard links (copies across filesystems).

    Later steps only delete files or write new ones, never edit in place, so
    linking cannot corrupt the cache.
    """

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(
        source,
        dest,
        copy_function=link,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(_COMPLETE),
    )
