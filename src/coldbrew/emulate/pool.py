"""Sandboxes kept warm between invocations, up to a concurrency limit.

Like Lambda: an idle sandbox is reused (warm); with none idle a new one is
made (cold) while fewer than ``max_concurrency`` exist; idle sandboxes are
reaped after ``idle_ttl_s``. Where Lambda throttles at once, this pool lets a
request wait up to ``queue_wait_s`` for a sandbox to come free, because a
local concurrency limit stands for a machine's capacity rather than an
account quota; past that the caller is told to throttle.

The most recently used idle sandbox is taken first, so a trickle of requests
keeps one sandbox warm and lets the others age out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from coldbrew.errors import EmulationError


class PooledSandbox(Protocol):
    """What the pool needs of a sandbox."""

    last_used: float

    @property
    def alive(self) -> bool: ...

    def kill(self) -> None: ...


S = TypeVar("S", bound=PooledSandbox)


class SandboxPool(Generic[S]):
    """Hands out sandboxes: ``acquire`` one, use it, ``release`` it.

    ``spawn`` makes and starts a new sandbox; it runs outside the pool's lock,
    so one slow cold start does not hold up warm requests. ``clock`` is used
    for idle ages only, so tests can age sandboxes without sleeping.
    """

    def __init__(
        self,
        spawn: Callable[[], S],
        *,
        max_concurrency: int,
        idle_ttl_s: float,
        queue_wait_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spawn = spawn
        self._max = max_concurrency
        self._ttl = idle_ttl_s
        self._queue_wait = queue_wait_s
        self._clock = clock
        self._cond = threading.Condition()
        self._idle: list[S] = []  # oldest first
        self._busy: list[S] = []
        self._reserved = 0  # slots taken by cold starts in progress
        self._closed = False
        self._reaper_stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def acquire(self) -> tuple[S, bool] | None:
        """A sandbox and whether it is new (cold); None when throttled.

        Raises :class:`EmulationError` if the pool is closed, or whatever
        ``spawn`` raises.
        """
        deadline = time.monotonic() + self._queue_wait
        dead: list[S] = []
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise EmulationError("the emulator has been stopped")
                    while self._idle:
                        sandbox = self._idle.pop()
                        if sandbox.alive:
                            self._busy.append(sandbox)
                            return sandbox, False
                        dead.append(sandbox)  # died while idle: never hand it out
                    if len(self._busy) + self._reserved < self._max:
                        self._reserved += 1
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)
        finally:
            for sandbox in dead:
                sandbox.kill()
        try:
            sandbox = self._spawn()
        except BaseException:
            with self._cond:
                self._reserved -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._reserved -= 1
            self._busy.append(sandbox)
        return sandbox, True

    def release(self, sandbox: S, *, reusable: bool) -> None:
        """Give ``sandbox`` back: kept idle if ``reusable``, else killed."""
        with self._cond:
            self._busy.remove(sandbox)
            keep = reusable and not self._closed
            if keep:
                sandbox.last_used = self._clock()
                self._idle.append(sandbox)
            self._cond.notify()
        if not keep:
            sandbox.kill()

    def reap_idle(self, max_idle_s: float | None = None) -> int:
        """Kill sandboxes idle for at least ``max_idle_s`` (default: the TTL); return how many.

        ``max_idle_s=0`` retires every idle sandbox, so the next request is a
        cold start (benchmarks and the demo measure cold starts this way).
        """
        ttl = self._ttl if max_idle_s is None else max_idle_s
        now = self._clock()
        with self._cond:
            expired = [s for s in self._idle if now - s.last_used >= ttl]
            self._idle = [s for s in self._idle if s not in expired]
            if expired:
                self._cond.notify_all()
        for sandbox in expired:
            sandbox.kill()
        return len(expired)

    def start_reaper(self, interval_s: float | None = None) -> None:
        """Reap idle sandboxes in a background thread until :meth:`close`."""
        interval = interval_s if interval_s is not None else min(max(self._ttl / 4, 0.05), 5.0)

        def loop() -> None:
            while not self._reaper_stop.wait(interval):
                self.reap_idle()

        self._reaper = threading.Thread(target=loop, name="sandbox-reaper", daemon=True)
        self._reaper.start()

    def counts(self) -> tuple[int, int]:
        """(idle, busy) sandboxes right now."""
        with self._cond:
            return len(self._idle), len(self._busy)

    def idle_sandboxes(self) -> list[S]:
        """The idle sandboxes, most recently used last."""
        with self._cond:
            return list(self._idle)

    def close(self) -> None:
        """Kill every sandbox, busy ones too; later ``acquire`` calls raise."""
        self._reaper_stop.set()
        with self._cond:
            self._closed = True
            doomed = self._idle + self._busy
            self._idle = []
            self._cond.notify_all()
        # Busy sandboxes stay listed until released; killing them makes their
        # invocations end with a crash, which releases them.
        for sandbox in doomed:
            sandbox.kill()
        if self._reaper is not None:
            self._reaper.join(timeout=2)
