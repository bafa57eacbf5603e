"""The cost vs cold-start frontier: every policy, each of its knobs, one function.

Each policy is replayed over the evaluation days at several settings of its
knob (static level, target utilisation, overflow budget, the oracle's share
of the peak).

coldbrew's knob is the tuner's overflow budget (the most Erlang-B spill a
block may have; 1 means cost alone decides: only levels that are cheaper
than on demand), on a median forecast of each block's busiest bin
(:func:`~coldbrew.capacity.day_forecast.peak_bins`). On the Huawei trace's
one busy function this spans the frontier from below target tracking's cost
to under half of on demand's cold starts, where the forecast quantile at a 1%
budget covered only its expensive middle: with keep-alive, on-demand
environments are already warm up to the last minutes' peak, so a level helps
only where it reaches above that peak.

The points, and the acceptance comparisons the project tracks, come out as
plain data; drawing them is :mod:`coldbrew.capacity.frontier_chart`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from coldbrew.capacity.policies import OnDemandOnly, Oracle, Policy, StaticLevel, TargetTracking
from coldbrew.capacity.rolling import rolling_schedule
from coldbrew.capacity.series import TrafficSeries
from coldbrew.capacity.simulate import simulate
from coldbrew.capacity.tuner import TunerSettings

STATIC_LEVELS = (1, 2, 4, 8, 16, 32)
TARGETS = (0.5, 0.6, 0.7, 0.8, 0.9)
#: coldbrew's overflow budgets (1.0: no budget, cost alone).
OVERFLOWS = (1.0, 0.1, 0.01, 0.001, 0.0001)
#: The forecast quantile coldbrew's sweep provisions for.
SWEEP_QUANTILE = 0.5
ORACLE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
#: The target-tracking point the acceptance compares against.
REFERENCE_TARGET = 0.7


@dataclass(frozen=True)
class Point:
    """One replay: a policy at one knob setting."""

    policy: str
    knob: float
    cost_usd: float
    cold_starts: int
    utilisation: float


@dataclass(frozen=True)
class FunctionSweep:
    """All points for one function, and the comparisons drawn from them."""

    function: str
    mean_concurrency: float
    points: tuple[Point, ...]

    def of(self, policy: str) -> list[Point]:
        """This policy's points, cheapest first."""
        return sorted((p for p in self.points if p.policy == policy), key=lambda p: p.cost_usd)

    def reference(self) -> Point | None:
        """Target tracking at 0.7 utilisation."""
        return next((p for p in self.of("target-tracking") if p.knob == REFERENCE_TARGET), None)

    def fewest_cold_starts_within(self, policy: str, cost_usd: float) -> int | None:
        """The fewest cold starts ``policy`` reached at no more than ``cost_usd``."""
        within = [p.cold_starts for p in self.of(policy) if p.cost_usd <= cost_usd * 1.0001]
        return min(within) if within else None

    def cheapest_with_at_most(self, policy: str, cold_starts: int) -> float | None:
        """The lowest cost at which ``policy`` had at most ``cold_starts``."""
        costs = [p.cost_usd for p in self.of(policy) if p.cold_starts <= cold_starts]
        return min(costs) if costs else None


Progress = Callable[[str], None]


def sweep_function(
    evaluate: TrafficSeries,
    full: TrafficSeries,
    *,
    train_days: int,
    settings: TunerSettings,
    seed: int,
    median_ms: float,
    keep_alive_s: int,
    quantile: float = SWEEP_QUANTILE,
    overflows: Sequence[float] = OVERFLOWS,
    progress: Progress | None = None,
) -> FunctionSweep:
    """Replay ``evaluate`` under every policy and knob; coldbrew forecasts from ``full``."""
    say = progress or (lambda _message: None)
    policies: list[tuple[str, float, Policy]] = [("on-demand", 0.0, OnDemandOnly())]
    policies += [("static", float(level), StaticLevel(level)) for level in STATIC_LEVELS]
    policies += [("target-tracking", t, TargetTracking(target=t)) for t in TARGETS]
    policies += [("oracle", f, Oracle(fraction=f)) for f in ORACLE_FRACTIONS]
    for overflow in overflows:
        budget = TunerSettings(
            block_s=settings.block_s,
            duration_s=settings.duration_s,
            memory_mb=settings.memory_mb,
            max_cold_start_fraction=overflow,
        )
        plan = rolling_schedule(
            full,
            train_days=train_days,
            quantile=quantile,
            settings=budget,
            allocation_lead_s=60,
            peak_sizing=True,
        )
        policies.append(("coldbrew", overflow, plan.policy))
    points = []
    for name, knob, policy in policies:
        say(f"{evaluate.name}: {name} {knob:g}")
        report = simulate(
            evaluate,
            policy,
            seed=seed,
            median_ms=median_ms,
            keep_alive_s=keep_alive_s,
            memory_mb=settings.memory_mb,
        )
        points.append(
            Point(
                name,
                knob,
                report.cost.total_usd,
                report.cold_starts,
                report.provisioned_utilisation,
            )
        )
    return FunctionSweep(
        function=evaluate.name,
        mean_concurrency=full.mean_concurrency(median_ms / 1000),
        points=tuple(points),
    )
