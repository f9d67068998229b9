"""Keeping the figures current from the event log, without one job per event.

Every store has a cursor (`StoreAnalyticsState.last_event_id`): all its events up to that id
are reflected in its rows. A periodic schedule (handlers.py) moves the **high-water mark** and
enqueues one `analytics.refresh_store` job per store with new events; that job reads the
store's new order/customer events in batches, collects the customers and store days they touch,
recomputes those rows from the mirror (recompute.py) and moves the cursor, in one transaction
per batch. Recomputing from source makes a replayed batch harmless.

**Why a high-water mark.** Event ids come from a sequence when the row is inserted, not when it
commits. On PostgreSQL a transaction that took id 101 can commit after one that took id 102: a
reader that moved its cursor to 102 would never see 101. So the log is read only up to the
first *gap* (a missing id) that is younger than `STALE_GAP`: a gap is an open transaction that
will commit soon, or a rollback that will never fill; after `STALE_GAP` it is taken for the
latter. The mirror writes in short batches, so gaps fill within a second or two; a transaction
open longer than that (none of ours is) is caught by the nightly rebuild. SQLite has one writer
at a time, so there every id below the largest visible one is final and no gap waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from aftercare.analytics import metrics, recompute, rfm
from aftercare.analytics.models import EventHighWater, StoreAnalyticsState
from aftercare.core import clock
from aftercare.events.models import Event
from aftercare.orders.models import Order
from aftercare.stores.models import Store

logger = logging.getLogger(__name__)

STALE_GAP = timedelta(minutes=15)
WINDOW = 200_000  # event ids read per high-water step
BATCH = 5_000  # events per refresh transaction on PostgreSQL
# SQLite locks the whole database while a transaction writes: a 5,000-event batch held it for
# seconds and the webhook receiver's acknowledgements waited behind it (p99 of 4.7 s at 500
# deliveries/s). Small batches keep each hold in the tens of milliseconds.
SQLITE_BATCH = 250


def _batch_size() -> int:
    return SQLITE_BATCH if connection.vendor == "sqlite" else BATCH
SUBJECTS = ("order", "customer")


@dataclass(frozen=True)
class HighWaterStep:
    previous: int
    high_water: int
    store_ids: frozenset[int]  # stores with events in (previous, high_water]


def lock_state(*, store: Store) -> StoreAnalyticsState:
    """The store's analytics row, locked for the caller's transaction (created if missing)."""
    StoreAnalyticsState.objects.get_or_create(store=store)
    return StoreAnalyticsState.objects.select_for_update().get(store=store)


def _gaps_between(previous: int, ids: list[int]) -> list[tuple[int, int]]:
    gaps, expected = [], previous + 1
    for event_id in ids:
        if event_id > expected:
            gaps.append((expected, event_id - 1))
        expected = event_id + 1
    return gaps


def next_high_water(
    *, previous: int, ids: list[int], known_gaps: list[Any], now: datetime
) -> tuple[int, list[list[Any]]]:
    """Pure step: the new high-water mark over the visible `ids` (sorted, all > previous) and
    the gaps still awaited ([lo, hi, first seen ISO]). A gap is awaited until STALE_GAP after it
    was first seen; the mark stops just below the first awaited gap."""
    if not ids:
        return previous, [g for g in known_gaps if g[0] > previous]
    seen: list[tuple[int, int, datetime]] = [
        (int(lo), int(hi), datetime.fromisoformat(at)) for lo, hi, at in known_gaps
    ]
    gaps = []
    for lo, hi in _gaps_between(previous, ids):
        since = min((at for a, b, at in seen if a <= hi and b >= lo), default=now)
        gaps.append((lo, hi, since))
    high_water = ids[-1]
    for lo, _, since in gaps:
        if now - since < STALE_GAP:
            high_water = lo - 1
            break
    return high_water, [[lo, hi, since.isoformat()] for lo, hi, since in gaps if lo > high_water]


def advance_high_water() -> int:
    """Move the global high-water mark as far as is safe; returns it."""
    return advance_high_water_step().high_water


def advance_high_water_step() -> HighWaterStep:
    _, first_run = EventHighWater.objects.get_or_create(pk=1)
    with transaction.atomic():
        row = EventHighWater.objects.select_for_update().get(pk=1)
        if first_run and row.high_water == 0:
            # Ids below the first visible event are history (deleted stores, rolled-back
            # transactions of the past), not transactions about to commit: start there.
            first = Event.objects.order_by("id").values_list("id", flat=True).first()
            row.high_water = (first or 1) - 1
        previous = row.high_water
        pairs = list(
            Event.objects.filter(id__gt=previous)
            .order_by("id")
            .values_list("id", "store_id")[:WINDOW]
        )
        if connection.vendor == "postgresql":
            high_water, gaps = next_high_water(
                previous=previous,
                ids=[event_id for event_id, _ in pairs],
                known_gaps=row.gaps,
                now=clock.now(),
            )
        else:  # one writer at a time: nothing below a visible id is still to come
            high_water, gaps = (pairs[-1][0] if pairs else previous), []
        if gaps:
            logger.info("event log: waiting for %d gap(s) above id %d", len(gaps), high_water)
        row.high_water, row.gaps = high_water, gaps
        row.save()
    stores = frozenset(store_id for event_id, store_id in pairs if event_id <= high_water)
    return HighWaterStep(previous=previous, high_water=high_water, store_ids=stores)


def mark_quiet_stores_current(*, step: HighWaterStep) -> int:
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


def catch_up_high_water(*, max_steps: int = 50) -> list[HighWaterStep]:
    """Advance the mark until it stops moving (a first run over a large log takes a few
    steps of WINDOW ids)."""
    steps = []
    for _ in range(max_steps):
        step = advance_high_water_step()
        steps.append(step)
        if step.high_water - step.previous < WINDOW // 2:  # caught up (or waiting on a gap)
            break
    return steps
