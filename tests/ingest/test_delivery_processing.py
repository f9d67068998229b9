"""Applying stored deliveries: bad payloads end as `dead` with a reason, a poison delivery does
not block its batch, a crashed worker's claims are taken again."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from aftercare.events.models import Event
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.ingest.webhooks import processing
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db


def _store_delivery(store: Store, payload: Any, topic: str = "order.updated") -> WebhookDelivery:
    now = timezone.now()
    return WebhookDelivery.objects.create(
        store=store,
        received_at=now,
        topic=topic,
        body=json.dumps(payload),
        next_attempt_at=now,
    )


def _order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(woo_json("order.json"))
    order.update(changes)
    return order


def test_unmirrorable_payload_is_dead_with_reason_and_others_apply(store: Store) -> None:
    bad = _store_delivery(store, _order(id=20, total="lots"))
    good = _store_delivery(store, _order(id=21))
    processing.drain_inbox()
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == DeliveryStatus.DEAD and "total" in bad.outcome
    assert good.status == DeliveryStatus.PROCESSED
    assert Order.objects.filter(external_id=21).exists()


def test_late_delivery_never_rolls_state_back(store: Store) -> None:
    _store_delivery(store, _order())
    processing.drain_inbox()
    older = _order(status="processing", date_modified_gmt="2026-11-22T07:40:00")
    late = _store_delivery(store, older)
    processing.drain_inbox()
    late.refresh_from_db()
    assert late.status == DeliveryStatus.IGNORED and "older" in late.outcome
    assert Order.objects.get(external_id=14).status == "completed"


def test_status_jump_in_one_delivery_yields_inferred_moves(store: Store) -> None:
    _store_delivery(
        store,
        _order(
            status="pending",
            date_paid_gmt=None,
            date_completed_gmt=None,
            date_modified_gmt="2026-11-22T07:46:16",
            refunds=[],
        ),
    )
    processing.drain_inbox()
    _store_delivery(store, _order(refunds=[]))  # completed, paid, coalesced by WooCommerce
    processing.drain_inbox()
    moves = Event.objects.filter(type="order.status_changed").order_by("occurred_at")
    assert [(e.payload["from"], e.payload["to"], e.payload["inferred"]) for e in moves] == [
        ("pending", "processing", True),
        ("processing", "completed", False),
    ]
    assert Event.objects.filter(type="order.paid").count() == 1
    assert Event.objects.filter(type="order.completed").count() == 1


def test_full_refund_is_flagged_full(store: Store) -> None:
    _store_delivery(
        store, _order(status="refunded", refunds=[{"id": 15, "reason": "", "total": "-53.15"}])
    )
    processing.drain_inbox()
    event = Event.objects.get(type="order.refunded")
    assert event.payload["full"] is True and event.payload["partial"] is False


def test_claims_of_a_crashed_worker_are_taken_again(store: Store) -> None:
    delivery = _store_delivery(store, _order())
    claimed = processing.claim(limit=10)  # ...and the worker dies before processing
    assert [d.pk for d in claimed] == [delivery.pk]
    assert processing.claim(limit=10) == []  # leased: nobody else takes it meanwhile
    with time_machine.travel(timezone.now() + processing.LEASE + timedelta(seconds=1)):
        assert processing.drain_inbox() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED


def test_database_failure_is_retried_later(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure that is not the payload's fault (here: the mirror raising) is retried with
    backoff; the delivery stays in the inbox."""
    from aftercare.ingest import mirror

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(mirror, "apply_orders", broken)
    delivery = _store_delivery(store, _order())
    processing.drain_inbox()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "database went away" in delivery.outcome
    assert delivery.next_attempt_at > timezone.now()
    monkeypatch.undo()
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        processing.drain_inbox()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED


def test_requeue_reapplies_dead_deliveries(store: Store) -> None:
    dead = _store_delivery(store, {"id": "x"})
    processing.drain_inbox()
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD
    assert processing.requeue(store=store) == 1
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.RECEIVED


def test_small_transactions_keep_receive_order_across_chunks(store: Store, settings: Any) -> None:
    """The worker applies a backlog in short transactions (SQLite: the receiver must not wait
    long for the lock); splitting a resource's deliveries into chunks keeps their order, so a
    create in one chunk and its update in the next end as the update."""
    settings.INBOX_APPLY_CHUNK = 2
    for n in range(5):
        _store_delivery(store, _order(id=100 + n, status="processing"))
    _store_delivery(store, _order(id=100, status="completed",
                                  date_modified_gmt="2026-11-23T09:00:00"))
    _store_delivery(store, _order(id=104, total="lots"))  # poison, alone in the last chunk
    assert processing.drain_inbox() == 7
    assert Order.objects.get(store=store, external_id=100).status == "completed"
    assert Order.objects.filter(store=store, external_id__range=(100, 104)).count() == 5
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [DeliveryStatus.PROCESSED] * 6 + [DeliveryStatus.DEAD]
