"""Factories of the portal tests: customers and orders as the mirror would have written them
(the portal only reads them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory

from aftercare.customers.models import Customer
from aftercare.orders.models import LineItem, Order, OrderStatusChange
from tests.factories import StoreFactory

PLACED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    store = factory.SubFactory(StoreFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Jane"
    last_name = "Doe"
    locale = "en_US"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.LazyAttribute(lambda o: o.customer.store)
    customer = factory.SubFactory(CustomerFactory)
    external_id = factory.Sequence(lambda n: 5000 + n)
    number = factory.LazyAttribute(lambda o: str(o.external_id))
    status = "processing"
    currency = "USD"
    billing_email = factory.LazyAttribute(lambda o: o.customer.email)
    subtotal = Decimal("1200.00")
    discount_total = Decimal("0.00")
    shipping_total = Decimal("25.00")
    total_tax = Decimal("9.50")
    total = Decimal("1234.50")
    source = "woocommerce"
    date_created = PLACED
    date_paid = PLACED
    date_modified = PLACED


class LineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineItem

    order = factory.SubFactory(OrderFactory)
    external_id = factory.Sequence(lambda n: 100 + n)
    name = "Trail Runner Shoe"
    sku = "TRS-42"
    quantity = 2
    unit_price = Decimal("600.00")
    subtotal = Decimal("1200.00")
    total = Decimal("1200.00")


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    from_status = "pending"
    to_status = "processing"
    changed_at = PLACED
    source = "webhook"
