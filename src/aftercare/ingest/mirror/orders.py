"""Mirroring orders, in batches: one query per table to read what we have, bulk writes for what
changed, and the events each change means.

Rules (ARCHITECTURE.md "Invariants"):
- newest wins: a record whose `date_modified` is older than the stored one is stale and changes
  nothing; an equal timestamp is applied only if the content differs;
- every status move is a row and an `order.status_changed` event; a jump the shop coalesced
  (pending → completed in one delivery) is expanded into the moves we can infer;
- milestones are events with dedupe keys, so replays never publish them twice.
The caller holds the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftercare.core import clock
from aftercare.core.bulk_rows import (
    insert_returning,
    insert_rows,
    insert_tuples,
    select_in,
    update_rows,
)
from aftercare.events.bus import EventDraft
from aftercare.ingest import suppression
from aftercare.ingest.mirror.customers import resolve_order_customers
from aftercare.ingest.mirror.order_batch import OrderBatch
from aftercare.ingest.mirror.result import Outcome
from aftercare.ingest.woo_records import OrderRecord, RefundRecord
from aftercare.orders.models import (
    LineItem,
    Order,
    OrderStatus,
    OrderStatusChange,
    Refund,
    RefundLine,
)
from aftercare.stores.models import Store

_ZERO = Decimal("0.00")
_UNPAID_BEFORE_PROCESSING = {
    OrderStatus.PENDING,
    OrderStatus.ON_HOLD,
    OrderStatus.FAILED,
    OrderStatus.CHECKOUT_DRAFT,
}
_ORDER_FIELDS = (
    "number", "status", "currency", "customer_id", "billing_email", "subtotal", "discount_total",
    "shipping_total", "total_tax", "total", "refunded_total", "billing_country", "billing_postcode",
    "shipping_country", "shipping_postcode", "customer_note", "created_via", "payment_method",
    "coupon_codes", "meta", "date_created", "date_paid", "date_completed", "date_modified",
    "deleted_at", "content_hash",
)  # fmt: skip


@dataclass(slots=True)
class _Move:
    from_status: str
    to_status: str
    at: datetime
    inferred: bool


def status_moves(
    *,
    old: str,
    new: str,
    date_paid: datetime | None,
    date_completed: datetime | None,
    modified: datetime,
) -> list[_Move]:
    """The status moves between what we stored and what the shop says now.

    WooCommerce coalesces quick changes into one delivery (SPEC §4): pending → completed with a
    payment date means the order went through processing."""
    if old == new:
        return []
    if new == OrderStatus.COMPLETED and old in _UNPAID_BEFORE_PROCESSING and date_paid is not None:
        paid_at = min(date_paid, date_completed or modified)
        return [
            _Move(old, OrderStatus.PROCESSING, paid_at, inferred=True),
            _Move(OrderStatus.PROCESSING, new, date_completed or modified, inferred=False),
        ]
    at = date_completed if new == OrderStatus.COMPLETED and date_completed else modified
    return [_Move(old, new, at, inferred=False)]


def _order_values(record: OrderRecord, customer_id: int | None) -> dict[str, Any]:
    return {
        "number": record.number,
        "status": record.status,
        "currency": record.currency,
        "customer_id": customer_id,
        "billing_email": record.customer.email,
        "subtotal": record.subtotal,
        "discount_total": record.discount_total,
        "shipping_total": record.shipping_total,
        "total_tax": record.total_tax,
        "total": record.total,
        "refunded_total": sum((r.amount for r in record.refunds), start=Decimal("0.00")),
        "billing_country": record.billing_country,
        "billing_postcode": record.billing_postcode,
        "shipping_country": record.shipping_country,
        "shipping_postcode": record.shipping_postcode,
        "customer_note": record.customer_note,
        "created_via": record.created_via,
        "payment_method": record.payment_method,
        "coupon_codes": record.coupon_codes,
        "meta": record.meta,
        "date_created": record.date_created,
        "date_paid": record.date_paid,
        "date_completed": record.date_completed,
        "date_modified": record.date_modified,
        "deleted_at": None,
        "content_hash": record.content_hash,
    }


_LINE_COLUMNS = (
    "order_id", "external_id", "product_external_id", "variation_external_id", "name", "sku",
    "quantity", "unit_price", "subtotal", "total", "total_tax",
)  # fmt: skip


def _lines(order_id: int, record: OrderRecord) -> list[tuple[Any, ...]]:
    # fmt: off
    return [
        (
            order_id, line.external_id, line.product_external_id, line.variation_external_id,
            line.name, line.sku, line.quantity, line.unit_price, line.subtotal, line.total,
            line.total_tax,
        )
        for line in record.lines
    ]
    # fmt: on


_NEW_ORDER_COLUMNS = ("store_id", "external_id", "source", *_ORDER_FIELDS)
_MOVE_COLUMNS = ("order_id", "from_status", "to_status", "changed_at", "inferred", "source")


def _new_order_row(
    store_id: int, source: str, record: OrderRecord, customer_id: int | None
) -> tuple[Any, ...]:
    """The columns of `_NEW_ORDER_COLUMNS`, the same values as `_order_values`."""
    refunds = record.refunds
    return (
        store_id, record.external_id, source, record.number, record.status, record.currency,
        customer_id, record.customer.email, record.subtotal, record.discount_total,
        record.shipping_total, record.total_tax, record.total,
        sum((r.amount for r in refunds), start=_ZERO) if refunds else _ZERO,
        record.billing_country, record.billing_postcode, record.shipping_country,
        record.shipping_postcode, record.customer_note, record.created_via, record.payment_method,
        record.coupon_codes, record.meta, record.date_created, record.date_paid,
        record.date_completed, record.date_modified, None, record.content_hash,
    )  # fmt: skip


_EXISTING = (
    "id", "external_id", "status", "date_modified", "date_paid", "content_hash", "deleted_at",
)  # fmt: skip


def _existing(store: Store, external_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        row[1]: dict(zip(_EXISTING, row, strict=True))
        for row in select_in(
            model=Order,
            columns=_EXISTING,
            where={"store_id": store.pk},
            column="external_id",
            values=external_ids,
        )
    }


def _known_refunds(order_ids: list[int]) -> dict[int, set[int]]:
    known: dict[int, set[int]] = {}
    for order_id, ext in select_in(
        model=Refund, columns=("order_id", "external_id"), where={}, column="order_id",
        values=order_ids,
    ):  # fmt: skip
        known.setdefault(order_id, set()).add(ext)
    return known


def apply_orders(
    *, store: Store, records: Sequence[OrderRecord], source: str, backfill: bool = False
) -> tuple[list[Outcome], list[EventDraft]]:
    """Upsert a batch of orders (see the module docstring). Returns one outcome per record and
    the events to publish (the caller publishes them in the same transaction)."""
    # Within a batch the newest version of each order wins; earlier copies are stale.
    latest: dict[int, int] = {}
    for index, record in enumerate(records):
        current = latest.get(record.external_id)
        if current is None or record.date_modified >= records[current].date_modified:
            latest[record.external_id] = index
    winners = sorted(latest.values())
    outcomes: list[Outcome] = [Outcome.STALE] * len(records)

    existing = _existing(store, [records[i].external_id for i in winners])
    to_apply: list[int] = []
    for index in winners:
        record = records[index]
        row = existing.get(record.external_id)
        if row is not None:
            if record.date_modified < row["date_modified"]:
                continue  # outcome stays STALE
            if row["deleted_at"] is not None and record.date_modified == row["date_modified"]:
                continue  # a late copy of the pre-trash state; a restore carries a newer time
            if record.date_modified == row["date_modified"] and (
                record.content_hash and record.content_hash == row["content_hash"]
            ):
                outcomes[index] = Outcome.UNCHANGED
                continue
        to_apply.append(index)
    if not to_apply:
        return outcomes, []

    # People erased under the GDPR: their orders still count, without them (suppression.py).
    hidden = suppression.lookup(store=store, emails={records[i].customer.email for i in to_apply})
    hidden_customer: dict[int, int | None] = {}
    if hidden:
        scrubbed = list(records)
        for i in to_apply:
            found = hidden.get(scrubbed[i].customer.email)
            if found is not None and found.hides(scrubbed[i].date_created):
                scrubbed[i] = suppression.scrub_order(scrubbed[i])
                hidden_customer[i] = found.customer_id
        records = scrubbed
    customer_ids, customer_events = resolve_order_customers(
        store=store,
        identities=[records[i].customer for i in to_apply],
        seen_at=[records[i].date_created for i in to_apply],
        backfill=backfill,
    )
    customer_ids = [
        hidden_customer.get(i, customer_id)
        for i, customer_id in zip(to_apply, customer_ids, strict=True)
    ]
    batch = OrderBatch(store, source, backfill)
    now = clock.now()
    batch.events.extend(customer_events)
    new_orders: list[tuple[int, tuple[Any, ...], int | None]] = []
    updates: list[dict[str, Any]] = []
    deleted_refunds: list[tuple[int, set[int]]] = []
    known_refunds = _known_refunds(
        [
            existing[records[i].external_id]["id"]
            for i in to_apply
            if records[i].external_id in existing
        ]
    )
    for index, customer_id in zip(to_apply, customer_ids, strict=True):
        record = records[index]
        row = existing.get(record.external_id)
        if row is None:
            new_row = _new_order_row(store.pk, source, record, customer_id)
            new_orders.append((index, new_row, customer_id))
            outcomes[index] = Outcome.CREATED
            continue
        values = _order_values(record, customer_id)
        order_id = row["id"]
        values.update(id=order_id, updated_at=now)
        updates.append(values)
        gone = known_refunds.get(order_id, set()) - {r.external_id for r in record.refunds}
        if gone:
            deleted_refunds.append((order_id, gone))
        outcomes[index] = Outcome.UPDATED
        # Every applied change is a fact, even one with no status move or refund (an edited
        # total, address or line; a refund deleted in the shop): figures derived from the order
        # (analytics) follow it. Deduped on the content, so a replay publishes nothing.
        batch.event(
            "order.updated",
            order_id,
            customer_id,
            record.date_modified,
            {
                "number": record.number,
                "status": record.status,
                "total": str(record.total),
                "currency": record.currency,
                "refunds_deleted": sorted(gone),
            },
            dedupe=record.content_hash or record.date_modified.isoformat(),
        )
        for move in status_moves(
            old=row["status"],
            new=record.status,
            date_paid=record.date_paid,
            date_completed=record.date_completed,
            modified=record.date_modified,
        ):
            batch.moves.append(
                (order_id, move.from_status, move.to_status, move.at, move.inferred, source)
            )
            batch.event(
                "order.status_changed",
                order_id,
                customer_id,
                move.at,
                {
                    "from": move.from_status,
                    "to": move.to_status,
                    "inferred": move.inferred,
                    "number": record.number,
                },
                dedupe=f"{move.from_status}>{move.to_status}@{move.at.isoformat()}",
            )
        batch.milestones(
            order_id=order_id,
            customer_id=customer_id,
            record=record,
            was_paid=row["date_paid"] is not None,
            old_status=row["status"],
        )
        batch.refunds_of(
            order_id=order_id,
            customer_id=customer_id,
            record=record,
            known=known_refunds.get(order_id, set()),
        )
        batch.lines.extend(_lines(order_id, record))

    new_ids = insert_returning(
        model=Order,
        columns=_NEW_ORDER_COLUMNS,
        rows=[values for _, values, _ in new_orders],
        key="external_id",
    )
    batch.new_order_ids = set(new_ids.values())
    for index, _, customer_id in new_orders:
        record = records[index]
        order_id = new_ids[record.external_id]
        batch.lines.extend(_lines(order_id, record))
        batch.moves.append((order_id, "", record.status, record.date_created, False, source))
        batch.event(
            "order.created",
            order_id,
            customer_id,
            record.date_created,
            {
                "number": record.number,
                "status": record.status,
                "total": str(record.total),
                "currency": record.currency,
                "created_via": record.created_via,
                "source": source,
            },
            dedupe="",
        )
        batch.milestones(
            order_id=order_id,
            customer_id=customer_id,
            record=record,
            was_paid=False,
            old_status=None,
        )
        batch.refunds_of(order_id=order_id, customer_id=customer_id, record=record, known=set())

    if updates:
        update_rows(model=Order, fields=[*_ORDER_FIELDS, "updated_at"], rows=updates)
        updated_ids = [o["id"] for o in updates]
        for start in range(0, len(updated_ids), 900):
            LineItem.objects.filter(order_id__in=updated_ids[start : start + 900]).delete()
        for order_id, gone in deleted_refunds:  # refunds the shop deleted left the list
            Refund.objects.filter(order_id=order_id, external_id__in=gone).delete()
    insert_tuples(model=LineItem, columns=_LINE_COLUMNS, rows=batch.lines)
    insert_rows(model=Refund, rows=batch.refunds)
    insert_tuples(model=OrderStatusChange, columns=_MOVE_COLUMNS, rows=batch.moves)
    return outcomes, batch.events


def apply_refund_details(
    *, store: Store, order_external_id: int, refunds: Sequence[RefundRecord]
) -> int:
    """Attach the line detail of `GET /orders/<id>/refunds` to refunds we know. Returns how many
    refunds got their lines. Unknown orders or refunds are skipped (the order sync brings them)."""
    order = Order.objects.filter(store=store, external_id=order_external_id).first()
    if order is None:
        return 0
    applied = 0
    for record in refunds:
        refund, _ = Refund.objects.get_or_create(
            order=order,
            external_id=record.external_id,
            defaults={
                "amount": record.amount,
                "reason": record.reason,
                "created_at": record.created_at,
            },
        )
        if record.lines is None or refund.lines.exists():
            continue
        RefundLine.objects.bulk_create(
            RefundLine(
                refund=refund,
                line_external_id=line.line_external_id,
                quantity=line.quantity,
                amount=line.amount,
            )
            for line in record.lines
        )
        applied += 1
    return applied


def mark_order_deleted(
    *, store: Store, external_id: int, at: datetime
) -> tuple[Outcome, list[EventDraft]]:
    order = Order.objects.filter(store=store, external_id=external_id).first()
    if order is None:
        return Outcome.NOT_FOUND, []
    if order.deleted_at is not None:
        return Outcome.UNCHANGED, []
    order.deleted_at = at
    order.save(update_fields=["deleted_at", "updated_at"])
    return Outcome.DELETED, [
        EventDraft(
            store_id=store.pk,
            type="order.deleted",
            subject_type="order",
            subject_id=order.pk,
            customer_id=order.customer_id,
            occurred_at=at,
            payload={"number": order.number},
        )
    ]
