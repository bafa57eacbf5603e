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

This module writes the file; the values live in
:mod:`coldbrew.capacity.schedule_types` and the validation in
:mod:`coldbrew.capacity.schedule_parse`, both re-exported here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coldbrew.capacity.schedule_parse import parse_schedule, read_schedule
from coldbrew.capacity.schedule_types import (
    ACTION_PREFIX,
    SCHEMA,
    TIMEZONE,
    Schedule,
    ScheduleBlock,
    cron_at,
    hhmm,
    minutes_of,
)
from coldbrew.capacity.tuner import Tuning

# The values and the parser live in their own modules; infra/, the CLI and
# the tests import every name from here, the schedule file's module.
__all__ = [
    "ACTION_PREFIX",
    "SCHEMA",
    "TIMEZONE",
    "Schedule",
    "ScheduleBlock",
    "cron_at",
    "dumps",
    "hhmm",
    "minutes_of",
    "parse_schedule",
    "read_schedule",
    "schedule_from_tuning",
    "write_schedule",
]


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
