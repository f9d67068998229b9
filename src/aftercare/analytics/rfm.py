"""RFM segments, the classic way: each customer who bought gets a 1-5 score for Recency (days
since the last paid order), Frequency (paid orders) and Monetary value (net spent), by
quintiles of the store's own customers; the segment is read off a grid of R against FM (the
rounded-up mean of F and M, so a one-order big spender ranks above a one-order small one).

    R \\ FM   1            2            3                4           5
    5        new          potential    potential        champions   champions
    4        promising    potential    potential        loyal       loyal
    3        about to     about to     need attention   loyal       loyal
             sleep        sleep
    2        hibernating  hibernating  at risk          at risk     can't lose them
    1        lost         lost         at risk          at risk     can't lose them

Ties share a score (most shops: most customers bought once, so they all get F = 1). Pure: the
caller passes `now` and the figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.utils.translation import gettext_lazy as _

SEGMENTS: dict[str, Any] = {
    "champions": _("Champions"),
    "loyal": _("Loyal"),
    "potential_loyalists": _("Potential loyalists"),
    "new": _("New"),
    "promising": _("Promising"),
    "need_attention": _("Need attention"),
    "about_to_sleep": _("About to sleep"),
    "at_risk": _("At risk"),
    "cant_lose": _("Can't lose them"),
    "hibernating": _("Hibernating"),
    "lost": _("Lost"),
}

_QUANTILES = (0.2, 0.4, 0.6, 0.8)
T = TypeVar("T", float, Decimal)


@dataclass(frozen=True)
class Thresholds:
    """The four quintile edges of each dimension over the store's buying customers."""

    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[Decimal, ...]  # money stays Decimal, even for ranking

    def to_json(self) -> dict[str, list[float] | list[str]]:
        return {
            "recency_days": list(self.recency_days),
            "frequency": list(self.frequency),
            "monetary": [str(x) for x in self.monetary],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Thresholds | None:
        try:
            return cls(
                recency_days=tuple(float(x) for x in data["recency_days"]),
                frequency=tuple(float(x) for x in data["frequency"]),
                monetary=tuple(Decimal(str(x)) for x in data["monetary"]),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return None


def _edges(values: Sequence[T]) -> tuple[T, ...]:
    ordered = sorted(values)
    n = len(ordered)
    return tuple(ordered[min(n - 1, int(n * q))] for q in _QUANTILES)


def thresholds(
    *, recency_days: Sequence[float], frequency: Sequence[float], monetary: Sequence[Decimal]
) -> Thresholds | None:
    if not recency_days:
        return None
    return Thresholds(
        recency_days=_edges(recency_days), frequency=_edges(frequency), monetary=_edges(monetary)
    )


def _higher_is_better(value: T, edges: tuple[T, ...]) -> int:
    return 1 + sum(value > edge for edge in edges)


def _lower_is_better(value: float, edges: tuple[float, ...]) -> int:
    return 1 + sum(value < edge for edge in edges)


_P, _S = "potential_loyalists", "about_to_sleep"
# The grid of the module docstring: _GRID[5 - r][fm - 1].
_GRID = (
    ("new", _P, _P, "champions", "champions"),
    ("promising", _P, _P, "loyal", "loyal"),
    (_S, _S, "need_attention", "loyal", "loyal"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("lost", "lost", "at_risk", "at_risk", "cant_lose"),
)


def segment_of(r: int, fm: int) -> str:
    """The segment of an R score and an FM score (1-5 each)."""
    return _GRID[5 - r][fm - 1]


def days_since(last_order_at: datetime, *, now: datetime) -> float:
    return max(0.0, (now - last_order_at).total_seconds() / 86400)


def segment_for(
    *,
    last_order_at: datetime | None,
    orders_count: int,
    total_spent: Decimal,
    now: datetime,
    edges: Thresholds,
) -> str:
    if last_order_at is None or orders_count == 0:
        return ""
    r = _lower_is_better(days_since(last_order_at, now=now), edges.recency_days)
    f = _higher_is_better(float(orders_count), edges.frequency)
    m = _higher_is_better(total_spent, edges.monetary)
    return segment_of(r, (f + m + 1) // 2)
