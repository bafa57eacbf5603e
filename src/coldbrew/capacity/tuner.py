"""Forecast in, provisioned-concurrency level per block out: the cost-minimising schedule.

Pure: no clock, no I/O, no AWS.
:func:`~coldbrew.capacity.day_forecast.forecast_day` turns a trace into a
quantile forecast of the next day (per block); :func:`tune` turns that
forecast into a level per block; :mod:`coldbrew.capacity.schedule` writes it
down and :mod:`coldbrew.capacity.apply` hands it to Application Auto Scaling.

**Required concurrency.** In a block the forecast gives an arrival rate
``rate`` (requests/s: a high quantile of the block's count over its length);
with mean service time ``E[S]`` the offered load is ``a = rate * E[S]``
Erlangs (Little's law: the mean number of requests in service). A request
that finds all ``c`` provisioned environments busy is not queued: Lambda
serves it on an on-demand environment, which may be cold. That is exactly the
*loss* system M/G/c/c, whose blocking probability is **Erlang B**:

    B(0, a) = 1,    B(c, a) = a B(c-1, a) / (c + a B(c-1, a))

Why Erlang B rather than the Poisson quantile of the M/G/inf busy count
(``P(N >= c)``): Erlang B *is* the probability that an arrival finds the
``c`` environments busy (arrivals see time averages) when spilled requests
leave the pool, as they do on Lambda; it also splits the load into carried
(``a (1 - B)``, billed at the provisioned execution price) and overflow
(``a B``, billed on demand), which the cost needs. The M/G/inf tail counts
spilled requests as if they still occupied the pool, so it overstates the
need. Both depend on the service-time distribution only through its mean
(Erlang B is *insensitive*), so the mean duration is all we need. The
recurrence above is the numerically stable way to compute it (no factorials,
every step in [0, 1]). :func:`required_concurrency` is the smallest ``c`` with
``B(c, a) <= epsilon``, searched only up to the block's highest allowed level
(:mod:`coldbrew.capacity.erlang`): a need beyond it is reported, not searched.

**Cost per block** of ``T`` seconds at memory ``m`` GB and level ``c``:

=========================  ==============================================
provisioned                ``c * m * T * $0.0000041667`` (enabled GB-s)
execution on provisioned   ``a (1 - B) * m * T * $0.0000097222``
on-demand spill            ``a B * m * T * $0.0000166667``
cold-start penalty         ``rate * T * B * penalty`` (every spilled request
                           counted as a cold start: an upper bound, since a
                           spilled request may find a warm on-demand
                           environment)
=========================  ==============================================

The per-request charge is the same either way and left out. Moving load from
on demand to provisioned saves $0.0000069445/GB-s and an environment costs
$0.0000041667/GB-s enabled, so with no cold-start penalty an environment pays
for itself above 60% utilisation; a penalty or a cold-start budget pushes the
level higher. The level minimises the cost over ``c`` in the block's bounds,
subject to ``B(c, a) <= budget`` when a budget is set (when the bounds cannot
meet the budget, the highest allowed level is chosen and the block says so).

**Lambda's rules.** Provisioned concurrency is billed in 5-minute increments,
so blocks are whole multiples of 5 minutes (and tile a day). The account's
unreserved concurrency must stay >= 100, so no level exceeds
``account_concurrency - 100 - reserved_elsewhere``. Adjacent blocks with the
same level merge into one :class:`Segment` (one scheduled action). The
tuner evaluates levels one by one, so it accepts an account concurrency of at
most ``MAX_ACCOUNT_CONCURRENCY`` (Lambda's quota is raised on request, into
the tens of thousands).

**The cheapest level.** The cost is ``c`` times the provisioned price plus
``B(c, a)`` times a non-negative constant, and Erlang B is convex in ``c``, so
the cost is convex in ``c``: the search walks up from the lowest allowed level
and stops at the first level that costs no less than the one before.

**Assumption:** arrivals are Poisson at a constant rate within a block, so a
burst shorter than a block is seen only through the block's quantile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from coldbrew.capacity.erlang import concurrency_lower_bound, erlang_b, required_concurrency
from coldbrew.capacity.forecast import SECONDS_PER_DAY
from coldbrew.capacity.pricing import Prices, prices_for
from coldbrew.deployment.aws_lambda import LAMBDA
from coldbrew.errors import ConfigurationError

#: Lambda bills provisioned concurrency in 5-minute increments.
BILLING_INCREMENT_S = 300
#: Lambda's default account concurrency limit (per region).
DEFAULT_ACCOUNT_CONCURRENCY = 1000
#: Lambda refuses provisioned or reserved concurrency that leaves fewer unreserved than this.
UNRESERVED_MINIMUM = 100
#: The largest account concurrency the tuner accepts (it evaluates levels one by one).
MAX_ACCOUNT_CONCURRENCY = 100_000
MAX_DURATION_S = float(LAMBDA.timeout_s.high)  # Lambda's timeout ceiling
MIN_MEMORY_MB, MAX_MEMORY_MB = LAMBDA.memory_mb.low, LAMBDA.memory_mb.high


@dataclass(frozen=True)
class TunerSettings:
    """Everything :func:`tune` needs besides the forecast.

    ``max_cold_start_fraction`` is the optional budget: at most this fraction
    of a block's requests may spill (and so may start cold); ``None`` means
    cost alone decides. ``min_capacity``/``max_capacity`` bound every block
    (per-block bounds can be passed to :func:`tune`).
    """

    block_s: int = 3600
    duration_s: float = 0.1
    memory_mb: int = 1024
    cold_start_penalty_usd: float = 0.0
    max_cold_start_fraction: float | None = 0.01
    min_capacity: int = 0
    max_capacity: int | None = None
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
    #: Concurrency reserved or provisioned by the account's other functions.
    reserved_elsewhere: int = 0
    prices: Prices = field(default_factory=lambda: prices_for("x86_64"))

    def __post_init__(self) -> None:
        if self.block_s <= 0 or self.block_s % BILLING_INCREMENT_S:
            raise ConfigurationError(
                f"block_minutes must be a multiple of 5 (Lambda bills provisioned "
                f"concurrency in 5-minute increments), got {self.block_s / 60:g}"
            )
        if SECONDS_PER_DAY % self.block_s:
            raise ConfigurationError(
                f"block_minutes must divide a day (1440), got {self.block_s // 60}"
            )
        if not 0.0 < self.duration_s <= MAX_DURATION_S:
            raise ConfigurationError(
                f"duration must be in (0, {MAX_DURATION_S:g}] s, got {self.duration_s}"
            )
        if not MIN_MEMORY_MB <= self.memory_mb <= MAX_MEMORY_MB:
            raise ConfigurationError(
                f"memory_mb must be in {MIN_MEMORY_MB}..{MAX_MEMORY_MB}, got {self.memory_mb}"
            )
        if not self.cold_start_penalty_usd >= 0.0:  # also refuses NaN
            raise ConfigurationError(
                f"cold_start_penalty_usd must be >= 0, got {self.cold_start_penalty_usd}"
            )
        budget = self.max_cold_start_fraction
        if budget is not None and not 0.0 < budget <= 1.0:
            raise ConfigurationError(f"overflow budget must be in (0, 1], got {budget}")
        if self.min_capacity < 0:
            raise ConfigurationError(f"min_capacity must be >= 0, got {self.min_capacity}")
        if self.max_capacity is not None and self.max_capacity < self.min_capacity:
            raise ConfigurationError(
                f"max_capacity ({self.max_capacity}) must be >= min_capacity ({self.min_capacity})"
            )
        if self.account_concurrency > MAX_ACCOUNT_CONCURRENCY:
            raise ConfigurationError(
                f"account_concurrency must be at most {MAX_ACCOUNT_CONCURRENCY:,}, "
                f"got {self.account_concurrency:,}"
            )
        if self.account_ceiling < 0:
            raise ConfigurationError(
                f"account_concurrency {self.account_concurrency} minus the "
                f"{UNRESERVED_MINIMUM} Lambda keeps unreserved minus reserved_elsewhere "
                f"{self.reserved_elsewhere} leaves nothing to provision"
            )

    @property
    def account_ceiling(self) -> int:
        """The most provisioned concurrency the account allows this function."""
        return self.account_concurrency - UNRESERVED_MINIMUM - self.reserved_elsewhere

    @property
    def memory_gb(self) -> float:
        """Memory in GB as Lambda bills it (MB / 1024)."""
        return self.memory_mb / 1024

    @property
    def blocks_per_day(self) -> int:
        """How many blocks tile a day."""
        return SECONDS_PER_DAY // self.block_s


# --- the tuner ----------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """Expected USD for one block at one level, by component."""

    provisioned: float
    provisioned_execution: float
    on_demand: float
    cold_start_penalty: float

    @property
    def total(self) -> float:
        """The sum the tuner minimises."""
        return (
            self.provisioned + self.provisioned_execution + self.on_demand + self.cold_start_penalty
        )


@dataclass(frozen=True)
class BlockPlan:
    """One block of the day: its forecast, its level and what that costs."""

    index: int
    start_s: int
    end_s: int
    #: The forecast quantile of the block's request count.
    count: float
    rate_per_s: float
    #: Offered load ``a`` in Erlangs (mean busy environments).
    load: float
    #: Smallest level meeting the budget (None: no budget, or none within ``max_capacity``).
    required: int | None
    min_capacity: int
    max_capacity: int
    level: int
    #: Erlang B at ``level``: the fraction of requests that spill to on demand.
    blocking: float
    expected_cold_starts: float
    cost: Cost
    #: The same block with no provisioned concurrency, for comparison.
    on_demand_cost: Cost
    note: str = ""
    #: The budget needs more than ``max_capacity`` (``required`` is then None).
    over_cap: bool = False


@dataclass(frozen=True)
class Segment:
    """A run of adjacent blocks at the same level: one scheduled action."""

    start_s: int
    end_s: int
    level: int
    blocks: tuple[BlockPlan, ...]


@dataclass(frozen=True)
class Tuning:
    """The tuner's answer for one day of blocks."""

    settings: TunerSettings
    blocks: tuple[BlockPlan, ...]

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Adjacent blocks with the same level merged, in time order."""
        runs: list[list[BlockPlan]] = []
        for block in self.blocks:
            if runs and runs[-1][-1].level == block.level:
                runs[-1].append(block)
            else:
                runs.append([block])
        return tuple(Segment(r[0].start_s, r[-1].end_s, r[0].level, tuple(r)) for r in runs)

    @property
    def daily_cost(self) -> float:
        """Expected USD for the day, penalty included."""
        return sum(b.cost.total for b in self.blocks)

    @property
    def on_demand_daily_cost(self) -> float:
        """Expected USD for the day with no provisioned concurrency, penalty included."""
        return sum(b.on_demand_cost.total for b in self.blocks)

    @property
    def expected_cold_starts(self) -> float:
        """Expected cold starts over the day (the upper bound of the module docs)."""
        return sum(b.expected_cold_starts for b in self.blocks)


def _cost(settings: TunerSettings, level: int, load: float, rate: float, b: float) -> Cost:
    gb_s = settings.memory_gb * settings.block_s  # GB-s of one busy environment over the block
    prices = settings.prices
    return Cost(
        provisioned=level * gb_s * prices.provisioned_gb_s,
        provisioned_execution=load * (1.0 - b) * gb_s * prices.provisioned_execution_gb_s,
        on_demand=load * b * gb_s * prices.on_demand_gb_s,
        cold_start_penalty=rate * settings.block_s * b * settings.cold_start_penalty_usd,
    )


def _bounds(
    settings: TunerSettings, bounds: Sequence[tuple[int, int]] | None
) -> list[tuple[int, int, str]]:
    """(min, max, why max) per block, clipped to the account ceiling."""
    n = settings.blocks_per_day
    if bounds is not None and len(bounds) != n:
        raise ConfigurationError(f"bounds has {len(bounds)} entries for {n} blocks")
    default_max = (
        settings.account_ceiling if settings.max_capacity is None else (settings.max_capacity)
    )
    out = []
    for i in range(n):
        lo, hi = bounds[i] if bounds is not None else (settings.min_capacity, default_max)
        if lo < 0 or hi < lo:
            raise ConfigurationError(
                f"blocks[{i}]: min_capacity ({lo}) must be >= 0 and <= max_capacity ({hi})"
            )
        why = "max_capacity"
        if hi >= settings.account_ceiling:  # when equal, the account is the binding reason
            hi, why = settings.account_ceiling, "the account's unreserved concurrency"
            if lo > hi:
                raise ConfigurationError(
                    f"blocks[{i}].min_capacity ({lo}) is over what the account allows "
                    f"({hi}: {settings.account_concurrency} - {UNRESERVED_MINIMUM} unreserved"
                    f" - {settings.reserved_elsewhere} reserved elsewhere)"
                )
        out.append((lo, hi, why))
    return out


def _cheapest_level(
    settings: TunerSettings, floor: int, hi: int, load: float, rate: float
) -> tuple[int, float]:
    """The cheapest level in ``[floor, hi]`` and its Erlang B (the cost is convex in the level)."""
    b = erlang_b(floor, load)
    best, best_b = floor, b
    best_cost = _cost(settings, floor, load, rate, b).total
    for servers in range(floor + 1, hi + 1):
        b = load * b / (servers + load * b)
        cost = _cost(settings, servers, load, rate, b).total
        if cost >= best_cost:  # ties go to the lower level: the smaller commitment
            break
        best, best_b, best_cost = servers, b, cost
    return best, best_b


def tune(
    counts: Sequence[float],
    settings: TunerSettings,
    *,
    bounds: Sequence[tuple[int, int]] | None = None,
) -> Tuning:
    """The cost-minimising level for each block of a day.

    ``counts[i]`` is the forecast (a high quantile) of the request count in
    block ``i`` (of ``settings.block_s`` seconds, from 00:00 UTC); there must
    be exactly one day of them. ``bounds`` optionally gives (min, max) per
    block, replacing ``settings.min_capacity``/``max_capacity``.
    """
    n = settings.blocks_per_day
    if len(counts) != n:
        raise ConfigurationError(
            f"the tuner needs one day of blocks ({n} of {settings.block_s} s), got {len(counts)}"
        )
    if not all(c >= 0.0 and math.isfinite(c) for c in counts):
        raise ConfigurationError("forecast counts must be finite and >= 0")
    budget = settings.max_cold_start_fraction
    plans = []
    for i, ((lo, hi, why_hi), count) in enumerate(
        zip(_bounds(settings, bounds), counts, strict=True)
    ):
        rate = count / settings.block_s
        load = rate * settings.duration_s
        required = (
            None
            if budget is None
            else required_concurrency(rate, settings.duration_s, budget, ceiling=hi)
        )
        over_cap = budget is not None and required is None
        floor = hi if over_cap else max(lo, required or 0)
        best, blocking = _cheapest_level(settings, floor, hi, load, rate)
        note = ""
        if over_cap:
            assert budget is not None  # over_cap implies a budget
            note = (
                f"the {budget:g} overflow budget needs more than {hi:,} environments (at least "
                f"{concurrency_lower_bound(load, budget):,} for {load:,.4g} Erlangs), capped at "
                f"{hi} by {why_hi}: expect {blocking:.2%} spill"
            )
        plans.append(
            BlockPlan(
                index=i,
                start_s=i * settings.block_s,
                end_s=(i + 1) * settings.block_s,
                count=float(count),
                rate_per_s=rate,
                load=load,
                required=required,
                min_capacity=lo,
                max_capacity=hi,
                level=best,
                blocking=blocking if load > 0.0 else 0.0,
                expected_cold_starts=rate * settings.block_s * blocking,
                cost=_cost(settings, best, load, rate, blocking),
                on_demand_cost=_cost(settings, 0, load, rate, 1.0),
                note=note,
                over_cap=over_cap,
            )
        )
    return Tuning(settings=settings, blocks=tuple(plans))
