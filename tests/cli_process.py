"""A ``coldbrew`` command in a subprocess, its output read line by line.

Shared by the functional tests that run ``serve`` or ``deploy --local`` for
real: each says only how to launch it; waiting for a line and collecting the
rest after the exit are here, written once.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from gcf_artifacts import CACHE_DIR


def coldbrew_command() -> list[str]:
    """The ``coldbrew`` script beside this interpreter, or the CLI through ``-c``."""
    cli = Path(sys.executable).with_name("coldbrew")
    if cli.exists():
        return [str(cli)]
    return [sys.executable, "-c", "from coldbrew.cli import main; main()"]


class CliProcess:
    """``coldbrew ARGS`` running with the real cache and ``env`` on top of this one's."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        environ = {**os.environ, "COLDBREW_CACHE_DIR": str(CACHE_DIR), **(env or {})}
        environ.pop("COLDBREW_DEBUG", None)  # the user's view: no tracebacks on purpose
        self.proc = subprocess.Popen(
            [*coldbrew_command(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environ,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, within_s: float = 180) -> re.Match[str]:
        """The first line from now matching ``pattern``; fails with everything seen."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.seen))

    def finish(self, within_s: float = 60) -> tuple[int, str]:
        """Wait for the exit; its status and everything it printed."""
        try:
            code = self.proc.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._pump.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "\n".join(self.seen)
