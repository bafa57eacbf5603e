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

from coldbrew import config
from coldbrew.errors import BuildError
from coldbrew.interpreters import Interpreter

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


def run_probe(root: Path, events: Sequence[Any], interpreter: Interpreter) -> ProbeRun:
    """Invoke ``root``'s handler with ``events`` under ``interpreter``; record what it touched."""
    with tempfile.TemporaryDirectory(prefix="coldbrew-probe-") as tmp:
        events_path, out_path = Path(tmp) / "events.json", Path(tmp) / "probe.json"
        events_path.write_text(json.dumps(list(events)), encoding="utf-8")
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(root),
            config.INTRA_OP_THREADS: "1",
        }
        command = [str(interpreter.path), "-I", "-B", str(PROBE_SCRIPT),
                   str(root), str(events_path), str(out_path)]  # fmt: skip
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
