"""The order list and the order page: search, filters, pages, the status timeline, the raw
WooCommerce deliveries (signature redacted, body escaped), tenancy and money visibility."""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from aftercare.customers.models import Customer
from aftercare.orders.models import Order, Refund, RefundLine
from aftercare.stores.models import Store
from tests.dashboard.conftest import table_body
from tests.factories import MembershipFactory
from tests.mirror_factories import (
    T0,
    CustomerFactory,
    DeliveryFactory,
    LineItemFactory,
    OrderFactory,
    StatusChangeFactory,
)
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def _numbers(response: Any) -> list[str]:
    body = table_body(response)
    return re.findall(r'<a href="/dashboard/orders/\d+/">#([^<]+)</a>', body)


@pytest.fixture
def orders(store: Store) -> dict[str, Order]:
    ann = CustomerFactory(store=store, email="ann@example.com")
    bob = CustomerFactory(store=store, email="bob@example.com")
    return {
        "a": OrderFactory(
            store=store, customer=ann, number="1001", status="completed", date_created=T0
        ),
        "b": OrderFactory(
            store=store,
            customer=bob,
            number="1002",
            status="processing",
            date_created=T0 + timedelta(days=2),
        ),
        "c": OrderFactory(
            store=store,
            customer=ann,
            number="1003",
            status="cancelled",
            date_created=T0 + timedelta(days=5),
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["1003", "1002", "1001"]),  # newest first
        ({"q": "1002"}, ["1002"]),
        ({"q": "#1002"}, ["1002"]),
        ({"q": "ann@example.com"}, ["1003", "1001"]),
        ({"q": "ANN@"}, ["1003", "1001"]),
        ({"status": "processing"}, ["1002"]),
        ({"from": "2026-03-04"}, ["1003"]),
        ({"to": "2026-03-02"}, ["1001"]),
        ({"from": "2026-03-02", "to": "2026-03-05"}, ["1002"]),
    ],
)
def test_search_and_filters(
    owner: Client, orders: dict[str, Order], params: dict[str, str], expected: list[str]
) -> None:
    response = owner.get("/dashboard/orders/", params)
    assert response.status_code == 200
    assert _numbers(response) == expected


def test_filter_by_customer_links_from_the_360(owner: Client, orders: dict[str, Order]) -> None:
    ann = orders["a"].customer
    assert ann is not None
    assert _numbers(owner.get("/dashboard/orders/", {"customer": ann.pk})) == ["1003", "1001"]
    html = owner.get(f"/dashboard/customers/{ann.pk}/").content.decode()
    assert f"/dashboard/orders/?customer={ann.pk}" in html


def test_pages_and_constant_queries(
    owner: Client, store: Store, django_assert_max_num_queries: Any
) -> None:
    customer = CustomerFactory(store=store)
    for n in range(5):
        OrderFactory(store=store, customer=customer, date_created=T0 + timedelta(minutes=n))
    owner.get("/dashboard/orders/")
    with django_assert_max_num_queries(10) as few:
        owner.get("/dashboard/orders/")
    for n in range(5, 60):
        OrderFactory(
            store=store,
            customer=CustomerFactory(store=store),
            date_created=T0 + timedelta(minutes=n),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = owner.get("/dashboard/orders/")
    second = owner.get("/dashboard/orders/", {"page": "2"})
    assert len(_numbers(first)) == 50 and len(_numbers(second)) == 10
    assert "60 orders" in first.content.decode()
    assert 'rel="next"' in first.content.decode() and 'rel="next"' not in second.content.decode()
    # The shared pager (dashboard/partials/pager.html): links keep the filters, swap in place.
    filtered = owner.get(
        "/dashboard/orders/", {"page": "2", "status": "processing"}
    ).content.decode()
    assert 'rel="prev" href="?status=processing&amp;page=1"' in filtered
    assert 'hx-get="?status=processing&amp;page=1" hx-target="#results"' in filtered


def test_the_list_never_shows_another_stores_orders(
    owner: Client, store: Store, other_store: Store
) -> None:
    OrderFactory(store=other_store, number="9999")
    OrderFactory(store=store, number="1")
    assert _numbers(owner.get("/dashboard/orders/")) == ["1"]
    assert _numbers(owner.get("/dashboard/orders/", {"q": "9999"})) == []


def test_another_stores_order_is_404(owner: Client, other_store: Store) -> None:
    theirs = OrderFactory(store=other_store)
    assert owner.get(f"/dashboard/orders/{theirs.pk}/").status_code == 404


@pytest.fixture
def full_order(store: Store) -> Order:
    customer = CustomerFactory(store=store, email="jane@example.com", first_name="Jane")
    order = OrderFactory(
        store=store,
        customer=customer,
        external_id=14,
        number="14",
        status="completed",
        total=Decimal("99.90"),
        refunded_total=Decimal("10.00"),
        coupon_codes=["SPRING10"],
        billing_country="DE",
        billing_postcode="10115",
        customer_note=XSS,
        meta={"gift_message": XSS},
        payment_method="stripe",
    )
    line = LineItemFactory(order=order, name="Linen Shirt", sku="LS-1", external_id=501)
    refund = Refund.objects.create(
        order=order,
        external_id=77,
        amount=Decimal("10.00"),
        reason="Damaged in transit",
        created_at=T0,
    )
    RefundLine.objects.create(
        refund=refund, line_external_id=line.external_id, quantity=1, amount=Decimal("10.00")
    )
    StatusChangeFactory(order=order, to_status="pending")
    StatusChangeFactory(
        order=order,
        from_status="pending",
        to_status="processing",
        inferred=True,
        changed_at=T0 + timedelta(minutes=1),
    )
    StatusChangeFactory(
        order=order,
        from_status="processing",
        to_status="completed",
        changed_at=T0 + timedelta(minutes=2),
    )
    body = copy.deepcopy(woo_json("order.json"))
    body["id"] = 14
    body["customer_note"] = XSS
    DeliveryFactory(
        store=store, topic="order.created", resource_id=14, body=json.dumps(body), received_at=T0
    )
    DeliveryFactory(
        store=store,
        topic="order.updated",
        resource_id=14,
        body='{"id": 14, "status": "completed"}',
        received_at=T0 + timedelta(days=1),
        status="ignored",
        outcome="stale: older than the stored order",
    )
    DeliveryFactory(store=store, topic="product.updated", resource_id=14, body='{"sku": "P"}')
    return order


def test_the_order_page(owner: Client, full_order: Order) -> None:
    html = owner.get(f"/dashboard/orders/{full_order.pk}/").content.decode()
    for fact in (
        "Order #14",
        "Completed",
        "$99.90",
        "SPRING10",
        "DE",
        "10115",
        "Linen Shirt",
        "LS-1",
        "Damaged in transit",
        "Qty returned",
        "inferred",
        "stripe",
        "jane@example.com",
        "gift_message",
        "stale: older than the stored order",
    ):
        assert fact in html, fact
    # Deliveries: newest first, order topics only, each collapsible, signature never shown.
    assert html.count("<details") == 2
    assert html.index("order.updated") < html.index("order.created")
    assert "product.updated" not in html
    assert "[redacted]" in html and "c2VjcmV0LXNpZ25hdHVyZQ==" not in html
    assert "&quot;line_items&quot;" in html  # the pretty-printed real payload


def test_order_text_and_payloads_are_escaped(owner: Client, full_order: Order) -> None:
    html = owner.get(f"/dashboard/orders/{full_order.pk}/").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # note, meta
    assert "\\u003cscript" not in html or "&lt;script" in html


def test_order_sidebar_panels_and_customer_link(owner: Client, full_order: Order) -> None:
    customer = full_order.customer
    assert isinstance(customer, Customer)
    html = owner.get(f"/dashboard/orders/{full_order.pk}/").content.decode()
    assert f'href="/dashboard/customers/{customer.pk}/"' in html


def test_agents_without_revenue_see_no_order_money(store: Store, full_order: Order) -> None:
    store.agents_see_revenue = False
    store.save()
    agent = Client()
    agent.force_login(MembershipFactory(store=store, role="agent").user)
    for url in ("/dashboard/orders/", f"/dashboard/orders/{full_order.pk}/"):
        response = agent.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "$" not in html and "99.90" not in html, url
    page = agent.get(f"/dashboard/orders/{full_order.pk}/").content.decode()
    assert "Linen Shirt" in page and "Damaged in transit" in page  # the rest is there
    # Raw payloads are full of amounts: they are for staff who may see revenue.
    assert "<details" not in page and "contain amounts" in page
