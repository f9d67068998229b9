"""The full recompute of one store's figures: one pass over its orders (sorted by customer, so
each customer's history is at hand when their group ends), written with bulk inserts, in one
transaction (readers see the old figures until it commits, never a half-built state).

    rebuild.rebuild_store(store=store, progress=callback)   # `aftercare analytics rebuild`

Runs under the store's StoreAnalyticsState lock, so an incremental refresh of the same store
waits for it instead of writing older figures over newer ones."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from aftercare.analytics import metrics, recompute, refresh, segments
from aftercare.analytics.models import CustomerStats, DailyStoreStats
from aftercare.core import clock
from aftercare.core.bulk_rows import insert_tuples
from aftercare.events import high_water
from aftercare.orders.models import Order
from aftercare.stores.models import Store

Progress = Callable[[int, int], None]  # (orders done, orders total)
_WRITE_EVERY = 20_000  # CustomerStats rows per bulk insert
_FETCH = 20_000


@dataclass(frozen=True)
class RebuildResult:
    orders: int
    customers: int
    days: int
    seconds: float


def rebuild_store(*, store: Store, progress: Progress | None = None) -> RebuildResult:
    """Recompute every CustomerStats and DailyStoreStats row of `store`, then its RFM segments.

    The store's event cursor moves to the event high-water mark read *before* the orders are
    read: every event up to it is already in the mirror we read; later ones are replayed by the
    refresh (harmless: recomputing is idempotent)."""
    started = time.monotonic()
    now = clock.now()
    tz = metrics.zone(store.time_zone)
    mark = high_water.advance()
    with transaction.atomic():
        state = refresh.lock_state(store=store)
        total = Order.objects.filter(store=store, deleted_at__isnull=True).count()
        CustomerStats.objects.filter(store=store).delete()
        DailyStoreStats.objects.filter(store=store).delete()
        days = metrics.Days(tz=tz)
        pending: list[tuple[Any, ...]] = []
        customers = done = 0
        rows = (
            Order.objects.filter(store=store, deleted_at__isnull=True)
            .order_by("customer_id", "date_created", "id")
            .values_list(*recompute.ORDER_COLUMNS)
            .iterator(chunk_size=_FETCH)
        )
        for customer_id, group in itertools.groupby(rows, key=lambda row: row[1]):
            orders = [recompute.fact(row) for row in group]
            done += len(orders)
            if customer_id is None:
                for order in orders:
                    days.add_anonymous(order)
                continue
            figures = metrics.customer_figures(orders)
            days.add_customer(orders, figures)
            pending.append(
                recompute.stats_row(
                    store_id=store.pk, customer_id=customer_id, figures=figures, now=now, edges=None
                )
            )
            customers += 1
            if len(pending) >= _WRITE_EVERY:
                insert_tuples(model=CustomerStats, columns=recompute.STATS_COLUMNS, rows=pending)
                pending = []
                if progress is not None:
                    progress(done, total)
        insert_tuples(model=CustomerStats, columns=recompute.STATS_COLUMNS, rows=pending)
        day_rows = [
            (store.pk, day, *(getattr(totals, f) for f in metrics.FIELDS))
            for day, totals in sorted(days.rows.items())
            if not totals.empty
        ]
        insert_tuples(model=DailyStoreStats, columns=recompute.DAY_COLUMNS, rows=day_rows)
        if progress is not None:
            progress(done, total)
        segments.assign_segments(store=store, now=now, state=state)
        seconds = time.monotonic() - started
        state.last_event_id = max(state.last_event_id, mark)
        state.refreshed_at = state.rebuilt_at = clock.now()
        state.rebuild_seconds = seconds
        state.save()
    return RebuildResult(orders=done, customers=customers, days=len(day_rows), seconds=seconds)
