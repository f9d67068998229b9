"""What happened to a demo order after checkout, up to the anchor time: payment, fulfilment,
the problems later modules must notice (payment never arrived, stuck on hold, shipped late),
cancellations and refunds.

    fate = draw_fate(created=when, anchor=anchor, method="stripe", total=Decimal("42.50"),
                     line_amounts=[...], quantum=Decimal("0.01"), rng=rng)
    fate.status, fate.paid, fate.completed, fate.refunds

The mix is roughly that of a small shop: most orders complete within days, recent ones are
still processing or awaiting a bank transfer; a few percent fail at payment, are abandoned or
cancelled, wait on hold for weeks, or are refunded in part or in full. Anything that would
happen after `anchor` has not happened yet, so the status is the one the shop shows at `anchor`.
Pure: time and randomness are parameters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

# WooCommerce cancels unpaid pending orders after the "hold stock" time (60 minutes by default).
HOLD_STOCK = timedelta(minutes=60)
PAYMENT_METHODS = {
    "stripe": "Credit card (Stripe)",
    "ppcp-gateway": "PayPal",
    "bacs": "Direct bank transfer",
    "cod": "Cash on delivery",
}
# Per country: bank transfer is how many Koreans pay online shops; Japan likes cash on delivery.
_METHOD_MIX = {
    "KR": (50, 10, 35, 5),
    "JP": (55, 10, 15, 20),
}
_DEFAULT_MIX = (66, 28, 6, 0)
_PARTIAL_REASONS = (
    "Item arrived damaged",
    "Wrong grind sent",
    "Missing item in parcel",
    "Late delivery — goodwill credit",
    "Price adjustment",
)
_FULL_REASONS = (
    "Customer changed their mind",
    "Parcel lost in transit",
    "Order cancelled — item on backorder",
    "Duplicate order",
    "Returned unopened",
)


@dataclass(frozen=True, slots=True)
class RefundPlan:
    at: datetime
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Fate:
    status: str
    paid: datetime | None
    completed: datetime | None
    modified: datetime
    refunds: tuple[RefundPlan, ...] = field(default=())


def draw_payment_method(*, country: str, rng: random.Random) -> str:
    weights = _METHOD_MIX.get(country, _DEFAULT_MIX)
    return rng.choices(tuple(PAYMENT_METHODS), weights=weights)[0]


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=int(rng.uniform(low, high) * 86_400))


def failed_attempt(*, created: datetime) -> Fate:
    """A declined card: the order stays `failed`; the customer usually retries right away."""
    return Fate(status="failed", paid=None, completed=None, modified=created + timedelta(minutes=1))


def _payment(  # noqa: PLR0911 - one return per way a payment can end
    *, created: datetime, anchor: datetime, method: str, rng: random.Random
) -> Fate | datetime | None:
    """When the money arrived (None for cash on delivery), or the order's fate if it never did."""
    if method == "bacs":
        if rng.random() < 0.12:  # the transfer never came: cancelled by hand after a week or so
            cancel = created + _days(rng, 7, 12)
            if cancel > anchor:
                return Fate(status="on-hold", paid=None, completed=None, modified=created)
            return Fate(status="cancelled", paid=None, completed=None, modified=cancel)
        paid = created + _days(rng, 0.3, 3.5)
        if paid > anchor:
            return Fate(status="on-hold", paid=None, completed=None, modified=created)
        return paid
    if method == "cod":
        return None
    if rng.random() < 0.02:  # abandoned at the payment page
        cancel = created + HOLD_STOCK
        if cancel > anchor or rng.random() < 0.3:  # stock not managed: pending forever
            return Fate(status="pending", paid=None, completed=None, modified=created)
        return Fate(status="cancelled", paid=None, completed=None, modified=cancel)
    return created + timedelta(seconds=rng.randint(3, 40))


def _refunds(
    *,
    completed: datetime,
    anchor: datetime,
    total: Decimal,
    line_amounts: list[Decimal],
    quantum: Decimal,
    rng: random.Random,
) -> tuple[str, tuple[RefundPlan, ...]]:
    roll = rng.random()
    if roll < 0.012:
        at = completed + _days(rng, 2, 25)
        if at <= anchor:
            return "refunded", (RefundPlan(at, total, rng.choice(_FULL_REASONS)),)
    elif roll < 0.047:
        at = completed + _days(rng, 1, 20)
        if at <= anchor:
            if len(line_amounts) > 1 and rng.random() < 0.6:
                amount = rng.choice(line_amounts)
            else:
                share = Decimal(str(rng.choice((0.1, 0.15, 0.2, 0.25, 0.3))))
                amount = (total * share).quantize(quantum, rounding=ROUND_HALF_UP)
            if Decimal("0") < amount < total:
                return "completed", (RefundPlan(at, amount, rng.choice(_PARTIAL_REASONS)),)
    return "completed", ()


def draw_fate(  # noqa: PLR0911 - one return per fate
    *,
    created: datetime,
    anchor: datetime,
    method: str,
    total: Decimal,
    line_amounts: list[Decimal],
    quantum: Decimal,
    rng: random.Random,
) -> Fate:
    """The order's state at `anchor` (see the module docstring). `line_amounts` are the lines'
    totals with tax, for partial refunds of one item."""
    payment = _payment(created=created, anchor=anchor, method=method, rng=rng)
    if isinstance(payment, Fate):
        return payment
    paid = payment
    start = paid or created
    roll = rng.random()
    if roll < 0.006:  # cancelled before it shipped: refunded in full
        at = start + _days(rng, 0.1, 1.5)
        if at <= anchor:
            reason = "Customer cancelled before dispatch"
            return Fate("refunded", paid, None, at, (RefundPlan(at, total, reason),))
        return Fate("processing", paid, None, start)
    if roll < 0.031:  # held for an address check or a backorder, for weeks
        held = start + timedelta(hours=rng.randint(2, 30))
        resolved = start + _days(rng, 8, 50)
        if held > anchor:
            return Fate("processing", paid, None, start)
        if rng.random() < 0.25:  # forgotten: nobody looks at it for months
            resolved = start + _days(rng, 60, 200)
        if resolved > anchor:
            return Fate("on-hold", paid, None, held)
        if rng.random() < 0.2:
            reason = "Order cancelled — item on backorder"
            return Fate("refunded", paid, None, resolved, (RefundPlan(resolved, total, reason),))
        completed = resolved
    elif roll < 0.061:  # shipped late
        completed = start + _days(rng, 7, 25)
    else:
        completed = start + timedelta(hours=6) + _days(rng, 0.0, 1.0) * rng.choice((1, 1, 2, 3))
    if completed > anchor:
        return Fate("processing", paid, None, start)
    if method == "cod":
        paid = completed  # the courier collected the money on delivery
    status, refunds = _refunds(
        completed=completed,
        anchor=anchor,
        total=total,
        line_amounts=line_amounts,
        quantum=quantum,
        rng=rng,
    )
    modified = max([completed, *(r.at for r in refunds)])
    return Fate(status, paid, completed, modified, refunds)
