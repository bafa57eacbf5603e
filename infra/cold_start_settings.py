"""The cold-start strategy from context: none, SnapStart, or provisioned concurrency.

``coldbrew:cold_start`` picks one:

``none``
    On-demand only: every new execution environment pays the cold start
    (~0.3 s for coldbrew's artifact).
``snapstart``
    Lambda initializes the function when a version is published and resumes
    new environments from a snapshot. AWS's restrictions, checked here at
    synth rather than at deploy (Lambda developer guide, "Improving startup
    performance with Lambda SnapStart", supported features and limitations):
    managed runtimes Java 11+, Python 3.12+ and .NET 8+ only, so no container
    images; no provisioned concurrency; no Amazon EFS; ephemeral storage of at
    most 512 MB. (arm64, once excluded, is supported.) SnapStart is not
    offered in every Region (not in Asia Pacific (New Zealand) or (Taipei)
    when this was written); the stack is Region-agnostic, so that one is
    left to the deploy.
``provisioned``
    Provisioned concurrency on alias ``live``, managed by Application Auto
    Scaling between ``coldbrew:provisioned_min`` and ``coldbrew:provisioned_max``,
    by target tracking on utilization (``coldbrew:target_utilization``)
    and/or by the scheduled actions of a ``coldbrew tune`` schedule file
    (``coldbrew:schedule``). At least one of the two is required: a scalable
    target with neither would only ever hold its minimum.

With a schedule, the minimum and maximum default to the lowest and highest
block (as ``coldbrew tune --apply`` registers them); without one, to 1 and 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from coldbrew.errors import ConfigurationError
from infra.context_keys import (
    COLD_START,
    COLD_STARTS,
    DEFAULT_COLD_START,
    DEFAULT_PROVISIONED_MAX,
    DEFAULT_PROVISIONED_MIN,
    PROVISIONED_KEYS,
    PROVISIONED_MAX,
    PROVISIONED_MIN,
    RESERVED_CONCURRENCY,
    SCHEDULE,
    TARGET_UTILIZATION,
    TARGET_UTILIZATION_RANGE,
    ColdStart,
)
from infra.context_values import ContextReader

if TYPE_CHECKING:
    from coldbrew.capacity.schedule import Schedule


@dataclass(frozen=True)
class ProvisionedSettings:
    """Provisioned concurrency on alias ``live``, managed by Application Auto Scaling."""

    min_capacity: int
    """The scalable target's minimum: the level held until a policy or action moves it."""
    max_capacity: int
    target_utilization: float | None
    """Target tracking on ProvisionedConcurrencyUtilization; ``None``: no policy."""
    schedule: Schedule | None
    """The ``coldbrew tune`` schedule: one scheduled action per block."""


@dataclass(frozen=True)
class ColdStartSettings:
    """The strategy, and for ``provisioned`` its scaling."""

    strategy: ColdStart = "none"
    provisioned: ProvisionedSettings | None = None
    schedule_path: Path | None = None
    """Where the schedule was read from, named in refusals."""

    @property
    def snap_start(self) -> bool:
        """Whether SnapStart is on (for published versions)."""
        return self.strategy == "snapstart"


def read_cold_start(
    reader: ContextReader,
    *,
    cwd: Path,
    reserved_concurrency: int | None,
    concurrency_limit: int,
) -> ColdStartSettings:
    """Read ``coldbrew:cold_start`` and its keys; errors go to ``reader``.

    ``concurrency_limit`` is what the account can give one function (its
    concurrency minus the 100 Lambda keeps unreserved).
    """
    strategy = cast(ColdStart, reader.choice(COLD_START, COLD_STARTS, DEFAULT_COLD_START))
    if strategy != "provisioned":
        if strategy == "snapstart":
            # Not "applies only when": the combination itself is what AWS refuses.
            for key in PROVISIONED_KEYS:
                if reader.has(key):
                    reader.error(
                        f"{key}: SnapStart cannot be combined with provisioned concurrency "
                        f"(AWS refuses both on one function); drop {key} or set "
                        f"{COLD_START}=provisioned"
                    )
            # Its other restrictions (layout, runtime, /tmp) are the Deployment
            # description's rules, checked in infra.settings.
        else:
            reader.only_with(
                PROVISIONED_KEYS,
                f"{COLD_START} is provisioned",
                f"set {COLD_START}=provisioned or drop the key",
            )
        return ColdStartSettings(strategy)
    path = _schedule_path(reader, cwd)
    return ColdStartSettings(
        strategy,
        _provisioned(
            reader,
            schedule_path=path,
            reserved_concurrency=reserved_concurrency,
            concurrency_limit=concurrency_limit,
        ),
        path,
    )


def _provisioned(
    reader: ContextReader,
    *,
    schedule_path: Path | None,
    reserved_concurrency: int | None,
    concurrency_limit: int,
) -> ProvisionedSettings | None:
    # Provisioned concurrency is drawn from the function's reservation, when
    # it has one: Lambda refuses more than the reserved concurrency.
    ceiling = min(concurrency_limit, reserved_concurrency or concurrency_limit)
    ceiling_why = (
        f"{RESERVED_CONCURRENCY} is {reserved_concurrency}"
        if reserved_concurrency is not None and reserved_concurrency < concurrency_limit
        else "the account's concurrency minus the 100 Lambda keeps unreserved"
    )
    explicit_min = reader.optional_int(PROVISIONED_MIN, (0, ceiling), f" ({ceiling_why})")
    explicit_max = reader.optional_int(PROVISIONED_MAX, (1, ceiling), f" ({ceiling_why})")
    target = reader.optional_number(TARGET_UTILIZATION, TARGET_UTILIZATION_RANGE, "a fraction")
    schedule = _schedule(reader, schedule_path)
    if not reader.has(TARGET_UTILIZATION) and not reader.has(SCHEDULE):
        reader.error(
            f"{COLD_START} provisioned needs {TARGET_UTILIZATION} (target tracking, 0.1-0.9) "
            f"and/or {SCHEDULE} (a schedule file written by `coldbrew tune`)"
        )
    if schedule is not None:
        low = min(b.min_capacity for b in schedule.blocks)
        high = max(1, *(b.max_capacity for b in schedule.blocks))
    else:
        low, high = DEFAULT_PROVISIONED_MIN, min(DEFAULT_PROVISIONED_MAX, ceiling)
    minimum = low if explicit_min is None else explicit_min
    maximum = high if explicit_max is None else explicit_max
    if minimum > maximum:
        reader.error(f"{PROVISIONED_MIN} ({minimum}) must not exceed {PROVISIONED_MAX} ({maximum})")
    if schedule is not None:
        for i, block in enumerate(schedule.blocks):
            if block.max_capacity > maximum:
                reader.error(
                    f"{SCHEDULE}: blocks[{i}] ({block.start}-{block.end}) has max_capacity "
                    f"{block.max_capacity}, above {PROVISIONED_MAX} ({maximum}); raise "
                    f"{PROVISIONED_MAX} or re-run `coldbrew tune --max-capacity`"
                )
    if target is not None and minimum < 1:
        reader.error(
            f"{PROVISIONED_MIN} must be at least 1 with {TARGET_UTILIZATION}, got {minimum}: "
            "the utilization metric exists only while something is provisioned, so target "
            "tracking cannot scale up from 0"
        )
    if reader.errors:
        return None
    return ProvisionedSettings(minimum, maximum, target, schedule)


def _schedule_path(reader: ContextReader, cwd: Path) -> Path | None:
    raw = reader.given.get(SCHEDULE)
    if not isinstance(raw, str):
        return None
    path = Path(raw).expanduser()
    return path if path.is_absolute() else cwd / path


def _schedule(reader: ContextReader, path: Path | None) -> Schedule | None:
    """The schedule file, read; whether it fits this function (name, alias, memory)
    is the Deployment description's rule, checked in infra.settings."""
    if not reader.has(SCHEDULE):
        return None
    if path is None:
        reader.error(f"{SCHEDULE} must be the path to a schedule file written by `coldbrew tune`")
        return None
    # Imported here: the capacity package pulls in numpy, which only a
    # provisioned deployment with a schedule needs.
    from coldbrew.capacity.schedule import read_schedule

    try:
        return read_schedule(path)
    except ConfigurationError as exc:
        reader.error(f"{SCHEDULE}: {exc.message}; fix the file or re-run `coldbrew tune`")
        return None
