"""Recomputing the figures of some customers and some days from the mirror. Recompute-from-
source per key is what makes the incremental refresh idempotent and right under refunds,
status changes and late deliveries: whatever happened, the row ends up as a rebuild would
write it. The caller holds the transaction (and the store's StoreAnalyticsState lock)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q

from aftercare.analytics import metrics, rfm
from aftercare.analytics.models import CustomerStats, DailyStoreStats
from aftercare.core.bulk_rows import insert_tuples
from aftercare.orders.models import Order, OrderStatus
from aftercare.stores.models import Store

_CHUNK = 900  # ids per IN (...) — below SQLite's bound-variable limit
ORDER_COLUMNS = (
    "id", "customer_id", "status", "date_paid", "date_created", "total", "refunded_total",
)  # fmt: skip
STATS_COLUMNS = (
    "customer_id", "store_id", "orders_count", "total_spent", "first_order_at", "first_order_id",
    "second_order_at", "last_order_at", "segment",
)  # fmt: skip
DAY_COLUMNS = ("store_id", "day", *metrics.FIELDS)

PAID = Q(status__in=[OrderStatus.PROCESSING, OrderStatus.COMPLETED]) | Q(
    status=OrderStatus.REFUNDED, date_paid__isnull=False
)


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def fact(row: tuple[Any, ...]) -> metrics.OrderFact:
    return metrics.OrderFact(*row[:7])


def stats_row(
    *,
    store_id: int,
    customer_id: int,
    figures: metrics.CustomerFigures,
    now: datetime,
    edges: rfm.Thresholds | None,
) -> tuple[Any, ...]:
    segment = (
        rfm.segment_for(
            last_order_at=figures.last_order_at,
            orders_count=figures.orders_count,
            total_spent=figures.total_spent,
            now=now,
            edges=edges,
        )
        if edges is not None
        else ""
    )
    return (
        customer_id, store_id, figures.orders_count, figures.total_spent, figures.first_order_at,
        figures.first_order_id, figures.second_order_at, figures.last_order_at, segment,
    )  # fmt: skip


def recompute_customers(
    *, store: Store, customer_ids: Iterable[int], now: datetime, edges: rfm.Thresholds | None
) -> set[date]:
    """Rewrite the CustomerStats of `customer_ids` from their orders. Returns the store days
    whose new/returning split or cohort may have moved: the days of each customer's first paid
    order, before and after (a late earlier order makes the old first order a returning one)."""
    ids = sorted(set(customer_ids))
    tz = metrics.zone(store.time_zone)
    touched: set[date] = set()
    for chunk in _chunks(ids):
        before = CustomerStats.objects.filter(customer_id__in=chunk).values_list(
            "first_order_at", flat=True
        )
        touched.update(metrics.local_day(at, tz) for at in before if at is not None)
        by_customer: dict[int, list[metrics.OrderFact]] = defaultdict(list)
        for row in Order.objects.filter(
            store=store, customer_id__in=chunk, deleted_at__isnull=True
        ).values_list(*ORDER_COLUMNS):
            by_customer[row[1]].append(fact(row))
        rows = []
        for customer_id, orders in by_customer.items():
            figures = metrics.customer_figures(orders)
            if figures.first_order_at is not None:
                touched.add(metrics.local_day(figures.first_order_at, tz))
            rows.append(
                stats_row(
                    store_id=store.pk,
                    customer_id=customer_id,
                    figures=figures,
                    now=now,
                    edges=edges,
                )
            )
        CustomerStats.objects.filter(customer_id__in=chunk).delete()
        insert_tuples(model=CustomerStats, columns=STATS_COLUMNS, rows=rows)
    return touched


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Contiguous runs of days (first, last), so each run is one range query."""
    ordered = sorted(set(days))
    if not ordered:
        return
    first = last = ordered[0]
    for day in ordered[1:]:
        if day - last > timedelta(days=1):
            yield first, last
            first = day
        last = day
    yield first, last


def recompute_days(*, store: Store, days: Iterable[date]) -> int:
    """Rewrite the DailyStoreStats rows of `days` from the paid orders placed on them and the
    CustomerStats of the customers whose first order fell on them (which must be current).
    Returns how many day rows now exist among `days`."""
    tz = metrics.zone(store.time_zone)
    written = 0
    for first, last in _runs(days):
        start, end = metrics.day_range(first, last, tz)
        built = metrics.Days(tz=tz)
        orders = Order.objects.filter(
            PAID,
            store=store,
            deleted_at__isnull=True,
            date_created__gte=start,
            date_created__lt=end,
        ).values_list(*ORDER_COLUMNS, "customer__stats__first_order_id")
        for row in orders:
            order = fact(row)
            built.day(order.date_created).add_order(
                order, is_new=order.customer_id is None or row[7] == order.id
            )
        cohort = CustomerStats.objects.filter(
            store=store, first_order_at__gte=start, first_order_at__lt=end
        ).values_list("first_order_at", "second_order_at")
        for first_at, second_at in cohort:
            assert first_at is not None  # the range filter excludes NULL
            built.day(first_at).add_cohort_member(
                repeated=metrics.repeated_in_window(first_at, second_at)
            )
        DailyStoreStats.objects.filter(store=store, day__gte=first, day__lte=last).delete()
        rows = [
            (store.pk, day, *(getattr(totals, f) for f in metrics.FIELDS))
            for day, totals in sorted(built.rows.items())
            if not totals.empty
        ]
        insert_tuples(model=DailyStoreStats, columns=DAY_COLUMNS, rows=rows)
        written += len(rows)
    return written
