"""What AWS Lambda charges for a replayed trace: on demand against provisioned concurrency.

Prices are us-east-1 list prices (AWS Lambda pricing page), per GB-second of
memory x time and per request:

============================  ===============  ===============
rate                          x86_64           arm64
============================  ===============  ===============
on-demand execution           $0.0000166667    $0.0000133334
provisioned, while enabled    $0.0000041667    $0.0000033334
execution on provisioned      $0.0000097222    $0.0000077778
requests (all)                $0.20 / million  $0.20 / million
============================  ===============  ===============

Assumptions, stated once here and carried in every report:

- Provisioned concurrency is billed for the whole enabled level, used or not,
  in 5-minute increments. A level curve is read as stacked units (the last
  units added are the first removed), and each unit's enabled interval is
  rounded up to 5 minutes: a level held 7 minutes bills 10; raising 10 -> 12
  for one minute bills the 2 extra units 5 minutes each while the 10 run on.
  Whatever is still enabled at the end of the replay is disabled there (and
  rounded).
- On-demand execution includes the init time of cold starts (AWS bills the
  INIT phase since August 2025). No 1 ms rounding, no free tier, no volume
  tiers (the discount above 6 billion GB-s a month).
- A cold start's cost to the user is not dollars by default: the penalty is a
  separate figure (``cold_start_cost_usd`` per cold start, default 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from coldbrew.errors import ConfigurationError

#: Provisioned concurrency is billed in increments of this many seconds.
PROVISIONED_INCREMENT_S = 300


@dataclass(frozen=True)
class Prices:
    """Lambda list prices for one architecture (USD per GB-second, per request)."""

    architecture: str
    on_demand_gb_s: float
    provisioned_gb_s: float
    provisioned_execution_gb_s: float
    per_request: float


PRICES: dict[str, Prices] = {
    "x86_64": Prices("x86_64", 0.0000166667, 0.0000041667, 0.0000097222, 0.20e-6),
    "arm64": Prices("arm64", 0.0000133334, 0.0000033334, 0.0000077778, 0.20e-6),
}


def prices_for(architecture: str) -> Prices:
    """The list prices for ``architecture`` (``x86_64`` or ``arm64``)."""
    try:
        return PRICES[architecture]
    except KeyError:
        known = ", ".join(PRICES)
        raise ConfigurationError(
            f"no prices for architecture {architecture!r}; known: {known}"
        ) from None


def _rounded(seconds: float, increment_s: float) -> float:
    # A tolerance so that float time arithmetic (e.g. 299.9999999) does not round up a period.
    return math.ceil(seconds / increment_s - 1e-9) * increment_s


def billed_provisioned_env_seconds(
    levels: Sequence[int],
    *,
    period_s: float = 60.0,
    horizon_s: float | None = None,
    increment_s: float = PROVISIONED_INCREMENT_S,
) -> float:
    """Environment-seconds billed for ``levels[i]`` units enabled during period ``i``.

    Units are stacked (last added, first removed) and each unit's enabled
    interval is rounded up to ``increment_s``. ``horizon_s`` ends the last
    period early (a replay that is not a whole number of periods).
    """
    end = len(levels) * period_s if horizon_s is None else horizon_s
    stack: list[list[float]] = []  # [enabled at (s), units], oldest at the bottom
    billed = 0.0
    previous = 0
    for index, level in enumerate(levels):
        if level < 0:
            raise ConfigurationError(f"provisioned level must not be negative, got {level}")
        at = index * period_s
        if level > previous:
            stack.append([at, float(level - previous)])
        drop = float(previous - level)
        while drop > 0:
            enabled_at, units = stack[-1]
            taken = min(units, drop)
            billed += taken * _rounded(at - enabled_at, increment_s)
            drop -= taken
            if taken == units:
                stack.pop()
            else:
                stack[-1][1] = units - taken
        previous = level
    for enabled_at, units in stack:
        billed += units * _rounded(end - enabled_at, increment_s)
    return billed


@dataclass(frozen=True)
class Usage:
    """What a replay used, in the units Lambda bills."""

    requests: int
    cold_starts: int
    #: Provisioned environment-seconds billed (after 5-minute rounding).
    provisioned_billed_env_s: float
    #: Execution seconds on provisioned environments.
    provisioned_execution_s: float
    #: Execution seconds on on-demand environments, cold-start init included.
    on_demand_execution_s: float


@dataclass(frozen=True)
class Cost:
    """Dollars by component; ``total_usd`` includes the cold-start penalty (0 unless asked)."""

    provisioned_enabled_usd: float
    provisioned_execution_usd: float
    on_demand_execution_usd: float
    requests_usd: float
    cold_start_penalty_usd: float

    @property
    def lambda_usd(self) -> float:
        """What AWS bills: every component but the cold-start penalty."""
        return (
            self.provisioned_enabled_usd
            + self.provisioned_execution_usd
            + self.on_demand_execution_usd
            + self.requests_usd
        )

    @property
    def total_usd(self) -> float:
        """The AWS bill plus the cold-start penalty."""
        return self.lambda_usd + self.cold_start_penalty_usd


def cost_of(
    usage: Usage, *, memory_mb: int, prices: Prices, cold_start_cost_usd: float = 0.0
) -> Cost:
    """Price ``usage`` for a function of ``memory_mb`` MB."""
    if memory_mb <= 0:
        raise ConfigurationError(f"memory must be positive, got {memory_mb} MB")
    if cold_start_cost_usd < 0:
        raise ConfigurationError(f"cold_start_cost_usd must not be negative: {cold_start_cost_usd}")
    gb = memory_mb / 1024.0
    return Cost(
        provisioned_enabled_usd=usage.provisioned_billed_env_s * gb * prices.provisioned_gb_s,
        provisioned_execution_usd=usage.provisioned_execution_s
        * gb
        * prices.provisioned_execution_gb_s,
        on_demand_execution_usd=usage.on_demand_execution_s * gb * prices.on_demand_gb_s,
        requests_usd=usage.requests * prices.per_request,
        cold_start_penalty_usd=usage.cold_starts * cold_start_cost_usd,
    )
