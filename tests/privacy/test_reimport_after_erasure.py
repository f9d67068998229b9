"""An erased person stays erased when the shop sends them again: a sync or a replayed webhook
before the owner erased them in WooCommerce too. Their orders still count, linked to the
anonymised customer, without their personal data; their account is not mirrored again; the raw
delivery bodies about them are not kept."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.utils import timezone

from aftercare.customers.models import Customer
from aftercare.ingest import suppression
from aftercare.ingest.models import DeliveryStatus, SuppressedIdentity, WebhookDelivery
from aftercare.ingest.webhooks import processing
from aftercare.orders.models import Order
from aftercare.privacy import services as privacy_services
from aftercare.stores.models import Store
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db
EMAIL = "jane.buyer@example.com"


def _deliver(store: Store, payload: Any, topic: str) -> WebhookDelivery:
    now = timezone.now()
    return WebhookDelivery.objects.create(
        store=store, received_at=now, topic=topic, body=json.dumps(payload), next_attempt_at=now
    )


def _order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(woo_json("order.json"))
    order.update(changes)
    return order


def _dump(store: Store) -> str:
    """Everything the mirror and the inbox hold for the store, as one text to search."""
    rows = [
        *Customer.objects.filter(store=store).values(),
        *Order.objects.filter(store=store).values(),
        *WebhookDelivery.objects.filter(store=store).values("body", "headers"),
    ]
    return json.dumps(rows, default=str).lower()


def test_a_sync_after_erasure_brings_the_orders_back_without_the_person(store: Store) -> None:
    _deliver(store, woo_json("customer.json"), "customer.created")
    _deliver(store, _order(), "order.created")
    processing.drain_inbox()
    assert Customer.objects.filter(store=store, email=EMAIL).exists()

    privacy_services.erase_customer(store=store, email=EMAIL)
    anonymised = Customer.objects.get(store=store)
    assert SuppressedIdentity.objects.filter(store=store, customer_id=anonymised.pk).exists()

    # The shop still has them: the account, a newer version of the order, and a new order.
    customer = copy.deepcopy(woo_json("customer.json"))
    customer["date_modified_gmt"] = "2026-11-30T10:00:00"
    again = [
        _deliver(store, customer, "customer.updated"),
        _deliver(store, _order(date_modified_gmt="2026-11-30T10:00:00", status="completed"),
                 "order.updated"),
        _deliver(store, _order(id=15, number="15", customer_note="ring twice"), "order.created"),
    ]
    processing.drain_inbox()

    assert Customer.objects.filter(store=store).count() == 1  # no one new
    assert EMAIL not in _dump(store) and "jane" not in _dump(store)
    assert "ring twice" not in _dump(store)
    orders = Order.objects.filter(store=store).order_by("external_id")
    assert [o.customer_id for o in orders] == [anonymised.pk, anonymised.pk]
    assert orders[0].status == "completed"  # figures keep following the shop
    assert all(o.billing_email == "" and o.meta == {} for o in orders)
    for delivery in again:
        delivery.refresh_from_db()
        assert delivery.body == suppression.ERASED_BODY
    account = WebhookDelivery.objects.get(pk=again[0].pk)
    assert account.status == DeliveryStatus.IGNORED and "erased" in account.outcome


def test_other_people_are_mirrored_as_usual(store: Store) -> None:
    privacy_services.erase_customer(store=store, email="someone.else@example.com")
    _deliver(store, _order(), "order.created")
    processing.drain_inbox()
    order = Order.objects.get(store=store)
    assert order.billing_email == EMAIL and order.customer is not None
    assert order.customer.email == EMAIL


def test_an_order_placed_after_the_erasure_is_a_new_relationship(store: Store) -> None:
    """Someone erased who comes back and buys again gave the store their data anew (and expects
    their order updates): that order is mirrored as usual."""
    from datetime import UTC, datetime

    import time_machine

    _deliver(store, _order(id=9, number="9", date_created_gmt="2026-10-01T10:00:00",
                           date_modified_gmt="2026-10-01T10:00:00"), "order.created")
    processing.drain_inbox()
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=UTC)):
        privacy_services.erase_customer(store=store, email=EMAIL)
    new = _deliver(store, _order(), "order.created")  # placed 2026-11-22
    processing.drain_inbox()
    order = Order.objects.get(store=store, external_id=14)
    assert order.billing_email == EMAIL and order.customer is not None
    assert order.customer.email == EMAIL
    new.refresh_from_db()
    assert new.body != suppression.ERASED_BODY
    old = Order.objects.get(store=store, external_id=9)
    assert old.billing_email == "" and old.customer_id != order.customer_id
