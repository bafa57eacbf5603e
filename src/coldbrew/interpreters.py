"""Finding a Python interpreter of a given version on the build host.

Lambda targets (3.12, 3.13) are usually not the interpreter coldbrew runs on,
so they are looked up: an explicit path first, then ``pythonX.Y`` on PATH,
then pyenv's installed versions. A pyenv *shim* that is not selected fails
when run, so every candidate is probed by running it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coldbrew.errors import ConfigurationError, InterpreterNotFoundError

_VERSION_RE = re.compile(r"^3\.(\d+)$")


@dataclass(frozen=True)
class Interpreter:
    """A working interpreter and the exact version it reported."""

    path: Path
    version: str  # "3.12.1"

    @property
    def minor(self) -> str:
        """The "3.12" part."""
        return ".".join(self.version.split(".")[:2])


def parse_minor(version: str) -> str:
    """Validate a "3.12"-style version string, naming what is accepted."""
    if not _VERSION_RE.match(version):
        raise ConfigurationError(f"python version must look like 3.12, got {version!r}")
    return version


def probe(path: Path) -> Interpreter | None:
    """Run ``path`` and return what it is, or None when it does not run."""
    try:
        out = subprocess.run(
            [str(path), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env={k: v for k, v in os.environ.items() if k != "PYENV_VERSION"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return Interpreter(path=path, version=out.stdout.strip())


def _candidates(minor: str, pyenv_root: Path | None) -> Iterator[Path]:
    on_path = shutil.which(f"python{minor}")
    if on_path:
        yield Path(on_path)
    roots = [pyenv_root] if pyenv_root else []
    roots.append(Path.home() / ".pyenv")
    for root in roots:
        versions = root / "versions"
        if versions.is_dir():
            for entry in sorted(versions.iterdir(), reverse=True):
                if entry.name == minor or entry.name.startswith(minor + "."):
                    yield entry / "bin" / f"python{minor}"


def find_interpreter(
    version: str,
    *,
    explicit: Path | None = None,
    pyenv_root: Path | None = None,
) -> Interpreter:
    """Find a working interpreter for ``version`` ("3.12"), or say how to get one."""
    minor = parse_minor(version)
    if explicit is not None:
        found = probe(explicit)
        if found is None or found.minor != minor:
            raise InterpreterNotFoundError(
                f"{explicit} is not a working Python {minor} interpreter"
            )
        return found
    env_root = os.environ.get("PYENV_ROOT")
    root = pyenv_root or (Path(env_root) if env_root else None)
    for candidate in _candidates(minor, root):
        found = probe(candidate)
        if found is not None and found.minor == minor:
            return found
    raise InterpreterNotFoundError(
        f"no Python {minor} interpreter found (looked for python{minor} on PATH and in pyenv); "
        f"install one (e.g. `pyenv install {minor}`) or pass its path explicitly"
    )
