"""Forwarding a sandbox's output, line by line, to the emulator's log.

Lambda's log puts a function's prints between its START and END lines. The
runtime client writes unbuffered, so a print is in the pipe before the
response reaches us; :meth:`LogPump.drain` waits for whatever is already in
the pipe to be forwarded, so END is not logged ahead of the output.

Output need not end in a newline: Python's logging puts a traceback after the
format's ``\n``, so awslambdaric's handler writes ``...\nValueError: boom``
with none after it. Such a partial line is forwarded when the invocation's
output is drained, not held until the next newline (which would put it in the
next request's START/END block).
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import IO


class LogPump:
    """A thread reading ``stream`` and calling ``sink`` with each decoded line."""

    def __init__(self, stream: IO[bytes], sink: Callable[[str], None], name: str) -> None:
        self._fd = stream.fileno()
        self._stream = stream
        self._sink = sink
        self._cond = threading.Condition()
        self._chunks = 0  # how many reads were forwarded; drain() watches it move
        self._busy = False  # between reading a chunk and forwarding all of it
        self._pending = b""  # a partial line; only touched while busy, or by drain when not
        self._done = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start forwarding."""
        self._thread.start()

    def drain(self, timeout_s: float = 0.2) -> None:
        """Return once everything already in the pipe has been forwarded.

        Gives up after ``timeout_s`` (a process writing without pause).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # Pipe first, then the flag: the pump raises the flag before it
            # reads, so "empty pipe and not busy" means all was forwarded.
            try:
                readable, _, _ = select.select([self._fd], [], [], 0)
            except (OSError, ValueError):
                return  # the pipe is closed: nothing left to wait for
            with self._cond:
                if self._done:
                    return
                if not readable and not self._busy:
                    # All written so far is forwarded, but for a line with no
                    # newline yet: it belongs to this invocation, so out it goes.
                    pending, self._pending = self._pending, b""
                    if pending:
                        self._forward(pending)
                    return
                seen = self._chunks
                # Short slices: a chunk finished between select and here
                # would otherwise make us wait for the next one.
                self._cond.wait_for(partial(self._moved, seen), 0.01)

    def _moved(self, seen: int) -> bool:
        return self._chunks != seen or self._done

    def join(self, timeout_s: float = 1.0) -> None:
        """Wait for the stream to end (the process and its children are gone)."""
        self._thread.join(timeout_s)

    def _forward(self, line: bytes) -> None:
        # The runtime joins a traceback's lines with CR to keep it one
        # CloudWatch event; on a terminal CR would overwrite, so split.
        for part in line.rstrip(b"\r").split(b"\r"):
            self._sink(part.decode("utf-8", "replace"))

    def _run(self) -> None:
        try:
            while True:
                select.select([self._fd], [], [])
                with self._cond:
                    self._busy = True
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    break
                lines = (self._pending + chunk).split(b"\n")
                self._pending = lines.pop()
                for line in lines:
                    self._forward(line)
                with self._cond:
                    self._busy = False
                    self._chunks += 1
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                pending, self._pending = self._pending, b""
            if pending:
                self._forward(pending)
            with self._cond:
                self._busy = False
                self._done = True
                self._cond.notify_all()
            self._stream.close()
