"""Each invocation's output lands inside its own START/END block, tracebacks included.

Real awslambdaric under Python 3.12 (the runtime venv in the real cache, as
in test_emulator.py), invoked directly.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from coldbrew.emulate import Emulator, EmulatorConfig, RuntimeEnvironment, ensure_runtime
from coldbrew.errors import InterpreterNotFoundError

CACHE_DIR = Path.home() / ".cache" / "coldbrew"

# Logged the way coldbrew's runtime logs a 500 (logger.error with exc_info):
# Python's logging puts the traceback after the format's newline, so the
# runtime writes its last line with no newline after it.
LOGS_AND_RAISES = """
import logging

def handler(event, context):
    try:
        raise ValueError(f"boom {event['n']}")
    except ValueError:
        logging.getLogger("coldbrew").error("request failed", exc_info=True)
    if event["raise"]:
        raise KeyError(f"raised {event['n']}")
    return event["n"]
"""


@pytest.fixture(scope="module")
def runtime() -> RuntimeEnvironment:
    try:
        return ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")


def _blocks(logs: list[str]) -> dict[str, list[str]]:
    """Each request id's lines between its START and END."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in logs:
        if line.startswith("START RequestId: "):
            current = blocks.setdefault(line.split()[2], [])
        elif line.startswith("END RequestId: "):
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_a_traceback_is_logged_inside_its_own_invocation(
    runtime: RuntimeEnvironment, tmp_path: Path
) -> None:
    artifact = tmp_path / "fn.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", LOGS_AND_RAISES)
    logs: list[str] = []
    config = EmulatorConfig(artifact=artifact, cache_dir=CACHE_DIR)
    ids = {}
    with Emulator(config, runtime=runtime, on_log=logs.append) as emulator:
        for n, raises in ((1, True), (2, False), (3, True), (4, False)):
            ids[n] = emulator.invoke({"n": n, "raise": raises}).request_id
    blocks = _blocks(logs)
    for n, request_id in ids.items():
        block = blocks[request_id]
        # With the runtime's own error right after it, the two share a line in
        # the pipe itself ("ValueError: boom 1[ERROR] KeyError..."), as written.
        assert any(line.startswith(f"ValueError: boom {n}") for line in block), (n, logs)
        others = [m for m in ids if m != n]
        assert not any(f"boom {m}" in line for m in others for line in block), (n, logs)
    assert any("KeyError: 'raised 3'" in line for line in blocks[ids[3]])
