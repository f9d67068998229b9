"""What one `apply_orders` call writes besides the order rows themselves: line, refund and
status-move rows, and the events each change means (milestones with dedupe keys, so a replay
never publishes one twice). `mirror/orders.py` decides; this collects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aftercare.events.bus import EventDraft
from aftercare.ingest.woo_records import OrderRecord
from aftercare.orders.models import PAID_STATUSES, OrderStatus
from aftercare.stores.models import Store


class OrderBatch:
    """Collects the writes and events of one `apply_orders` call."""

    def __init__(self, store: Store, source: str, backfill: bool) -> None:
        self.store, self.source, self.backfill = store, source, backfill
        # Plain rows for core.bulk_rows (no model instances on the hot path).
        self.lines: list[tuple[Any, ...]] = []
        self.refunds: list[dict[str, Any]] = []
        self.moves: list[tuple[Any, ...]] = []
        self.events: list[EventDraft] = []
        self.new_order_ids: set[int] = set()

    def event(
        self,
        kind: str,
        order_id: int,
        customer_id: int | None,
        at: datetime,
        payload: dict[str, Any],
        *,
        dedupe: str | None,
    ) -> None:
        payload.setdefault("backfill", self.backfill)
        self.events.append(
            EventDraft(
                store_id=self.store.pk,
                type=kind,
                subject_type="order",
                subject_id=order_id,
                customer_id=customer_id,
                occurred_at=at,
                payload=payload,
                dedupe_key=f"{kind}:{order_id}:{dedupe}" if dedupe is not None else None,
                subject_is_new=order_id in self.new_order_ids,
            )
        )

    def milestones(
        self,
        *,
        order_id: int,
        customer_id: int | None,
        record: OrderRecord,
        was_paid: bool,
        old_status: str | None,
    ) -> None:
        base = {"number": record.number, "total": str(record.total), "currency": record.currency}
        new = record.status
        if not was_paid and (record.date_paid is not None or new in PAID_STATUSES):
            at = record.date_paid or record.date_modified
            self.event("order.paid", order_id, customer_id, at, {**base}, dedupe="")
        if new == OrderStatus.COMPLETED and old_status != new:
            at = record.date_completed or record.date_modified
            self.event(
                "order.completed", order_id, customer_id, at, {**base}, dedupe=at.isoformat()
            )
        if new == OrderStatus.CANCELLED and old_status != new:
            self.event(
                "order.cancelled",
                order_id,
                customer_id,
                record.date_modified,
                {**base, "from": old_status or ""},
                dedupe=record.date_modified.isoformat(),
            )

    def refunds_of(
        self, *, order_id: int, customer_id: int | None, record: OrderRecord, known: set[int]
    ) -> None:
        refunded = Decimal("0.00")
        for refund in sorted(record.refunds, key=lambda r: r.external_id):
            refunded += refund.amount
            if refund.external_id in known:
                continue
            self.refunds.append(
                {
                    "order_id": order_id,
                    "external_id": refund.external_id,
                    "amount": refund.amount,
                    "reason": refund.reason,
                    "created_at": refund.created_at,
                }
            )
            full = record.status == OrderStatus.REFUNDED or refunded >= record.total
            self.event(
                "order.refunded",
                order_id,
                customer_id,
                refund.created_at or record.date_modified,
                {
                    "number": record.number,
                    "refund_id": refund.external_id,
                    "amount": str(refund.amount),
                    "reason": refund.reason,
                    "refunded_total": str(refunded),
                    "order_total": str(record.total),
                    "currency": record.currency,
                    "full": full,
                    "partial": not full,
                },
                dedupe=str(refund.external_id),
            )
