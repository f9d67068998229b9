"""Fixtures of the customer-page tests: a customer with an order, and links to their pages."""

from __future__ import annotations

import pytest

from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.portal.factories import CustomerFactory, LineItemFactory, OrderFactory


@pytest.fixture
def customer(store: Store) -> Customer:
    return CustomerFactory(store=store, email="jane.doe@example.com")


@pytest.fixture
def order(customer: Customer) -> Order:
    placed = OrderFactory(customer=customer, number="1042")
    LineItemFactory(order=placed)
    return placed
