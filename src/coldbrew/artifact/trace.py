"""Run the smoke probe in the target interpreter over a task root.

The probe (:mod:`coldbrew.artifact.smoke_probe`) runs as a separate process of
the *target* Python, isolated (``-I``: no user site, no PYTHON* variables)
with bytecode writes off (``-B``), in an environment shaped like Lambda's.
ONNX Runtime gets one thread so two runs over equivalent trees give
bit-identical answers.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coldbrew.errors import BuildError
from coldbrew.interpreters import Interpreter
from coldbrew.runtime import settings as runtime_settings

PROBE_SCRIPT = Path(__file__).with_name("smoke_probe.py")
PROBE_TIMEOUT_S = 600


@dataclass(frozen=True)
class ProbeRun:
    """What one probe run saw."""

    python: str
    init_error: str | None
    results: list[Any]
    touched: frozenset[str]

    def failure(self) -> str | None:
        """Why this run does not count as serving, or None."""
        if self.init_error:
            return f"the handler failed to load: {self.init_error}"
        raised = [r["value"] for r in self.results if not r.get("ok")]
        return f"the handler raised: {raised[0]}" if raised else None


@dataclass(frozen=True)
class FunctionsFramework:
    """How to probe a Cloud Functions source: the framework's install and the function."""

    #: A ``pip install --target`` of functions-framework for the target Python.
    site: Path
    #: The entry point file at the source's root (``main.py``).
    entry: str
    #: The HTTP function in it (``--target``).
    target: str


def run_probe(
    root: Path,
    events: Sequence[Any],
    interpreter: Interpreter,
    framework: FunctionsFramework | None = None,
) -> ProbeRun:
    """Invoke ``root``'s handler with ``events`` under ``interpreter``; record what it touched.

    With ``framework``, ``events`` are HTTP requests
    (:func:`coldbrew.artifact.smoke.http_requests`) sent through
    functions-framework's app over ``root``; the interpreter runs without its
    own site-packages (``-S``), as the buildpack's image has only the
    framework and the source.
    """
    with tempfile.TemporaryDirectory(prefix="coldbrew-probe-") as tmp:
        events_path, out_path = Path(tmp) / "events.json", Path(tmp) / "probe.json"
        events_path.write_text(json.dumps(list(events)), encoding="utf-8")
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            runtime_settings.INTRA_OP_THREADS: "1",
        }
        flags = ["-I", "-B"]
        mode: list[str] = []
        if framework is None:
            environment["LAMBDA_TASK_ROOT"] = str(root)
        else:
            flags.append("-S")
            mode = ["gcf", str(framework.site), framework.entry, framework.target]
        command = [str(interpreter.path), *flags, str(PROBE_SCRIPT),
                   str(root), str(events_path), str(out_path), *mode]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                env=environment,
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BuildError(f"the smoke invocation ran past {PROBE_TIMEOUT_S} s") from None
        if done.returncode != 0 or not out_path.is_file():
            raise BuildError(
                f"the smoke probe exited with {done.returncode}:\n{done.stderr.strip()[-2000:]}"
            )
        data = json.loads(out_path.read_text(encoding="utf-8"))
    return ProbeRun(
        python=data["python"],
        init_error=data["init_error"],
        results=data["results"],
        touched=frozenset(data["touched"]),
    )
