"""Trace-guided pruning (pure): keep what the smoke invocation touched.

A file survives if the trace touched it, if it is the source or bytecode twin
of a touched file (tracebacks need the source; imports need the bytecode), or
if a ``[prune] keep`` glob names it (files native code reads without mapping,
such as the model, and anything else the rules protect). Everything else is
removed, each with the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from coldbrew.artifact.inventory import bytecode_source
from coldbrew.artifact.plan import Plan, Removal
from coldbrew.artifact.rules import matches

REASON = "never touched by the smoke invocation (trace-guided pruning)"


def _twins(path: str, python_tag: str) -> Iterable[str]:
    yield path
    source = bytecode_source(path)
    if source != path:
        yield source
    elif path.endswith(".py"):
        pure = PurePosixPath(path)
        yield str(pure.parent / "__pycache__" / f"{pure.stem}.{python_tag}.pyc").removeprefix("./")


def plan_prune(
    sizes: Mapping[str, int],
    touched: Iterable[str],
    keep: tuple[str, ...],
    *,
    python_tag: str,
    reason: str = REASON,
) -> Plan:
    """Remove every file in ``sizes`` not touched, not a twin of one, and not kept.

    ``python_tag`` names the bytecode files (``cpython-312``).
    """
    alive = {twin for path in touched for twin in _twins(path, python_tag)}
    removals = tuple(
        Removal(path, size, reason)
        for path, size in sorted(sizes.items())
        if path not in alive and not matches(path, keep)
    )
    return Plan(removals)
