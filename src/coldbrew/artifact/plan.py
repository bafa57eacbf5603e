"""Plan the removals before touching a file (pure).

Input: an inventory of the staged task root (path -> size, path -> owning
distribution) and the rules. Output: which files go, each with its rule's
reason. The executor only carries the plan out, so every removal in the
report is explained and the plan itself is easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from coldbrew.artifact.rules import Rules, matches


@dataclass(frozen=True)
class Removal:
    """One file the plan removes, and why."""

    path: str
    size: int
    reason: str


@dataclass(frozen=True)
class Plan:
    """The removals, in path order."""

    removals: tuple[Removal, ...]

    @property
    def paths(self) -> frozenset[str]:
        """The removed paths."""
        return frozenset(r.path for r in self.removals)

    def bytes_by_reason(self) -> dict[str, tuple[int, int]]:
        """reason -> (files, bytes) removed for it."""
        totals: dict[str, tuple[int, int]] = {}
        for removal in self.removals:
            files, size = totals.get(removal.reason, (0, 0))
            totals[removal.reason] = (files + 1, size + removal.size)
        return totals


def plan_removals(
    sizes: Mapping[str, int],
    owners: Mapping[str, str],
    rules: Rules,
) -> Plan:
    """Decide, for every file, whether a rule removes it; the first matching rule wins.

    ``sizes`` maps POSIX paths relative to the task root to byte sizes;
    ``owners`` maps paths to their normalised distribution name, for files
    that belong to an installed distribution. A removed distribution goes
    whole, licences included (its code is gone); otherwise ``keep`` globs win
    over path rules.
    """
    removals = []
    for path in sorted(sizes):
        owner = owners.get(path)
        reason = next((r.reason for r in rules.remove if owner in r.distributions), None)
        if reason is None and not matches(path, rules.keep):
            reason = next((r.reason for r in rules.remove if matches(path, r.paths)), None)
        if reason is not None:
            removals.append(Removal(path, sizes[path], reason))
    return Plan(tuple(removals))
