"""Erlang B: how many environments a Poisson load needs, searched only up to a cap.

Pure arithmetic; :mod:`coldbrew.capacity.tuner` explains the model. The
recurrence ``B(0, a) = 1, B(c, a) = a B(c-1, a) / (c + a B(c-1, a))`` is the
numerically stable way to compute it (no factorials, every step in [0, 1]).

:func:`required_concurrency` is the smallest ``c`` with ``B(c, a) <= epsilon``,
searched only up to ``ceiling``, the highest level allowed (the account's
unreserved concurrency or ``max_capacity``). The carried load
``a (1 - B(c, a))`` is below ``c``, so ``B(c, a) > 1 - c / a`` and no
``c < a (1 - epsilon)`` can meet the budget: a load whose bound is already
past the ceiling is answered at once (``None``), whatever its size, and
otherwise the recurrence walks up from that bound, at most to the ceiling.
"""

from __future__ import annotations

import math

from coldbrew.errors import ConfigurationError


def erlang_b_table(max_servers: int, load: float) -> list[float]:
    """``[B(0, load), ..., B(max_servers, load)]`` by the stable recurrence."""
    if max_servers < 0:
        raise ConfigurationError(f"servers must be >= 0, got {max_servers}")
    if not (load >= 0.0 and math.isfinite(load)):
        raise ConfigurationError(f"offered load must be finite and >= 0, got {load}")
    table = [1.0]
    b = 1.0
    for k in range(1, max_servers + 1):
        b = load * b / (k + load * b)
        table.append(b)
    return table


def erlang_b(servers: int, load: float) -> float:
    """Erlang B: the probability an arrival finds all ``servers`` busy at ``load`` Erlangs.

    Past saturation (``load > servers``) from the series
    ``1/B = sum_j prod_{i<j} (servers - i) / load``, whose terms shrink from the
    first: it stops once they are negligible, after about ``6 sqrt(load)`` terms
    at most, however many servers. Below it, by the recurrence.
    """
    if servers < 0 or not (load >= 0.0 and math.isfinite(load)) or load <= servers:
        return erlang_b_table(servers, load)[-1]
    total = term = 1.0
    for i in range(servers):
        term *= (servers - i) / load
        total += term
        if term <= total * 1e-17:
            break
    return 1.0 / total


def concurrency_lower_bound(load: float, epsilon: float) -> int:
    """A level below which ``B(c, load) > epsilon`` for sure: ``ceil(load (1 - epsilon))``.

    The carried load ``load (1 - B)`` is below ``c``, so ``B(c, load) > 1 - c / load``.
    """
    return math.ceil(load * (1.0 - epsilon)) if load > 0.0 else 0


def required_concurrency(
    rate_per_s: float,
    duration_s: float,
    epsilon: float,
    *,
    ceiling: int,
) -> int | None:
    """The fewest environments such that an arrival finds all busy with probability <= epsilon.

    ``rate_per_s`` arrivals/s of mean service time ``duration_s``; no arrivals need none.
    Only levels up to ``ceiling`` (the highest allowed) are searched: ``None`` means
    none of them meets ``epsilon``. At most ``ceiling`` steps, whatever the load.
    """
    if not 0.0 < epsilon <= 1.0:
        raise ConfigurationError(f"epsilon must be in (0, 1], got {epsilon}")
    if not (rate_per_s >= 0.0 and math.isfinite(rate_per_s)) or duration_s <= 0.0:
        raise ConfigurationError(
            f"rate must be finite and >= 0 and duration > 0, got {rate_per_s}, {duration_s}"
        )
    if ceiling < 0:
        raise ConfigurationError(f"ceiling must be >= 0, got {ceiling}")
    load = rate_per_s * duration_s
    if load == 0.0:
        return 0
    if concurrency_lower_bound(load, epsilon) > ceiling:
        return None  # even the bound is past the cap: no need to walk there
    servers = max(0, concurrency_lower_bound(load, epsilon) - 1)  # B > epsilon there
    b = erlang_b(servers, load)
    while b > epsilon:  # B decreases strictly to 0 in c
        if servers == ceiling:
            return None
        servers += 1
        b = load * b / (servers + load * b)
    return servers
