from __future__ import annotations

import copy

import pytest

from aftercare.ingest import mirror, woo_mapping
from aftercare.stores import services as store_services
from aftercare.stores.models import Store
from tests.shared_data import woo_json


def fill_store(store: Store, *, order_id: int = 14, email: str = "jane.buyer@example.com") -> None:
    """The real store's order, product and customer, mirrored into `store`."""
    order = copy.deepcopy(woo_json("order.json"))
    order["id"] = order_id
    order["billing"]["email"] = email
    customer = copy.deepcopy(woo_json("customer.json"))
    customer["email"] = email
    mirror.apply_products(
        store=store, records=[woo_mapping.parse_product(woo_json("product.json"))]
    )
    mirror.apply_customers(store=store, records=[woo_mapping.parse_customer(customer)])
    mirror.apply_orders(store=store, records=[woo_mapping.parse_order(order)], source="woocommerce")


@pytest.fixture
def token(store: Store) -> str:
    fill_store(store)
    return store_services.create_api_token(store=store, name="test").token


@pytest.fixture
def other_token(other_store: Store) -> str:
    fill_store(other_store, order_id=14, email="someone@globex.example")
    return store_services.create_api_token(store=other_store).token
