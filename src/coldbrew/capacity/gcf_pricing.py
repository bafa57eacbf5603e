"""What Cloud Run functions (Cloud Functions 2nd gen) charge for a min-instances schedule.

Prices are data, with their source and date, beside Lambda's
(:mod:`coldbrew.capacity.pricing`). Tier 1 regions, request-based billing:

=============================  ================  ==================
rate                           per vCPU-second   per GiB-second
=============================  ================  ==================
serving a request              $0.000024         $0.0000025
idle min instance              $0.0000025        $0.0000025
requests                       $0.40 / million
=============================  ================  ==================

Assumptions, stated once here and carried in the output:

- An instance is billed at the serving rate while it handles a request and,
  when it is a min instance, at the idle rate the rest of the time; an
  instance above the minimum costs nothing while idle (request-based billing).
- Serving instance-seconds in a block are its offered load (Erlangs, the
  tuner's ``load``: arrival rate x duration) divided by the per-instance
  concurrency, times the block's length; min instances are idle for whatever
  of their time that load does not fill.
- No free tier (180k vCPU-s, 360k GiB-s and 2M requests a month), no
  100 ms rounding, no committed-use discounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coldbrew.errors import ConfigurationError

GIB_MB = 1024


@dataclass(frozen=True)
class GcfPrices:
    """Cloud Run functions list prices (USD), with where and when they were read."""

    serving_vcpu_s: float
    serving_gib_s: float
    idle_vcpu_s: float
    idle_gib_s: float
    per_request: float
    source: str


#: Tier 1 regions, request-based billing.
TIER1 = GcfPrices(
    serving_vcpu_s=0.000024,
    serving_gib_s=0.0000025,
    idle_vcpu_s=0.0000025,
    idle_gib_s=0.0000025,
    per_request=0.40e-6,
    source="cloud.google.com/run/pricing, Tier 1, request-based billing "
    "(as recorded in the design findings, 2026-12-03)",
)


@dataclass(frozen=True)
class GcfInstance:
    """What one instance is given: vCPUs, memory, requests at once."""

    cpu: float = 1.0
    memory_mb: int = 1024
    concurrency: int = 1

    def __post_init__(self) -> None:
        if self.cpu <= 0 or self.memory_mb <= 0 or self.concurrency < 1:
            raise ConfigurationError(
                "an instance needs cpu > 0, memory_mb > 0 and concurrency >= 1"
            )


@dataclass(frozen=True)
class GcfBlockCost:
    """One block's cost in USD, split by what is billed."""

    serving: float
    idle: float
    requests: float

    @property
    def total(self) -> float:
        """Serving + idle min instances + requests."""
        return self.serving + self.idle + self.requests


def block_cost(
    *,
    seconds: float,
    load: float,
    rate_per_s: float,
    min_instances: int,
    instance: GcfInstance,
    prices: GcfPrices = TIER1,
) -> GcfBlockCost:
    """The cost of one block held at ``min_instances`` with ``load`` Erlangs offered."""
    if seconds < 0 or load < 0 or rate_per_s < 0 or min_instances < 0:
        raise ConfigurationError("block cost: seconds, load, rate and min instances are >= 0")
    gib = instance.memory_mb / GIB_MB
    serving_rate = instance.cpu * prices.serving_vcpu_s + gib * prices.serving_gib_s
    idle_rate = instance.cpu * prices.idle_vcpu_s + gib * prices.idle_gib_s
    busy_instance_s = load / instance.concurrency * seconds
    idle_instance_s = max(0.0, min_instances * seconds - busy_instance_s)
    return GcfBlockCost(
        serving=busy_instance_s * serving_rate,
        idle=idle_instance_s * idle_rate,
        requests=rate_per_s * seconds * prices.per_request,
    )


def daily_cost(blocks: Sequence[GcfBlockCost]) -> float:
    """The sum of the blocks' totals."""
    return sum(b.total for b in blocks)
