"""Applying parsed shop objects to the mirror (customers, catalogue, orders) and publishing the
events each change means — the one write path shared by webhooks, REST sync, file import and the
demo store.

    from aftercare.ingest import mirror
    result = mirror.apply_orders(store=store, records=records, source="woocommerce")
    result.created, result.outcomes[0]

Each function runs in its own atomic block (a savepoint inside the caller's transaction) and
publishes the events of the changes it made in that same block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from aftercare.catalog.models import Coupon, Product
from aftercare.events import bus
from aftercare.ingest.mirror import catalog, customers, orders
from aftercare.ingest.mirror.result import ApplyResult, Outcome
from aftercare.ingest.woo_records import (
    CouponRecord,
    CustomerRecord,
    OrderRecord,
    ProductRecord,
    RefundRecord,
    ReviewRecord,
)
from aftercare.stores.models import Store

__all__ = [
    "ApplyResult",
    "Outcome",
    "apply_coupons",
    "apply_customers",
    "apply_orders",
    "apply_products",
    "apply_refund_details",
    "apply_reviews",
    "mark_deleted",
]


def _run(
    fn: Callable[..., tuple[list[Outcome], list[bus.EventDraft]]], **kwargs: Any
) -> ApplyResult:
    with transaction.atomic():
        outcomes, drafts = fn(**kwargs)
        bus.publish_many(drafts)
    return ApplyResult(outcomes=outcomes)


def apply_orders(
    *, store: Store, records: Sequence[OrderRecord], source: str, backfill: bool = False
) -> ApplyResult:
    return _run(orders.apply_orders, store=store, records=records, source=source, backfill=backfill)


def apply_customers(
    *, store: Store, records: Sequence[CustomerRecord], backfill: bool = False
) -> ApplyResult:
    return _run(customers.apply_customers, store=store, records=records, backfill=backfill)


def apply_products(
    *, store: Store, records: Sequence[ProductRecord], backfill: bool = False
) -> ApplyResult:
    return _run(catalog.apply_products, store=store, records=records, backfill=backfill)


def apply_coupons(
    *, store: Store, records: Sequence[CouponRecord], backfill: bool = False
) -> ApplyResult:
    return _run(catalog.apply_coupons, store=store, records=records, backfill=backfill)


def apply_reviews(
    *, store: Store, records: Sequence[ReviewRecord], backfill: bool = False
) -> ApplyResult:
    return _run(catalog.apply_reviews, store=store, records=records, backfill=backfill)


@transaction.atomic
def apply_refund_details(
    *, store: Store, order_external_id: int, refunds: Sequence[RefundRecord]
) -> int:
    return orders.apply_refund_details(
        store=store, order_external_id=order_external_id, refunds=refunds
    )


def mark_deleted(*, store: Store, resource: str, external_id: int, at: datetime) -> Outcome:
    """Apply a `<resource>.deleted` (`{"id": N}`): trashed orders, deleted accounts, products and
    coupons are marked, never removed — history keeps pointing at them."""
    with transaction.atomic():
        drafts: list[bus.EventDraft] = []
        if resource == "order":
            outcome, drafts = orders.mark_order_deleted(store=store, external_id=external_id, at=at)
        elif resource == "customer":
            outcome, drafts = customers.mark_customer_deleted(store=store, external_id=external_id)
        elif resource in ("product", "coupon"):
            model = Product if resource == "product" else Coupon
            outcome = catalog.mark_deleted(store=store, model=model, external_id=external_id, at=at)
        else:
            raise ValueError(f"unknown resource {resource!r}")
        bus.publish_many(drafts)
    return outcome
