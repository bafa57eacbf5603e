"""Dropping the OS page cache before a cold start, when the kernel allows it.

A real Lambda cold start reads the function's files from a fresh
environment, not from a warm page cache; on a developer machine the second
run of anything is served from memory. ``sync`` then writing ``3`` to
``/proc/sys/vm/drop_caches`` (root only, and often refused inside
containers) evicts clean pages, dentries and inodes. Whether it actually
happened is recorded, never assumed: a bench that silently measured warm
files would overstate every cold start ratio's meaning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DROP_CACHES = Path("/proc/sys/vm/drop_caches")


@dataclass
class PageCache:
    """Drops the page cache on request and counts what happened.

    ``enabled`` False never touches the kernel (``--no-drop-caches``).
    ``control`` is the file written; tests point it at a temporary file.
    """

    enabled: bool = True
    control: Path = DROP_CACHES
    drops: int = 0
    failures: int = 0
    error: str | None = None
    sync_first: bool = True  # tests writing to a plain file skip the (slow) sync

    def drop(self) -> bool:
        """Try to drop the cache; True when it was dropped this time."""
        if not self.enabled:
            return False
        if self.sync_first:
            os.sync()  # dirty pages cannot be dropped, so write them first
        try:
            with open(self.control, "w") as control:
                control.write("3\n")
        except OSError as exc:
            self.failures += 1
            self.error = f"{self.control}: {exc.strerror or exc}"
            return False
        self.drops += 1
        return True

    @property
    def state(self) -> str:
        """One phrase for the table and the JSON: off, dropped, or why not."""
        if not self.enabled:
            return "not dropped (--no-drop-caches)"
        if self.drops and not self.failures:
            return f"dropped before every cold start ({self.drops}x)"
        if self.drops:
            return f"dropped {self.drops}x, failed {self.failures}x ({self.error})"
        if self.failures:
            return f"could not be dropped: {self.error}"
        return "not dropped (no cold start measured)"

    def to_json(self) -> dict[str, object]:
        """What the JSON's environment records about the page cache."""
        return {
            "requested": self.enabled,
            "dropped": self.drops > 0 and self.failures == 0,
            "drops": self.drops,
            "failures": self.failures,
            "error": self.error,
            "state": self.state,
        }
