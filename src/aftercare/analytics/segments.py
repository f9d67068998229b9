"""The RFM pass over one store (rfm.py has the rules): quintile edges from all its buying
customers, then each customer's segment, written only where it changed. Recency moves with
the calendar, so this runs daily (and after every rebuild); in between, the refresh gives a
customer whose figures changed a segment from the stored edges."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from aftercare.analytics import rfm
from aftercare.analytics.models import CustomerStats, StoreAnalyticsState
from aftercare.stores.models import Store

_CHUNK = 900


def assign_segments(*, store: Store, now: datetime, state: StoreAnalyticsState) -> int:
    """Score every buying customer of `store` and store the segments; returns how many
    changed. The caller holds `state` locked (select_for_update) in its transaction."""
    rows = list(
        CustomerStats.objects.filter(store=store).values_list(
            "customer_id", "last_order_at", "orders_count", "total_spent", "segment"
        )
    )
    last_orders = [r[1] for r in rows if r[2] > 0 and r[1] is not None]
    buying = [r for r in rows if r[2] > 0 and r[1] is not None]
    edges = rfm.thresholds(
        recency_days=[rfm.days_since(last, now=now) for last in last_orders],
        frequency=[float(r[2]) for r in buying],
        monetary=[r[3] for r in buying],
    )
    changed: dict[str, list[int]] = defaultdict(list)
    for customer_id, last_order_at, orders_count, total_spent, current in rows:
        segment = (
            rfm.segment_for(
                last_order_at=last_order_at,
                orders_count=orders_count,
                total_spent=total_spent,
                now=now,
                edges=edges,
            )
            if edges is not None
            else ""
        )
        if segment != current:
            changed[segment].append(customer_id)
    for segment, ids in changed.items():
        for start in range(0, len(ids), _CHUNK):
            CustomerStats.objects.filter(customer_id__in=ids[start : start + _CHUNK]).update(
                segment=segment
            )
    state.rfm_thresholds = edges.to_json() if edges is not None else {}
    state.segmented_at = now
    state.save(update_fields=["rfm_thresholds", "segmented_at"])
    return sum(len(ids) for ids in changed.values())
