"""Keeping the figures current from the event log, without one job per event.

Every store has a cursor (`StoreAnalyticsState.last_event_id`): all its events up to that id
are reflected in its rows. A periodic schedule (handlers.py) moves the **high-water mark** and
enqueues one `analytics.refresh_store` job per store with new events; that job reads the
store's new order/customer events in batches, collects the customers and store days they touch,
recomputes those rows from the mirror (recompute.py) and moves the cursor, in one transaction
per batch. Recomputing from source makes a replayed batch harmless. The mark (which ids are
final) is the event log's own: `events.high_water`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction

from aftercare.analytics import metrics, recompute, rfm
from aftercare.analytics.models import StoreAnalyticsState
from aftercare.core import clock
from aftercare.events import high_water
from aftercare.events.models import Event
from aftercare.orders.models import Order
from aftercare.stores.models import Store

logger = logging.getLogger(__name__)

BATCH = 5_000  # events per refresh transaction on PostgreSQL
# SQLite locks the whole database while a transaction writes: a 5,000-event batch held it for
# seconds and the webhook receiver's acknowledgements waited behind it (p99 of 4.7 s at 500
# deliveries/s). Small batches keep each hold in the tens of milliseconds.
SQLITE_BATCH = 250


def _batch_size() -> int:
    return SQLITE_BATCH if connection.vendor == "sqlite" else BATCH


SUBJECTS = ("order", "customer")


def lock_state(*, store: Store) -> StoreAnalyticsState:
    """The store's analytics row, locked for the caller's transaction (created if missing)."""
    StoreAnalyticsState.objects.get_or_create(store=store)
    return StoreAnalyticsState.objects.select_for_update().get(store=store)


def mark_quiet_stores_current(*, step: high_water.HighWaterStep) -> int:
    """Stores that were current at the previous mark and have no event up to the new one are
    current at the new one ("figures as of" moves on for a quiet store too)."""
    return (
        StoreAnalyticsState.objects.filter(
            last_event_id__gte=step.previous, last_event_id__lt=step.high_water
        )
        .exclude(store_id__in=step.store_ids)
        .update(last_event_id=step.high_water, refreshed_at=clock.now())
    )


def refresh_store(*, store: Store, up_to: int) -> int:
    """Apply the store's events up to id `up_to` (at most the high-water mark); returns how many
    events were read. Safe to run twice or concurrently (the state row is locked per batch)."""
    read = 0
    size = _batch_size()
    while True:
        with transaction.atomic():
            state = lock_state(store=store)
            if state.last_event_id >= up_to:
                return read
            events = list(
                Event.objects.filter(
                    store=store,
                    id__gt=state.last_event_id,
                    id__lte=up_to,
                    subject_type__in=SUBJECTS,
                )
                .order_by("id")
                .values_list("id", "subject_type", "subject_id", "customer_id")[:size]
            )
            now = clock.now()
            apply_events(store=store, events=events, state=state, now=now)
            full = len(events) == size
            state.last_event_id = events[-1][0] if full else up_to
            state.refreshed_at = now
            state.save(update_fields=["last_event_id", "refreshed_at"])
        read += len(events)
        if not full:
            return read


def apply_events(
    *,
    store: Store,
    events: list[tuple[int, str, int, int | None]],
    state: StoreAnalyticsState,
    now: datetime,
) -> None:
    """Recompute what `events` touch: the customers they name (and the current customer of
    each order), the store days of their orders, and the days of each touched customer's first
    order before and after. A customer event (an account that took over a guest's orders)
    recomputes the days of all that customer's orders."""
    tz = metrics.zone(store.time_zone)
    order_ids = sorted({e[2] for e in events if e[1] == "order"})
    whole = sorted({e[2] for e in events if e[1] == "customer"})
    customers = {e[3] for e in events if e[3] is not None} | set(whole)
    days = set()
    for chunk in _chunks(order_ids):
        for customer_id, created in Order.objects.filter(store=store, id__in=chunk).values_list(
            "customer_id", "date_created"
        ):
            days.add(metrics.local_day(created, tz))
            if customer_id is not None:
                customers.add(customer_id)
    for chunk in _chunks(whole):
        days.update(
            metrics.local_day(created, tz)
            for created in Order.objects.filter(store=store, customer_id__in=chunk).values_list(
                "date_created", flat=True
            )
        )
    edges = rfm.Thresholds.from_json(state.rfm_thresholds) if state.rfm_thresholds else None
    days |= recompute.recompute_customers(store=store, customer_ids=customers, now=now, edges=edges)
    recompute.recompute_days(store=store, days=days)


def _chunks(values: list[int], size: int = 900) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
