"""Replays every request a real WooCommerce 10.0.2 store sent (shared/data/woocommerce/
run1-legacy-post-storage), signatures included, and checks the mirror and the event log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from aftercare.catalog.models import Coupon, Product
from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.ingest.webhooks import processing
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.ingest.conftest import post_capture
from tests.shared_data import captured_deliveries

pytestmark = pytest.mark.django_db


def _replay(client: Client, store: Store, *, drain_every: int | None = None) -> list[int]:
    statuses = []
    for n, (_, capture) in enumerate(captured_deliveries(), start=1):
        statuses.append(post_capture(client, store=store, capture=capture).status_code)
        if drain_every and n % drain_every == 0:
            processing.drain_inbox()
    while processing.drain_inbox():
        pass
    return statuses


def test_every_real_request_is_acknowledged_and_signed_ones_are_stored(
    client: Client, woo_store: Store
) -> None:
    captures = captured_deliveries()
    statuses = _replay(client, woo_store)
    assert statuses == [200] * len(captures)  # pings included, also the one that got 500 there
    signed = [c for _, c in captures if "X-WC-Webhook-Topic" in c["headers"]]
    assert WebhookDelivery.objects.filter(store=woo_store).count() == len(signed)
    assert not WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.RECEIVED, DeliveryStatus.FAILED, DeliveryStatus.DEAD]
    ).exists()


@pytest.mark.parametrize("drain_every", [None, 1, 5])
def test_replay_builds_the_mirror_whatever_the_batching(
    client: Client, woo_store: Store, drain_every: int | None
) -> None:
    _replay(client, woo_store, drain_every=drain_every)

    order = Order.objects.get(store=woo_store, external_id=14)
    assert order.status == "completed"
    assert order.total == Decimal("53.15")
    assert order.refunded_total == Decimal("5.00")
    assert order.coupon_codes == ["thankyou10"]
    assert order.customer.email == "jane.buyer@example.com"
    assert [(line.name, line.quantity) for line in order.lines.order_by("external_id")] == [
        (line["name"], line["quantity"])
        for line in captured_deliveries()[-3][1]["body_json"]["line_items"]
    ]
    guest_order = Order.objects.get(store=woo_store, external_id=16)
    assert guest_order.deleted_at is not None  # trashed after creation, in that order
    guest = Customer.objects.get(store=woo_store, email="guest@example.com")
    assert guest.external_id is None and not guest.is_registered
    jane = Customer.objects.get(store=woo_store, external_id=2)
    assert jane.is_registered and jane.deleted_at is not None
    # WooCommerce 10.0.2 fired product.deleted/coupon.deleted with each other's ids: only the
    # object of the right type with that id is marked.
    assert Product.objects.get(store=woo_store, external_id=12).deleted_at is not None
    assert Product.objects.get(store=woo_store, external_id=11).deleted_at is None
    assert Coupon.objects.get(store=woo_store, external_id=13).deleted_at is not None

    types = list(
        Event.objects.filter(store=woo_store, subject_type="order", subject_id=order.pk)
        .order_by("occurred_at", "id")
        .values_list("type", flat=True)
    )
    for expected in ("order.created", "order.paid", "order.completed", "order.refunded"):
        assert types.count(expected) == 1, (expected, types)
    refund = Event.objects.get(store=woo_store, type="order.refunded")
    assert refund.payload["partial"] is True and refund.payload["amount"] == "5.00"


def test_step_by_step_processing_records_each_status_move(
    client: Client, woo_store: Store
) -> None:
    _replay(client, woo_store, drain_every=1)
    order = Order.objects.get(store=woo_store, external_id=14)
    moves = list(order.status_changes.order_by("changed_at", "id").values_list(
        "from_status", "to_status"
    ))
    assert moves == [("", "pending"), ("pending", "processing"), ("processing", "completed")]
    changed = Event.objects.filter(store=woo_store, type="order.status_changed")
    assert sorted((e.payload["from"], e.payload["to"]) for e in changed) == [
        ("pending", "processing"),
        ("processing", "completed"),
    ]


def test_replaying_everything_twice_changes_nothing(client: Client, woo_store: Store) -> None:
    _replay(client, woo_store, drain_every=1)
    before = (Event.objects.count(), Order.objects.count(), Customer.objects.count())
    _replay(client, woo_store, drain_every=1)
    assert (Event.objects.count(), Order.objects.count(), Customer.objects.count()) == before
