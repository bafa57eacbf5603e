"""Ctrl-C on ``coldbrew serve``: once or twice in quick succession, the process exits
cleanly (status 0, no traceback), kills its sandboxes and leaves nothing in its
temporary directory, not even the read-only unpacked artifact.

The real CLI runs as a subprocess with a private TMPDIR. The second SIGINT is
sent at several delays after the first, so that some land while the first is
still being handled and some while the sandboxes are killed and the task root
removed. The artifact holds a few thousand files so that removal takes a while.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from cli_process import CliProcess
from coldbrew.emulate import ensure_runtime
from coldbrew.errors import InterpreterNotFoundError

CACHE_DIR = Path.home() / ".cache" / "coldbrew"  # the real cache: the runtime venv is reused

HANDLER = """
import os

def handler(event, context):
    return {"pid": os.getpid()}
"""

#: Seconds between the first SIGINT and the second; None: only one is sent.
SECOND_SIGINT_DELAYS = [None, 0.0, 0.001, 0.003, 0.01, 0.03, 0.05]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        ensure_runtime(CACHE_DIR, "3.12")
    except InterpreterNotFoundError as exc:
        pytest.skip(f"needs Python 3.12: {exc.message}")
    path = tmp_path_factory.mktemp("artifact") / "function.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER)
        for package in range(40):
            for module in range(60):
                zf.writestr(f"filler/p{package}/m{module}.py", "# filler\n" * 20)
    return path


class _Serving(CliProcess):
    """``coldbrew serve`` in a subprocess with its own TMPDIR."""

    def __init__(self, artifact: Path, tmpdir: Path) -> None:
        super().__init__(["serve", str(artifact), "--port", "0"], {"TMPDIR": str(tmpdir)})


def _gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether ``pid`` stops running (exits, or is a zombie) within the deadline."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("second_after_s", SECOND_SIGINT_DELAYS)
def test_ctrl_c_leaves_no_files_no_sandbox_and_no_traceback(
    artifact: Path, tmp_path: Path, second_after_s: float | None
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    serving = _Serving(artifact, tmpdir)
    try:
        url = serving.wait_for(r"at (http://\S+/)")[1]
        with urllib.request.urlopen(url, timeout=60) as response:  # a live sandbox to kill
            sandbox_pid = json.loads(response.read())["pid"]
        assert list(tmpdir.glob("coldbrew-*")), "the unpacked artifact is not in TMPDIR"
        serving.proc.send_signal(signal.SIGINT)
        if second_after_s is not None:
            time.sleep(second_after_s)
            serving.proc.send_signal(signal.SIGINT)
        code, output = serving.finish()
    finally:
        if serving.proc.poll() is None:
            serving.proc.kill()
            serving.proc.wait()
    leftovers = sorted(str(p.relative_to(tmpdir)) for p in tmpdir.iterdir())
    assert leftovers == [], output
    assert code == 0, output
    assert "Traceback" not in output and "Aborted" not in output, output
    assert _gone(sandbox_pid), f"sandbox {sandbox_pid} outlived serve"
