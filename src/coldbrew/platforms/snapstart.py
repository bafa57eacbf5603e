"""SnapStart: warm up before Lambda snapshots the sandbox, re-seed after each restore.

With SnapStart, Lambda runs init once per published version, snapshots the
memory of the sandbox and starts every later sandbox by restoring that
snapshot. Two things follow:

* **Before the snapshot**, one inference: ONNX Runtime allocates its arenas
  and picks its kernels on the first run, the tokenizer builds its caches, and
  the pages of the model and the libraries are faulted in. Done here, all of
  that is in the snapshot and no restored sandbox pays it on its first
  request. The warm-up goes straight to the embedder, not through the
  service, so its result never enters the service's LRU cache: the cache is
  empty in the snapshot and there is nothing to clear after a restore.
* **After each restore**, every restored sandbox starts with the same memory,
  so anything random that was seeded before the snapshot is the same in all
  of them. Re-seeding covers Python's ``random`` module (its global
  generator, seeded from ``os.urandom`` at import, which is what boto3's retry
  jitter and most libraries draw from), and only if it was imported before the
  snapshot (if not, it seeds itself fresh when first imported). What needs no
  re-seeding: the runtime core draws no random numbers at all; ``uuid.uuid4``,
  ``secrets`` and ``os.urandom`` read the kernel's generator, which Lambda
  makes unique per restore. What cannot be re-seeded: ``str`` hash
  randomisation (``PYTHONHASHSEED``) is fixed when the interpreter starts and
  shared by all restored sandboxes (it only hardens dicts against collision
  attacks; no output depends on it), and any ``random.Random`` instance a
  library created privately before the snapshot.

Nothing that holds credentials or connections exists at snapshot time: the
SQS path's S3 client is created on the first SQS batch, after the restore.

The hooks are registered with ``snapshot_restore_py``, which Lambda's Python
runtime (and awslambdaric) provide. It is imported only when Lambda says init
ends in a snapshot (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, read by
:mod:`coldbrew.runtime.settings`); any other init pays nothing. Pure: the registry, the
embedder and the log are passed in.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from coldbrew.runtime.settings import SNAP_START

#: The warm-up input: long enough to run every part of the tokenizer and graph.
WARM_UP_TEXT = "Cold brew is coffee steeped in cold water for twelve hours or more."


class WarmableEmbedder(Protocol):
    """Anything that embeds texts: the ONNX embedder, or a fake."""

    def embed(self, texts: Sequence[str]) -> Sequence[Any]: ...


class HookRegistry(Protocol):
    """The two functions of ``snapshot_restore_py`` used here."""

    def register_before_snapshot(
        self, func: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any: ...

    def register_after_restore(
        self, func: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any: ...


def _stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def before_snapshot(embedder: WarmableEmbedder, log: Callable[[str], None] = _stderr_line) -> None:
    """One warm-up inference, outside the service's cache; logs how long it took."""
    began = time.perf_counter()
    embedder.embed([WARM_UP_TEXT])
    elapsed_ms = (time.perf_counter() - began) * 1000
    log(json.dumps({"event": "snapstart_before_snapshot", "warm_up_ms": round(elapsed_ms, 2)}))


def after_restore(log: Callable[[str], None] = _stderr_line) -> None:
    """Re-seed what the restored sandboxes would otherwise share (see the module docstring)."""
    reseeded = []
    random_module = sys.modules.get("random")
    if random_module is not None:
        random_module.seed()  # no argument: from os.urandom, unique per restore
        reseeded.append("random")
    log(json.dumps({"event": "snapstart_after_restore", "reseeded": reseeded}))


def runtime_registry() -> HookRegistry:
    """Lambda's ``snapshot_restore_py`` module (only importable under a Lambda runtime)."""
    import importlib

    # importlib, not an import statement: the module exists only in Lambda's
    # runtime (and awslambdaric's), not on a build host.
    return cast(HookRegistry, importlib.import_module("snapshot_restore_py"))


def register_snapstart(
    initialization_type: str,
    embedder: WarmableEmbedder,
    *,
    registry: Callable[[], HookRegistry] = runtime_registry,
    log: Callable[[str], None] = _stderr_line,
) -> bool:
    """Register the hooks when init ends in a snapshot; True if it does.

    ``initialization_type`` is :func:`coldbrew.runtime.settings.initialization_type`.
    For any other value nothing is imported or registered.
    """
    if initialization_type != SNAP_START:
        return False
    hooks = registry()
    hooks.register_before_snapshot(before_snapshot, embedder, log)
    hooks.register_after_restore(after_restore, log)
    return True
