"""Orders for analytics tests, written through the real mirror (so the events the refresh
reads are the ones production publishes)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftercare.ingest import mirror
from aftercare.ingest.woo_records import CustomerIdentity, OrderRecord, RefundRecord
from aftercare.stores.models import Store

_ids = itertools.count(1000)


def at(text: str) -> datetime:
    """'2026-03-01 10:00' (UTC) → aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def order_record(
    *,
    email: str,
    created: datetime,
    total: str = "100.00",
    status: str = "completed",
    external_id: int | None = None,
    refunds: list[tuple[int, str]] | None = None,
    modified: datetime | None = None,
    paid: bool | None = None,
) -> OrderRecord:
    ext = external_id if external_id is not None else next(_ids)
    was_paid = status in ("processing", "completed", "refunded") if paid is None else paid
    return OrderRecord(
        external_id=ext,
        number=str(ext),
        status=status,
        currency="USD",
        customer=CustomerIdentity(email=email, external_id=None, first_name="Ann"),
        subtotal=Decimal(total),
        discount_total=Decimal("0"),
        shipping_total=Decimal("0"),
        total_tax=Decimal("0"),
        total=Decimal(total),
        billing_country="US",
        billing_postcode="",
        shipping_country="US",
        shipping_postcode="",
        customer_note="",
        created_via="checkout",
        payment_method="card",
        coupon_codes=[],
        meta={},
        date_created=created,
        date_paid=created + timedelta(minutes=1) if was_paid else None,
        date_completed=created + timedelta(days=1) if status == "completed" else None,
        date_modified=modified or created + timedelta(days=1),
        lines=[],
        refunds=[
            RefundRecord(external_id=rid, amount=Decimal(amount), reason="", created_at=created)
            for rid, amount in (refunds or [])
        ],
        content_hash=hashlib.md5(  # noqa: S324 - a content digest, as the mirror's
            f"{ext}:{status}:{total}:{refunds}:{modified}".encode()
        ).hexdigest(),
    )


def place(store: Store, *records: OrderRecord, backfill: bool = False) -> None:
    mirror.apply_orders(store=store, records=list(records), source="woocommerce", backfill=backfill)
