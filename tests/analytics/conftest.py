"""Helpers of the analytics tests: run the incremental refresh as the worker would, and read
the figures back as comparable plain values."""

from __future__ import annotations

from typing import Any

from aftercare.analytics import metrics, refresh
from aftercare.analytics.models import CustomerStats, DailyStoreStats
from aftercare.events import high_water
from aftercare.stores.models import Store

_STATS = (
    "customer_id",
    "orders_count",
    "total_spent",
    "first_order_at",
    "first_order_id",
    "second_order_at",
    "last_order_at",
)


def run_refresh(store: Store) -> int:
    """The periodic schedule and the store's job, inline."""
    read = 0
    for step in high_water.catch_up():
        refresh.mark_quiet_stores_current(step=step)
        read += refresh.refresh_store(store=store, up_to=step.high_water)
    return read


def day_rows(store: Store) -> dict[str, dict[str, Any]]:
    return {
        row.pop("day").isoformat(): row
        for row in DailyStoreStats.objects.filter(store=store)
        .order_by("day")
        .values("day", *metrics.FIELDS)
    }


def stats_rows(store: Store) -> dict[int, tuple[Any, ...]]:
    """CustomerStats without the segment (the refresh scores with the last pass's edges)."""
    return {
        row[0]: row[1:] for row in CustomerStats.objects.filter(store=store).values_list(*_STATS)
    }
