"""The emulated Cloud Functions runtime: functions-framework, outside the artifact.

On Cloud Functions the Python buildpack installs functions-framework apart
from the function's source. Here it is a ``pip install --target`` made by the
target interpreter's own pip (so its wheels fit that Python), cached under
``<cache-dir>/gcf-framework/python3.12-functions-framework-<version>/`` and
shared by every artifact for that Python. It is installed in a temporary
directory and renamed into place under a file lock, so concurrent serves
never see half an install.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coldbrew.errors import EmulationError
from coldbrew.interpreters import Interpreter, find_interpreter

#: The functions-framework release served; bump deliberately.
FUNCTIONS_FRAMEWORK_VERSION = "3.10.2"
_MARKER = "coldbrew-functions-framework.txt"
INSTALL_TIMEOUT_S = 600


@dataclass(frozen=True)
class GcfRuntime:
    """A target interpreter and the functions-framework install it runs with."""

    python: Path
    python_version: str  # "3.12.1"
    framework_dir: Path


def ensure_gcf_runtime(
    cache_dir: Path, python_version: str, *, explicit_python: Path | None = None
) -> GcfRuntime:
    """The target interpreter for ``python_version`` and its cached functions-framework.

    The first call installs the framework from the package index (a few
    seconds); later calls check a marker file. Raises
    :class:`~coldbrew.errors.InterpreterNotFoundError` when no interpreter for
    the version exists, :class:`EmulationError` when the install fails.
    """
    interpreter = find_interpreter(python_version, explicit=explicit_python)
    root = (
        cache_dir
        / "gcf-framework"
        / (f"python{interpreter.minor}-functions-framework-{FUNCTIONS_FRAMEWORK_VERSION}")
    )
    if not (root / _MARKER).is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        with open(root.parent / f".{root.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / _MARKER).is_file():  # another process may have installed it
                _install(root, interpreter)
    return GcfRuntime(interpreter.path, interpreter.version, root)


def _install(root: Path, interpreter: Interpreter) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    requirement = f"functions-framework=={FUNCTIONS_FRAMEWORK_VERSION}"
    what = f"install {requirement} for Python {interpreter.version}"
    command = [str(interpreter.path), "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "--quiet", "--target", str(staging), requirement]  # fmt: skip
    try:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EmulationError(f"could not {what}: {exc}") from None
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise EmulationError(
                f"could not {what} (pip exit {done.returncode}): {tail}; "
                "check the package index is reachable"
            )
        (staging / _MARKER).write_text(f"{interpreter.path} {interpreter.version}\n")
        if root.exists():  # a half install from a killed process
            shutil.rmtree(root)
        staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
