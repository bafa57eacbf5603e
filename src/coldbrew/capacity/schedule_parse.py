"""Reading a schedule file: every malformed value refused, naming the key at fault.

The format is described in :mod:`coldbrew.capacity.schedule`; errors are
:class:`~coldbrew.errors.ConfigurationError` prefixed by the file, e.g.
``schedule.json: blocks[3].min_capacity must be <= max_capacity (5 > 3)``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coldbrew.capacity.schedule_types import (
    SCHEMA,
    TIMEZONE,
    Schedule,
    ScheduleBlock,
    cron_at,
    hhmm,
    minutes_of,
)
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.errors import ConfigurationError

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
    memory_mb = check.int_(top, "memory_mb", "memory_mb", low=LAMBDA.memory_mb.low)
    if memory_mb > LAMBDA.memory_mb.high:
        raise check.fail(f"memory_mb must be <= {LAMBDA.memory_mb.high}, got {memory_mb}")
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
