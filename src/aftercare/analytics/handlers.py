"""Job handlers of analytics (found by kind) and the periodic schedules apps.py registers."""

from __future__ import annotations

import logging

from aftercare.analytics import rebuild, refresh
from aftercare.analytics.models import StoreAnalyticsState
from aftercare.events import high_water
from aftercare.jobs.registry import task
from aftercare.stores.models import Store

logger = logging.getLogger(__name__)


@task(kind="analytics.refresh_store", max_attempts=5)
def refresh_store(*, store_id: int, up_to: int) -> None:
    store = Store.objects.filter(pk=store_id).first()
    if store is None:  # deleted since
        return
    refresh.refresh_store(store=store, up_to=up_to)


@task(kind="analytics.rebuild_store", max_attempts=3)
def rebuild_store(*, store_id: int) -> None:
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return
    result = rebuild.rebuild_store(store=store)
    logger.info("store %s: analytics rebuilt in %.1f s", store.slug, result.seconds)


def schedule_refreshes() -> int:
    """The frequent schedule: move the high-water mark, then one refresh job per store with
    new events (deduplicated: a store already queued is not queued twice)."""
    store_ids: set[int] = set()
    up_to = 0
    for step in high_water.catch_up():
        store_ids |= step.store_ids
        refresh.mark_quiet_stores_current(step=step)
        up_to = step.high_water
    for store_id in sorted(store_ids):
        refresh_store.enqueue(
            store_id=store_id, up_to=up_to, dedupe_key=f"analytics.refresh:{store_id}"
        )
    return len(store_ids)


def schedule_nightly() -> int:
    """The daily schedule: RFM segments move with the calendar, so every store with figures is
    re-segmented; and a full rebuild catches what no event announced (an order edited without
    a status change) — cheap enough at a million orders (docs/subsystems/analytics.md)."""
    store_ids = list(StoreAnalyticsState.objects.values_list("store_id", flat=True))
    for store_id in store_ids:
        rebuild_store.enqueue(store_id=store_id, dedupe_key=f"analytics.rebuild:{store_id}")
    return len(store_ids)
