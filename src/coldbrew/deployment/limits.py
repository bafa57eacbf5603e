"""The shape of a target's limits table: plain frozen data, one instance per target."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class IntRange:
    """An inclusive range with its unit, named in refusals (``128-10240 MB``)."""

    low: int
    high: int
    unit: str

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (self.low <= value <= self.high)
        )

    def __str__(self) -> str:
        return f"{self.low}-{self.high} {self.unit}".rstrip()


@dataclass(frozen=True)
class TargetLimits:
    """What one serverless target accepts; each figure with where it comes from.

    Sizes are bytes. ``source`` names the provider documentation page and the
    date the figures were checked.
    """

    name: str
    memory_mb: IntRange
    timeout_s: IntRange
    request_bytes: int
    response_bytes: int
    pythons: tuple[str, ...]
    arches: tuple[str, ...]
    reserved_env: frozenset[str]
    source: str
