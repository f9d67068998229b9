"""Job handlers of ingestion (found by kind by the jobs registry). Network I/O happens here,
never in a request: fetching an order WooCommerce only named, and reconciling stores."""

from __future__ import annotations

import logging

from aftercare.ingest import mirror, woo_mapping
from aftercare.jobs.registry import task
from aftercare.stores import connection
from aftercare.stores.models import Store, WooConnection

logger = logging.getLogger(__name__)


@task(kind="ingest.fetch_order", max_attempts=8)
def fetch_order(*, store_id: int, order_external_id: int) -> None:
    """`action.woocommerce_order_status_*` deliveries carry only the order id: GET the order and
    apply it (idempotent: the mirror upserts, newest wins)."""
    store = Store.objects.get(pk=store_id)
    with connection.client_for_store(store=store) as woo:
        payload = woo.get(f"orders/{order_external_id}")
    mirror.apply_orders(
        store=store, records=[woo_mapping.parse_order(payload)], source="woocommerce"
    )


@task(kind="ingest.reconcile_store", max_attempts=3)
def reconcile_store(*, store_id: int) -> None:
    """Pull what changed since the last sync (catches deliveries WooCommerce dropped) and
    re-enable webhooks the shop disabled after failed deliveries."""
    from aftercare.ingest import sync

    store = Store.objects.get(pk=store_id)
    sync.reconcile_store(store=store)
    reactivated = connection.reactivate_disabled_webhooks(store=store)
    if reactivated:
        logger.warning(
            "store %s: re-activated %d webhooks WooCommerce had disabled",
            store.slug,
            len(reactivated),
        )


def enqueue_reconciliations() -> int:
    """The periodic schedule: one reconcile job per connected store (stores fail alone)."""
    store_ids = list(WooConnection.objects.values_list("store_id", flat=True))
    for store_id in store_ids:
        reconcile_store.enqueue(store_id=store_id, dedupe_key=f"reconcile:{store_id}")
    return len(store_ids)
