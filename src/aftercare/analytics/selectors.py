"""Reads of the analytics figures, always scoped to one store and always from the day rows
(never the orders): the overview reads twice the period's days of DailyStoreStats in one query.

    view = selectors.overview(store=store, period=Period(start, end))
    view.current.revenue, view.previous.revenue, view.current.change(view.previous, "revenue")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from aftercare.analytics import metrics, periods
from aftercare.analytics.models import DailyStoreStats, StoreAnalyticsState
from aftercare.analytics.periods import Period
from aftercare.core import clock
from aftercare.orders.models import Order
from aftercare.stores.models import Store

ZERO = metrics.ZERO
_CENT = Decimal("0.01")


@dataclass
class Totals:
    """The day rows of some days, added up, and the figures derived from the sums."""

    orders_new: int = 0
    orders_returning: int = 0
    revenue_new: Decimal = ZERO
    revenue_returning: Decimal = ZERO
    gross_revenue: Decimal = ZERO
    refunded: Decimal = ZERO
    refunded_orders: int = 0
    new_customers: int = 0
    cohort_repeat_90: int = 0
    # Only cohorts whose 90 days are over (see `overview`):
    mature_new_customers: int = 0
    mature_repeat_90: int = 0

    def add(self, row: DailyStoreStats, *, mature: bool) -> None:
        for name in metrics.FIELDS:
            setattr(self, name, getattr(self, name) + getattr(row, name))
        if mature:
            self.mature_new_customers += row.new_customers
            self.mature_repeat_90 += row.cohort_repeat_90

    @property
    def orders(self) -> int:
        return self.orders_new + self.orders_returning

    @property
    def revenue(self) -> Decimal:
        return self.revenue_new + self.revenue_returning

    @property
    def aov(self) -> Decimal | None:
        return _ratio_money(self.revenue, self.orders)

    @property
    def aov_new(self) -> Decimal | None:
        return _ratio_money(self.revenue_new, self.orders_new)

    @property
    def aov_returning(self) -> Decimal | None:
        return _ratio_money(self.revenue_returning, self.orders_returning)

    @property
    def repeat_rate(self) -> Decimal | None:
        """Share of paid orders placed by returning customers."""
        return _share(self.orders_returning, self.orders)

    @property
    def repeat_90_rate(self) -> Decimal | None:
        """Of the new customers whose 90 days are over, the share who bought again in them."""
        return _share(self.mature_repeat_90, self.mature_new_customers)

    @property
    def maturing_customers(self) -> int:
        return self.new_customers - self.mature_new_customers

    @property
    def refund_rate(self) -> Decimal | None:
        return _share(self.refunded, self.gross_revenue)

    def change(self, previous: Totals, name: str) -> Change:
        return compare(getattr(self, name), getattr(previous, name), rate=name.endswith("rate"))


def _ratio_money(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(_CENT) if count else None


def _share(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


@dataclass(frozen=True)
class Change:
    """How a figure moved against the previous period. `relative` is a ratio (+0.125 =
    12.5 % up) for amounts and counts; for rates `points` is the difference of the two
    rates (0.02 = 2 percentage points). None when there is nothing to compare with."""

    relative: Decimal | None = None
    points: Decimal | None = None

    @property
    def direction(self) -> str:
        value = self.points if self.points is not None else self.relative
        if value is None or value == 0:
            return "flat"
        return "up" if value > 0 else "down"


def compare(
    current: Decimal | int | None, previous: Decimal | int | None, *, rate: bool = False
) -> Change:
    if current is None or previous is None:
        return Change()
    if rate:
        return Change(points=Decimal(current) - Decimal(previous))
    if previous == 0:
        return Change()  # "+∞ %" tells nobody anything
    return Change(relative=(Decimal(current) - Decimal(previous)) / Decimal(previous))


@dataclass(frozen=True)
class Bucket:
    period: Period  # the bucket's days
    previous: Period  # the same offsets in the previous period
    current: Totals
    compared: Totals


@dataclass
class Overview:
    period: Period
    previous: Period
    today: date
    current: Totals
    compared: Totals
    unit: str  # "day" | "week" | "month"
    buckets: list[Bucket] = field(default_factory=list)
    as_of: datetime | None = None  # the figures include every change up to then
    has_figures: bool = False  # the store has any day row at all
    has_orders: bool = False  # the store has any order (figures may be still on their way)


def store_today(*, store: Store) -> date:
    return metrics.local_day(clock.now(), metrics.zone(store.time_zone))


def overview(*, store: Store, period: Period, today: date | None = None) -> Overview:
    """The period against the previous one of equal length, with chart buckets. A cohort day
    is *mature* once 91 days have begun since it (every member's 90 days are over): only
    mature cohorts count in `repeat_90_rate`; the rest are `maturing_customers`."""
    today = today or store_today(store=store)
    previous = period.previous()
    mature_until = today - timedelta(days=91)
    rows = list(
        DailyStoreStats.objects.filter(
            store=store, day__gte=previous.start, day__lte=period.end
        ).order_by("day")
    )
    by_day = {row.day: row for row in rows}
    unit = periods.granularity(period)
    view = Overview(
        period=period, previous=previous, today=today, current=Totals(), compared=Totals(),
        unit=unit,
    )  # fmt: skip
    for first, last in periods.buckets(period, unit):
        bucket_current = Period(period.start + timedelta(first), period.start + timedelta(last))
        bucket_previous = bucket_current.shifted(-period.days)
        bucket = Bucket(bucket_current, bucket_previous, Totals(), Totals())
        for totals, days in ((bucket.current, bucket_current), (bucket.compared, bucket_previous)):
            for offset in range(days.days):
                row = by_day.get(days.start + timedelta(offset))
                if row is not None:
                    totals.add(row, mature=row.day <= mature_until)
        view.buckets.append(bucket)
    for row in rows:
        target = view.current if row.day >= period.start else view.compared
        target.add(row, mature=row.day <= mature_until)
    state = StoreAnalyticsState.objects.filter(store=store).only("refreshed_at").first()
    view.as_of = state.refreshed_at if state is not None else None
    view.has_figures = bool(rows) or DailyStoreStats.objects.filter(store=store).exists()
    view.has_orders = view.has_figures or Order.objects.filter(store=store).exists()
    return view
