"""Factories of mirror rows written directly, for tests of what reads them (dashboard pages,
portal pages, exports; how the rows get written is the ingest tests' business), and
CustomerStats rows as the analytics refresh would leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from aftercare.analytics.models import CustomerStats
from aftercare.customers.models import ConsentChange, Customer
from aftercare.events.models import Event
from aftercare.ingest.models import WebhookDelivery
from aftercare.orders.models import LineItem, Order, OrderStatusChange
from tests.factories import StoreFactory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    store = factory.SubFactory(StoreFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Ann"
    last_name = factory.Sequence(lambda n: f"Buyer{n}")
    first_seen_at = factory.Sequence(lambda n: T0 + timedelta(hours=n))


class CustomerStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerStats

    customer = factory.SubFactory(CustomerFactory)
    store = factory.LazyAttribute(lambda o: o.customer.store)
    orders_count = 1
    total_spent = Decimal("50.00")
    first_order_at = T0
    last_order_at = T0
    segment = ""


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    external_id = factory.Sequence(lambda n: 5000 + n)
    number = factory.LazyAttribute(lambda o: str(o.external_id))
    status = "processing"
    currency = "USD"
    total = Decimal("42.00")
    subtotal = Decimal("42.00")
    source = "woocommerce"
    date_created = T0
    date_modified = factory.LazyAttribute(lambda o: o.date_created + timedelta(hours=1))


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    order = factory.SubFactory(OrderFactory)
    external_id = factory.Sequence(lambda n: 9000 + n)
    name = "Blue Mug"
    sku = "MUG-BLUE"
    quantity = 2
    unit_price = Decimal("21.00")
    subtotal = Decimal("42.00")
    total = Decimal("42.00")


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    from_status = ""
    to_status = "pending"
    changed_at = T0
    source = "woocommerce"


class ConsentChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentChange

    customer = factory.SubFactory(CustomerFactory)
    state = "granted"
    source = "checkout"
    occurred_at = T0


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    store = factory.SubFactory(StoreFactory)
    type = "customer.updated"
    subject_type = "customer"
    subject_id = 0
    occurred_at = T0
    payload = factory.LazyFunction(dict)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    store = factory.SubFactory(StoreFactory)
    received_at = T0
    topic = "order.updated"
    resource_id = 0
    headers = factory.LazyFunction(
        lambda: {
            "X-WC-Webhook-Signature": "c2VjcmV0LXNpZ25hdHVyZQ==",
            "X-WC-Webhook-Topic": "order.updated",
        }
    )
    body = '{"id": 1}'
    status = "processed"
    next_attempt_at = T0
