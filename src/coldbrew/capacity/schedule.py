"""The schedule file: a day of provisioned-concurrency levels, versioned JSON.

Written by ``coldbrew tune``, read by ``coldbrew tune --apply``
(:mod:`coldbrew.capacity.apply`) and by the CDK stack, which turns each block
into an Application Auto Scaling scheduled action::

    {
      "schema": 1,
      "function": "embed",              Lambda function name
      "alias": "live",                  the alias whose provisioned concurrency is scaled
      "timezone": "UTC",                the only one: cron and HH:MM are UTC
      "block_minutes": 60,              the tuner's block (a multiple of 5 dividing 1440)
      "memory_mb": 1024,
      "blocks": [                       tile the day: 00:00 .. 24:00, contiguous
        {"start": "00:00", "end": "08:00",
         "min_capacity": 2, "max_capacity": 2,
         "cron": "cron(0 0 * * ? *)",   the scheduled action's Schedule, exactly
         "gcf": {"min_instance_count": 2},
         "expected": {...}},            optional: forecast and cost of the block
        ...
      ],
      "assumptions": {...},             what the levels were computed from
      "forecaster": {...},              which model forecast, and why it was chosen
      "estimate": {...}                 optional: expected daily cost and cold starts
    }

A block's action sets ``MinCapacity``/``MaxCapacity`` of the scalable target
at ``start`` every day (``cron(Minutes Hours Day-of-month Month Day-of-week
Year)``, UTC); it holds until the next block's action. The tuner writes
``min_capacity == max_capacity``: with scheduled actions alone (no target
tracking policy) that pins the level, so capacity also comes *down* when a
block asks for less. A wider ``max_capacity`` only makes sense beside a
target-tracking policy.

``gcf.min_instance_count`` is the Google Cloud Functions equivalent, for
documentation: Cloud Functions has no scheduled minimum, so it would be set
by a scheduler calling the API at ``start``; it equals ``min_capacity`` for
a function serving one request per instance.

:func:`parse_schedule` refuses anything malformed with a
:class:`~coldbrew.errors.ConfigurationError` naming the key, e.g.
``blocks[3].min_capacity must be <= max_capacity (5 > 3)``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coldbrew.capacity.forecast import SECONDS_PER_DAY
from coldbrew.capacity.tuner import Tuning
from coldbrew.errors import ConfigurationError

SCHEMA = 1
TIMEZONE = "UTC"
#: Scheduled actions coldbrew owns are named with this prefix (and deleted when stale).
ACTION_PREFIX = "coldbrew-"
_HHMM = re.compile(r"^(?P<h>[0-2][0-9]):(?P<m>[0-5][0-9])$")
#: Lambda function names (not ARNs): letters, digits, hyphens, underscores.
_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Lambda alias names; all digits would be a version.
_ALIAS = re.compile(r"^(?![0-9]+$)[A-Za-z0-9_-]{1,128}$")
_TOP_KEYS = frozenset(
    {
        "schema",
        "function",
        "alias",
        "timezone",
        "block_minutes",
        "memory_mb",
        "blocks",
        "assumptions",
        "forecaster",
        "estimate",
    }
)
_BLOCK_KEYS = frozenset({"start", "end", "min_capacity", "max_capacity", "cron", "gcf", "expected"})


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
        """The file's JSON object (validated by :func:`parse_schedule` on the way back)."""
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


def schedule_from_tuning(
    tuning: Tuning,
    *,
    function: str,
    alias: str = "live",
    assumptions: Mapping[str, Any] | None = None,
    forecaster: Mapping[str, Any] | None = None,
) -> Schedule:
    """One block per run of equal levels; the tuner's settings recorded as assumptions."""
    settings = tuning.settings
    blocks = []
    for segment in tuning.segments:
        start = hhmm(segment.start_s)
        blocks.append(
            ScheduleBlock(
                start=start,
                end=hhmm(segment.end_s),
                min_capacity=segment.level,
                max_capacity=segment.level,
                cron=cron_at(start),
                gcf_min_instance_count=segment.level,
                expected={
                    "peak_requests_per_s": round(max(b.rate_per_s for b in segment.blocks), 4),
                    "peak_load_erlangs": round(max(b.load for b in segment.blocks), 4),
                    "max_spill_fraction": round(max(b.blocking for b in segment.blocks), 6),
                    "cold_starts": round(sum(b.expected_cold_starts for b in segment.blocks), 2),
                    "cost_usd": round(sum(b.cost.total for b in segment.blocks), 6),
                    "on_demand_cost_usd": round(
                        sum(b.on_demand_cost.total for b in segment.blocks), 6
                    ),
                },
            )
        )
    recorded: dict[str, Any] = {
        "duration_ms": settings.duration_s * 1000,
        "overflow_budget": settings.max_cold_start_fraction,
        "cold_start_penalty_usd": settings.cold_start_penalty_usd,
        "min_capacity": settings.min_capacity,
        "max_capacity": settings.max_capacity,
        "account_concurrency": settings.account_concurrency,
        "reserved_elsewhere": settings.reserved_elsewhere,
        "prices_usd_per_gb_s": {
            "provisioned": settings.prices.provisioned_gb_s,
            "provisioned_execution": settings.prices.provisioned_execution_gb_s,
            "on_demand": settings.prices.on_demand_gb_s,
        },
        "model": "Erlang B (M/G/c/c) per block at the forecast quantile's rate; "
        "every spilled request counted as a cold start (upper bound)",
        **(assumptions or {}),
    }
    notes = [f"{hhmm(b.start_s)}: {b.note}" for b in tuning.blocks if b.note]
    if notes:
        recorded["notes"] = notes
    return Schedule(
        function=function,
        alias=alias,
        block_minutes=settings.block_s // 60,
        memory_mb=settings.memory_mb,
        blocks=tuple(blocks),
        assumptions=recorded,
        forecaster=dict(forecaster or {}),
        estimate={
            "daily_cost_usd": round(tuning.daily_cost, 6),
            "on_demand_only_daily_cost_usd": round(tuning.on_demand_daily_cost, 6),
            "expected_cold_starts_per_day": round(tuning.expected_cold_starts, 2),
        },
    )


def dumps(schedule: Schedule) -> str:
    """The file's text: indented, keys in schema order, a final newline."""
    return json.dumps(schedule.to_dict(), indent=2) + "\n"


def write_schedule(schedule: Schedule, path: str | os.PathLike[str]) -> Path:
    """Write atomically (a reader never sees half a file); returns the path."""
    target = Path(path)
    parse_schedule(schedule.to_dict(), source=str(target))  # never write what we would refuse
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(dumps(schedule), encoding="utf-8")
    tmp.replace(target)
    return target


def read_schedule(path: str | os.PathLike[str]) -> Schedule:
    """Read and validate a schedule file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{source}: cannot read the schedule: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{source}:{exc.lineno}: not JSON: {exc.msg} (column {exc.colno})"
        ) from None
    return parse_schedule(data, source=source)


# --- validation -------------------------------------------------------------------


class _Checker:
    """Builds error messages that name the key, prefixed by the file."""

    def __init__(self, source: str) -> None:
        self.prefix = f"{source}: " if source else ""

    def fail(self, message: str) -> ConfigurationError:
        return ConfigurationError(self.prefix + message)

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{where} must be a JSON object, got {type(value).__name__}")
        return value

    def keys(self, data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            at = f"{where}." if where else ""
            raise self.fail(f"{at}{unknown[0]} is not a known key (known: {sorted(allowed)})")

    def get(self, data: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in data:
            raise self.fail(f"{where} is missing")
        return data[key]

    def int_(self, data: Mapping[str, Any], key: str, where: str, low: int = 0) -> int:
        value = self.get(data, key, where)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where} must be a whole number, got {value!r}")
        if value < low:
            raise self.fail(f"{where} must be >= {low}, got {value}")
        return value

    def str_(self, data: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str]) -> str:
        value = self.get(data, key, where)
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(f"{where} must match {pattern.pattern}, got {value!r}")
        return value

    def time(self, data: Mapping[str, Any], key: str, where: str) -> int:
        value = self.get(data, key, where)
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return minutes_of(value)
        except ValueError:
            raise self.fail(f"{where} must be HH:MM from 00:00 to 24:00, got {value!r}") from None


def _parse_block(
    check: _Checker, raw: Any, at: str, *, first: bool, start_at: int, block_minutes: int
) -> ScheduleBlock:
    """One block; ``start_at`` is where it must start (minutes into the day)."""
    block = check.obj(raw, at)
    check.keys(block, _BLOCK_KEYS, at)
    start = check.time(block, "start", f"{at}.start")
    end = check.time(block, "end", f"{at}.end")
    if start != start_at:
        what = "00:00" if first else "the previous block's end"
        raise check.fail(
            f"{at}.start must be {what} ({hhmm(start_at * 60)}): blocks tile the "
            f"day without gaps or overlaps, got {hhmm(start * 60)}"
        )
    if end <= start:
        raise check.fail(f"{at}.end must be after its start, got {hhmm(end * 60)}")
    for key, value in (("start", start), ("end", end)):
        if value % block_minutes:
            raise check.fail(
                f"{at}.{key} must be on the {block_minutes}-minute grid, got {hhmm(value * 60)}"
            )
    low = check.int_(block, "min_capacity", f"{at}.min_capacity")
    high = check.int_(block, "max_capacity", f"{at}.max_capacity")
    if low > high:
        raise check.fail(f"{at}.min_capacity must be <= max_capacity ({low} > {high})")
    start_text = hhmm(start * 60)
    cron = check.get(block, "cron", f"{at}.cron")
    if cron != cron_at(start_text):
        raise check.fail(
            f"{at}.cron must be {cron_at(start_text)!r} (daily at its start, UTC), got {cron!r}"
        )
    gcf_count = low
    if "gcf" in block:
        gcf = check.obj(block["gcf"], f"{at}.gcf")
        check.keys(gcf, frozenset({"min_instance_count"}), f"{at}.gcf")
        gcf_count = check.int_(gcf, "min_instance_count", f"{at}.gcf.min_instance_count")
    expected = check.obj(block.get("expected", {}), f"{at}.expected")
    return ScheduleBlock(
        start=start_text,
        end=hhmm(end * 60),
        min_capacity=low,
        max_capacity=high,
        cron=cron,
        gcf_min_instance_count=gcf_count,
        expected=dict(expected),
    )


def parse_schedule(data: Any, *, source: str = "") -> Schedule:
    """Validate a decoded schedule file; every error names the key at fault."""
    check = _Checker(source)
    top = check.obj(data, "the schedule")
    schema = check.get(top, "schema", "schema")
    if schema != SCHEMA or isinstance(schema, bool):
        raise check.fail(
            f"schema must be {SCHEMA} (the version this coldbrew reads), got {schema!r}"
        )
    check.keys(top, _TOP_KEYS, "")
    function = check.str_(top, "function", "function", _FUNCTION)
    alias = check.str_(top, "alias", "alias", _ALIAS)
    timezone = check.get(top, "timezone", "timezone")
    if timezone != TIMEZONE:
        raise check.fail(f"timezone must be {TIMEZONE!r} (cron runs in UTC), got {timezone!r}")
    block_minutes = check.int_(top, "block_minutes", "block_minutes", low=5)
    if block_minutes % 5 or (24 * 60) % block_minutes:
        raise check.fail(
            f"block_minutes must be a multiple of 5 (Lambda bills provisioned concurrency "
            f"in 5-minute increments) dividing 1440, got {block_minutes}"
        )
    memory_mb = check.int_(top, "memory_mb", "memory_mb", low=128)
    if memory_mb > 10_240:
        raise check.fail(f"memory_mb must be <= 10240, got {memory_mb}")
    raw_blocks = check.get(top, "blocks", "blocks")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise check.fail("blocks must be a non-empty list")
    blocks: list[ScheduleBlock] = []
    for i, raw in enumerate(raw_blocks):
        start_at = minutes_of(blocks[-1].end) if blocks else 0
        blocks.append(
            _parse_block(
                check,
                raw,
                f"blocks[{i}]",
                first=not blocks,
                start_at=start_at,
                block_minutes=block_minutes,
            )
        )
    if blocks[-1].end != "24:00":
        raise check.fail(
            f"blocks[{len(blocks) - 1}].end must be 24:00 (blocks tile the day), "
            f"got {blocks[-1].end}"
        )
    return Schedule(
        function=function,
        alias=alias,
        block_minutes=block_minutes,
        memory_mb=memory_mb,
        blocks=tuple(blocks),
        timezone=TIMEZONE,
        assumptions=dict(check.obj(top.get("assumptions", {}), "assumptions")),
        forecaster=dict(check.obj(top.get("forecaster", {}), "forecaster")),
        estimate=dict(check.obj(top.get("estimate", {}), "estimate")),
    )
