"""The BG/NBD repeat-purchase process (Fader, Hardie & Lee 2005), as a simulator: who comes back,
how often, and when they quietly stop. Pure: randomness is a `random.Random` the caller seeds,
and time is a float number of weeks on the caller's axis.

    rng = random.Random(7)
    weeks = simulate_purchases(params=CDNOW, first=10.0, end=104.0, rng=rng)
    # [10.0, 13.6, 29.1] — the first purchase, then the repeats in (first, end]

Why BG/NBD: it is the model analysts fit to exactly this kind of data ("most buy once, a loyal
minority many times"), so a store drawn from it looks like a real one to RFM, CLV and cohort
code — and the CDNOW parameters are published, so tests can check the simulator against them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

Weight = Callable[[float], float]


@dataclass(frozen=True, slots=True)
class BgNbd:
    """Heterogeneity of purchase rates λ ~ Gamma(shape r, rate alpha) per week, and of the chance
    p ~ Beta(a, b) that a customer drops out after a repeat purchase."""

    r: float
    alpha: float
    a: float
    b: float


# Fitted on CDNOW's 39-week calibration period (Fader, Hardie & Lee 2005; alpha in weeks).
CDNOW = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)


def draw_traits(*, params: BgNbd, rng: random.Random) -> tuple[float, float]:
    """One customer's (weekly purchase rate λ, dropout probability p)."""
    rate = rng.gammavariate(params.r, 1.0 / params.alpha)
    dropout = rng.betavariate(params.a, params.b)
    return rate, dropout


def repeat_times(
    *,
    rate: float,
    dropout: float,
    start: float,
    end: float,
    rng: random.Random,
    weight: Weight | None = None,
    weight_max: float = 1.0,
) -> list[float]:
    """Repeat purchases in (start, end] of a customer alive at `start`, sorted.

    While alive, purchases arrive as a Poisson process of rate `rate`; after each one the
    customer leaves for good with probability `dropout`. An optional `weight(t)` in
    [0, weight_max] makes the rate `rate·weight(t)` (seasonality) by thinning: candidates come
    at `rate·weight_max` and each is kept with probability `weight(t)/weight_max`. A weight
    that averages 1 keeps the long-run rate at `rate`."""
    if rate <= 0.0 or end <= start:
        return []
    if weight is not None and weight_max <= 0.0:
        raise ValueError("weight_max must be positive")
    proposal = rate * (weight_max if weight is not None else 1.0)
    times: list[float] = []
    t = start
    while True:
        t += rng.expovariate(proposal)
        if t > end:
            return times
        if weight is not None and rng.random() * weight_max >= weight(t):
            continue  # thinned away: a quiet season, not a purchase
        times.append(t)
        if rng.random() < dropout:
            return times


def simulate_purchases(
    *,
    params: BgNbd,
    first: float,
    end: float,
    rng: random.Random,
    weight: Weight | None = None,
    weight_max: float = 1.0,
) -> list[float]:
    """All purchase times of one new customer: the first at `first`, then the repeats up to
    `end` (a customer can only drop out after a repeat purchase, as in the model)."""
    rate, dropout = draw_traits(params=params, rng=rng)
    return [
        first,
        *repeat_times(
            rate=rate,
            dropout=dropout,
            start=first,
            end=end,
            rng=rng,
            weight=weight,
            weight_max=weight_max,
        ),
    ]


def hyp2f1(*, a: float, b: float, c: float, z: float, tolerance: float = 1e-12) -> float:
    """Gauss's hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 by its power series
    (scipy is not a dependency; the BG/NBD expectations only need z = t/(alpha+t) < 1)."""
    if not 0.0 <= z < 1.0:
        raise ValueError("the series is only used for 0 <= z < 1")
    term, total, k = 1.0, 1.0, 0
    while True:
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        k += 1
        # Past k > |a|+|b|, terms shrink monotonically; stop when they no longer matter.
        if abs(term) < tolerance * abs(total) and k > abs(a) + abs(b):
            return total
        if k > 100_000:
            raise ArithmeticError("2F1 series did not converge")


def expected_repeats(*, params: BgNbd, t: float) -> float:
    """E[X(t)]: the expected number of repeat purchases in the first `t` weeks after a
    customer's first purchase (Fader, Hardie & Lee 2005, eq. 7)."""
    if t <= 0.0:
        return 0.0
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    series = hyp2f1(a=r, b=b, c=a + b - 1.0, z=t / (alpha + t))
    return (a + b - 1.0) / (a - 1.0) * (1.0 - math.pow(alpha / (alpha + t), r) * series)
