"""Factories of the portal tests: the shared mirror factories (tests/mirror_factories.py) with
the defaults the portal's assertions are written against — a paid order of two shoes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory

from tests import mirror_factories

PLACED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class CustomerFactory(mirror_factories.CustomerFactory):
    first_name = "Jane"
    last_name = "Doe"
    locale = "en_US"
    first_seen_at = None


class OrderFactory(mirror_factories.OrderFactory):
    store = factory.LazyAttribute(lambda o: o.customer.store)
    customer = factory.SubFactory(CustomerFactory)
    billing_email = factory.LazyAttribute(lambda o: o.customer.email)
    subtotal = Decimal("1200.00")
    discount_total = Decimal("0.00")
    shipping_total = Decimal("25.00")
    total_tax = Decimal("9.50")
    total = Decimal("1234.50")
    date_created = PLACED
    date_paid = PLACED
    date_modified = PLACED


class LineItemFactory(mirror_factories.LineItemFactory):
    order = factory.SubFactory(OrderFactory)
    external_id = factory.Sequence(lambda n: 100 + n)
    name = "Trail Runner Shoe"
    sku = "TRS-42"
    quantity = 2
    unit_price = Decimal("600.00")
    subtotal = Decimal("1200.00")
    total = Decimal("1200.00")


class StatusChangeFactory(mirror_factories.StatusChangeFactory):
    order = factory.SubFactory(OrderFactory)
    from_status = "pending"
    to_status = "processing"
    changed_at = PLACED
    source = "webhook"
