"""The metric definitions, as pure functions: what counts as a paid order, which of a
customer's orders is "new", which store day an order belongs to, and how orders add up into
the day rows. The rebuild and the incremental refresh both go through these, so the two cannot
disagree on a definition (docs/subsystems/analytics.md states them in prose).

- A **paid order** is a non-trashed order in `processing` or `completed`, or a `refunded` one
  that had been paid (`date_paid` set): a refund does not erase a sale, it is counted as a
  refund. `cancelled`, `failed`, `pending`, `on-hold` and drafts are not sales, even if an
  earlier status was paid (WooCommerce cancels paid orders only by mistake; refunds are how a
  paid order is undone).
- **Net revenue** of an order = `total - refunded_total` (tax and shipping included, as the
  shop's own totals are).
- An order belongs to the **day it was placed** (`date_created`) in the store's time zone; a
  later refund lowers the net revenue of that day.
- The **new** order of a customer is their first paid order, by (`date_created`, id); every
  later paid order is **returning**. An order without a customer (no usable email) is new:
  nothing links it to any earlier order.
- The **90-day cohort** of a day: customers whose first paid order was placed that day; of them,
  those whose second paid order was placed at most 90 days after the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aftercare.orders.models import PAID_STATUSES, OrderStatus

REPEAT_WINDOW = timedelta(days=90)
ZERO = Decimal("0.00")


def is_paid(*, status: str, date_paid: datetime | None) -> bool:
    """Whether an order counts as a sale (the module docstring); trashed orders never reach
    this (callers filter `deleted_at`)."""
    return status in PAID_STATUSES or (status == OrderStatus.REFUNDED and date_paid is not None)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a store day begins (DST-safe: midnight of that date in the zone)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def day_range(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering the store days first..last inclusive."""
    return day_start(first, tz), day_start(last + timedelta(days=1), tz)


def repeated_in_window(first: datetime | None, second: datetime | None) -> bool:
    return first is not None and second is not None and second - first <= REPEAT_WINDOW


@dataclass(slots=True)
class OrderFact:
    """What the metrics need of one order."""

    id: int
    customer_id: int | None
    status: str
    date_paid: datetime | None
    date_created: datetime
    total: Decimal
    refunded_total: Decimal

    @property
    def paid(self) -> bool:
        return is_paid(status=self.status, date_paid=self.date_paid)

    @property
    def net(self) -> Decimal:
        return self.total - self.refunded_total


@dataclass(slots=True)
class CustomerFigures:
    orders_count: int = 0
    total_spent: Decimal = ZERO
    first_order_at: datetime | None = None
    first_order_id: int | None = None
    second_order_at: datetime | None = None
    last_order_at: datetime | None = None


def customer_figures(orders: Iterable[OrderFact]) -> CustomerFigures:
    """The figures of one customer from all their (non-trashed) orders, in any order."""
    paid = sorted((o for o in orders if o.paid), key=lambda o: (o.date_created, o.id))
    figures = CustomerFigures(orders_count=len(paid))
    if not paid:
        return figures
    figures.total_spent = sum((o.net for o in paid), start=ZERO)
    figures.first_order_at, figures.first_order_id = paid[0].date_created, paid[0].id
    figures.second_order_at = paid[1].date_created if len(paid) > 1 else None
    figures.last_order_at = paid[-1].date_created
    return figures


@dataclass(slots=True)
class DayTotals:
    """One DailyStoreStats row being added up."""

    orders_new: int = 0
    orders_returning: int = 0
    revenue_new: Decimal = ZERO
    revenue_returning: Decimal = ZERO
    gross_revenue: Decimal = ZERO
    refunded: Decimal = ZERO
    refunded_orders: int = 0
    new_customers: int = 0
    cohort_repeat_90: int = 0

    def add_order(self, order: OrderFact, *, is_new: bool) -> None:
        if is_new:
            self.orders_new += 1
            self.revenue_new += order.net
        else:
            self.orders_returning += 1
            self.revenue_returning += order.net
        self.gross_revenue += order.total
        if order.refunded_total:
            self.refunded += order.refunded_total
            self.refunded_orders += 1

    def add_cohort_member(self, *, repeated: bool) -> None:
        self.new_customers += 1
        self.cohort_repeat_90 += int(repeated)

    @property
    def empty(self) -> bool:
        return not (self.orders_new or self.orders_returning or self.new_customers)


FIELDS = (
    "orders_new", "orders_returning", "revenue_new", "revenue_returning", "gross_revenue",
    "refunded", "refunded_orders", "new_customers", "cohort_repeat_90",
)  # fmt: skip


@dataclass(slots=True)
class Days:
    """Day rows being built for one store."""

    tz: ZoneInfo
    rows: dict[date, DayTotals] = field(default_factory=dict)

    def day(self, at: datetime) -> DayTotals:
        key = local_day(at, self.tz)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = DayTotals()
        return row

    def add_anonymous(self, order: OrderFact) -> None:
        """An order without a customer: new if paid, no cohort (nobody to follow)."""
        if order.paid:
            self.day(order.date_created).add_order(order, is_new=True)

    def add_customer(self, orders: list[OrderFact], figures: CustomerFigures) -> None:
        """Add one customer's paid orders (classified new/returning) and their cohort entry."""
        for order in orders:
            if order.paid:
                self.day(order.date_created).add_order(
                    order, is_new=order.id == figures.first_order_id
                )
        if figures.first_order_at is not None:
            self.day(figures.first_order_at).add_cohort_member(
                repeated=repeated_in_window(figures.first_order_at, figures.second_order_at)
            )
