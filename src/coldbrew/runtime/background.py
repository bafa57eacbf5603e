"""One function run on a thread of its own, its result (or its exception) collected later.

Used at init to create the ONNX Runtime session while the main thread does
other work (imports, the tokenizer). That overlap is real because ctypes
releases the GIL for the whole of every foreign call: ``dlopen`` of
``libonnxruntime.so`` and ``CreateSession`` (reading and parsing the model,
prepacking its weights) run in C while the interpreter carries on.

Not :mod:`concurrent.futures`: importing it costs a cold start more than this
whole module, and one thread needs no pool. :mod:`threading` is already
imported by the Lambda runtime client.

The thread is not a daemon: if init fails on the main thread while the
session is still being created, the interpreter waits for the thread at exit
instead of tearing ONNX Runtime down underneath it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Background:
    """Runs ``target()`` on a new thread at once; :meth:`result` waits for it.

    :meth:`result` returns what ``target`` returned or raises what it raised:
    the same exception object, so its type and message are what a direct call
    would have produced (the traceback also shows the thread's frames).

    Not generic: ``typing.Generic`` would import ``typing`` (~2.6 ms) before the
    session starts; the one caller checks the type of what it gets back.
    """

    def __init__(self, target: Callable[[], object], *, name: str) -> None:
        self._target = target
        self._value: tuple[object] | None = None  # a 1-tuple once target returned (None is a value)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = (self._target(),)
        except BaseException as exc:  # handed to the caller of result(), re-raised there
            self._error = exc

    def wait(self) -> None:
        """Block until ``target`` has returned or raised."""
        self._thread.join()

    def result(self) -> object:
        """``target``'s return value, or its exception raised here."""
        self.wait()
        if self._error is not None:
            raise self._error
        if self._value is None:  # neither returned nor raised: cannot happen after join
            raise RuntimeError(f"background thread {self._thread.name} ended without a result")
        return self._value[0]
