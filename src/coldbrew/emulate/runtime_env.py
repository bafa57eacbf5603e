"""The emulated managed runtime: a cached venv holding AWS's runtime client.

On Lambda the runtime interface client lives outside the function, in
``/var/runtime``. Here it lives in a venv made with the target interpreter,
cached under ``<cache-dir>/runtimes/python3.12-<arch>/`` and shared by every
artifact for that target. The venv is built in a temporary directory and
renamed into place, under a file lock, so concurrent ``coldbrew serve``
processes never see half a runtime.
"""

from __future__ import annotations

import fcntl
import json
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coldbrew.errors import EmulationError
from coldbrew.interpreters import Interpreter, find_interpreter

#: The runtime interface client release the emulator runs; bump deliberately.
AWSLAMBDARIC_VERSION = "4.2.2"

_MARKER = "coldbrew-runtime.json"
_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


@dataclass(frozen=True)
class RuntimeEnvironment:
    """A ready runtime venv: run ``python -m awslambdaric`` with it."""

    root: Path
    python: Path
    python_version: str  # "3.12.1"
    arch: str  # Lambda's name: "x86_64" or "arm64"


def lambda_arch(machine: str) -> str:
    """Lambda's name for an architecture ("aarch64" -> "arm64"), or an error naming it."""
    arch = _ARCH_ALIASES.get(machine.lower())
    if arch is None:
        raise EmulationError(f"unknown architecture {machine!r}; Lambda runs x86_64 and arm64")
    return arch


def host_arch() -> str:
    """This machine's architecture, in Lambda's naming."""
    return lambda_arch(platform.machine())


def check_arch(artifact_arch: str | None, host: str | None = None) -> str:
    """Refuse an artifact this host cannot execute; return the arch to run.

    No emulation of a foreign CPU is attempted: a native wheel built for arm64
    would fail in confusing ways on x86_64, so say so up front.
    """
    here = host or host_arch()
    if artifact_arch is None:
        return here
    wanted = lambda_arch(artifact_arch)
    if wanted != here:
        raise EmulationError(
            f"the artifact is built for {wanted}, which this {here} host cannot run; "
            f"rebuild it for {here} to serve it locally"
        )
    return wanted


def ensure_runtime(
    cache_dir: Path,
    python_version: str,
    *,
    explicit_python: Path | None = None,
    arch: str | None = None,
) -> RuntimeEnvironment:
    """Return the cached runtime venv for ``python_version``, creating it if needed.

    The first call installs ``awslambdaric`` from the package index (a few
    seconds); later calls only read a marker file. Raises
    :class:`~coldbrew.errors.InterpreterNotFoundError` when no interpreter for
    the version exists, :class:`EmulationError` when the install fails.
    """
    run_arch = arch or host_arch()
    root = cache_dir / "runtimes" / f"python{python_version}-{run_arch}"
    cached = _load(root, explicit_python)
    if cached is not None:
        return cached
    interpreter = find_interpreter(python_version, explicit=explicit_python)
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _load(root, explicit_python)  # another process may have built it meanwhile
        if cached is not None:
            return cached
        _build(root, interpreter, run_arch)
    built = _load(root, explicit_python)
    if built is None:  # pragma: no cover - _build either succeeds or raises
        raise EmulationError(f"runtime at {root} is unusable after building it")
    return built


def _load(root: Path, explicit_python: Path | None) -> RuntimeEnvironment | None:
    try:
        marker = json.loads((root / _MARKER).read_text())
    except (OSError, ValueError):
        return None
    python = root / "bin" / "python"
    base = Path(marker.get("base", ""))
    if marker.get("awslambdaric") != AWSLAMBDARIC_VERSION or not python.exists():
        return None
    if not base.exists():  # the interpreter the venv points at was uninstalled
        return None
    if explicit_python is not None and base.resolve() != explicit_python.resolve():
        return None
    return RuntimeEnvironment(
        root=root, python=python, python_version=marker["python"], arch=marker["arch"]
    )


def _build(root: Path, interpreter: Interpreter, arch: str) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        _run([str(interpreter.path), "-m", "venv", str(staging)], "create the runtime venv")
        _run(
            [
                str(staging / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                f"awslambdaric=={AWSLAMBDARIC_VERSION}",
            ],
            f"install awslambdaric {AWSLAMBDARIC_VERSION}",
        )
        marker = {
            "awslambdaric": AWSLAMBDARIC_VERSION,
            "python": interpreter.version,
            "base": str(interpreter.path),
            "arch": arch,
        }
        (staging / _MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if root.exists():  # stale: wrong pin or a vanished base interpreter
            shutil.rmtree(root)
        # The venv only runs `python -m`, which finds its site-packages
        # relative to bin/python, so renaming it is safe.
        staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmulationError(f"could not {what}: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise EmulationError(f"could not {what} (exit {done.returncode}): {tail}")
