"""The schedule's values: a :class:`Schedule` of :class:`ScheduleBlock`, and their UTC times.

The file these are read from and written to is described in
:mod:`coldbrew.capacity.schedule`; :mod:`coldbrew.capacity.schedule_parse`
validates it into these values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from coldbrew.capacity.forecast import SECONDS_PER_DAY
from coldbrew.errors import ConfigurationError

SCHEMA = 1
TIMEZONE = "UTC"
#: Scheduled actions coldbrew owns are named with this prefix (and deleted when stale).
ACTION_PREFIX = "coldbrew-"
_HHMM = re.compile(r"^(?P<h>[0-2][0-9]):(?P<m>[0-5][0-9])$")


def hhmm(seconds: int) -> str:
    """``HH:MM`` for an offset into the day; the day's end is ``24:00``."""
    if not 0 <= seconds <= SECONDS_PER_DAY or seconds % 60:
        raise ConfigurationError(f"{seconds} s is not a whole minute within a day")
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def minutes_of(text: str) -> int:
    """Minutes into the day of an ``HH:MM`` (``24:00`` is 1440)."""
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(text)
    hours, minutes = int(match["h"]), int(match["m"])
    if hours > 24 or (hours == 24 and minutes):
        raise ValueError(text)
    return hours * 60 + minutes


def cron_at(start: str) -> str:
    """The Application Auto Scaling ``Schedule`` running every day at ``start`` (UTC).

    Six fields, ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``;
    one of the two day fields must be ``?``.
    """
    minutes = minutes_of(start)
    if minutes >= 24 * 60:
        raise ConfigurationError(f"a block cannot start at {start}")
    return f"cron({minutes % 60} {minutes // 60} * * ? *)"


@dataclass(frozen=True)
class ScheduleBlock:
    """One scheduled action: from ``start`` to ``end`` (UTC), the level in [min, max]."""

    start: str
    end: str
    min_capacity: int
    max_capacity: int
    cron: str
    gcf_min_instance_count: int
    expected: Mapping[str, Any] = field(default_factory=dict)

    @property
    def action_name(self) -> str:
        """``coldbrew-HHMM``: unique per scalable target, and marks the action as ours."""
        return ACTION_PREFIX + self.start.replace(":", "")

    def to_dict(self) -> dict[str, Any]:
        """The block as it appears in the file."""
        out: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "min_capacity": self.min_capacity,
            "max_capacity": self.max_capacity,
            "cron": self.cron,
            "gcf": {"min_instance_count": self.gcf_min_instance_count},
        }
        if self.expected:
            out["expected"] = dict(self.expected)
        return out


@dataclass(frozen=True)
class Schedule:
    """A parsed, valid schedule file."""

    function: str
    alias: str
    block_minutes: int
    memory_mb: int
    blocks: tuple[ScheduleBlock, ...]
    timezone: str = TIMEZONE
    assumptions: Mapping[str, Any] = field(default_factory=dict)
    forecaster: Mapping[str, Any] = field(default_factory=dict)
    estimate: Mapping[str, Any] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        """Application Auto Scaling's ``function:<name>:<alias>``."""
        return f"function:{self.function}:{self.alias}"

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON object (validated by ``parse_schedule`` on the way back)."""
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "function": self.function,
            "alias": self.alias,
            "timezone": self.timezone,
            "block_minutes": self.block_minutes,
            "memory_mb": self.memory_mb,
            "blocks": [b.to_dict() for b in self.blocks],
            "assumptions": dict(self.assumptions),
            "forecaster": dict(self.forecaster),
        }
        if self.estimate:
            out["estimate"] = dict(self.estimate)
        return out
