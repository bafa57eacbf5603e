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
    ALIAS_NAME,
    COLD_START,
    COLD_STARTS,
    DEFAULT_COLD_START,
    DEFAULT_PROVISIONED_MAX,
    DEFAULT_PROVISIONED_MIN,
    EPHEMERAL_STORAGE,
    FUNCTION_NAME,
    MEMORY,
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

#: Python runtimes SnapStart supports (python3.12 and later).
SNAPSTART_PYTHONS = ("3.12", "3.13")
#: SnapStart's largest ephemeral storage, in MB.
SNAPSTART_MAX_EPHEMERAL_MB = 512


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

    @property
    def snap_start(self) -> bool:
        """Whether SnapStart is on (for published versions)."""
        return self.strategy == "snapstart"


def snapstart_problems(*, layout: str, python: str, ephemeral_storage_mb: int) -> list[str]:
    """Why SnapStart cannot run this deployment; empty when it can."""
    problems = []
    if layout == "image":
        problems.append(
            f"{COLD_START} snapstart does not support container images (the artifact's layout "
            "is image); use provisioned or none, or build a zip with "
            "`coldbrew build --layout zip|layer`"
        )
    if python not in SNAPSTART_PYTHONS:
        problems.append(
            f"{COLD_START} snapstart needs a Python runtime of 3.12 or later "
            f"({', '.join(SNAPSTART_PYTHONS)}), the artifact is for {python}"
        )
    if ephemeral_storage_mb > SNAPSTART_MAX_EPHEMERAL_MB:
        problems.append(
            f"{COLD_START} snapstart supports at most {SNAPSTART_MAX_EPHEMERAL_MB} MB of "
            f"ephemeral storage, {EPHEMERAL_STORAGE} is {ephemeral_storage_mb}; lower it "
            "or use provisioned"
        )
    return problems


def read_cold_start(
    reader: ContextReader,
    *,
    cwd: Path,
    layout: str,
    python: str,
    memory_mb: int,
    ephemeral_storage_mb: int,
    function_name: str | None,
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
            for problem in snapstart_problems(
                layout=layout, python=python, ephemeral_storage_mb=ephemeral_storage_mb
            ):
                reader.error(problem)
        else:
            reader.only_with(
                PROVISIONED_KEYS,
                f"{COLD_START} is provisioned",
                f"set {COLD_START}=provisioned or drop the key",
            )
        return ColdStartSettings(strategy)
    return ColdStartSettings(
        strategy,
        _provisioned(
            reader,
            cwd=cwd,
            memory_mb=memory_mb,
            function_name=function_name,
            reserved_concurrency=reserved_concurrency,
            concurrency_limit=concurrency_limit,
        ),
    )


def _provisioned(
    reader: ContextReader,
    *,
    cwd: Path,
    memory_mb: int,
    function_name: str | None,
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
    schedule = _schedule(reader, cwd=cwd, memory_mb=memory_mb, function_name=function_name)
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


def _schedule(
    reader: ContextReader, *, cwd: Path, memory_mb: int, function_name: str | None
) -> Schedule | None:
    if not reader.has(SCHEDULE):
        return None
    raw = reader.given[SCHEDULE]
    if not isinstance(raw, str):
        reader.error(f"{SCHEDULE} must be the path to a schedule file written by `coldbrew tune`")
        return None
    # Imported here: the capacity package pulls in numpy, which only a
    # provisioned deployment with a schedule needs.
    from coldbrew.capacity.schedule import read_schedule

    path = Path(raw).expanduser()
    path = path if path.is_absolute() else cwd / path
    try:
        schedule = read_schedule(path)
    except ConfigurationError as exc:
        reader.error(f"{SCHEDULE}: {exc.message}; fix the file or re-run `coldbrew tune`")
        return None
    if schedule.alias != ALIAS_NAME:
        reader.error(
            f"{SCHEDULE}: {path} scales alias {schedule.alias!r}, but the stack serves alias "
            f"{ALIAS_NAME!r}; re-run `coldbrew tune --alias {ALIAS_NAME}`"
        )
    # Without an explicit name CloudFormation names the function, and the
    # schedule's name is only the label the trace was tuned under.
    if function_name is not None and schedule.function != function_name:
        reader.error(
            f"{SCHEDULE}: {path} was tuned for function {schedule.function!r}, but "
            f"{FUNCTION_NAME} is {function_name!r}; re-run `coldbrew tune --function-name "
            f"{function_name}` or fix {FUNCTION_NAME}"
        )
    # The levels come from durations measured at that memory size: another
    # size runs at another speed and needs other levels.
    if schedule.memory_mb != memory_mb:
        reader.error(
            f"{SCHEDULE}: {path} was tuned for {schedule.memory_mb} MB, but {MEMORY} is "
            f"{memory_mb}; re-run `coldbrew tune --memory {memory_mb}` or set {MEMORY}"
        )
    return schedule
