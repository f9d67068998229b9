"""Order tracking: the order behind the token, and nothing else."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from aftercare.core import signed_links
from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.portal.factories import (
    PLACED,
    CustomerFactory,
    LineItemFactory,
    OrderFactory,
    StatusChangeFactory,
)
from tests.portal.links import order_path, path_of

pytestmark = pytest.mark.django_db


def page(path: str) -> str:
    response = Client().get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_shows_number_items_totals_and_progress(order: Order) -> None:
    StatusChangeFactory(order=order, from_status="pending", to_status="processing")
    body = page(order_path(order))
    assert "Order #1042" in body
    assert "Trail Runner Shoe" in body
    assert "TRS-42" in body
    assert "$1,234.50" in body  # total, per locale with the order's currency
    assert "$25.00" in body  # shipping
    assert "Being prepared" in body
    assert 'class="step done"' in body
    assert 'class="step current" aria-current="step"' in body  # completed is next
    assert body.count('class="step done"') == 3  # placed, paid, processing


def test_shows_only_this_order(customer: Customer, order: Order) -> None:
    other = OrderFactory(customer=customer, number="2077")
    LineItemFactory(order=other, name="Secret Gift Box")
    OrderFactory(customer=CustomerFactory(store=customer.store), number="3099")
    body = page(order_path(order))
    assert "Secret Gift Box" not in body
    assert "2077" not in body
    assert "3099" not in body


def test_token_binds_the_customer_to_the_order(customer: Customer, order: Order) -> None:
    """A token naming someone else's order with my customer id (or mine with theirs) is void."""
    someone = CustomerFactory(store=customer.store)
    theirs = OrderFactory(customer=someone, number="3099")
    for subject, customer_id in ((theirs.pk, customer.pk), (order.pk, someone.pk)):
        url = signed_links.make_link(
            purpose="order", store_id=customer.store_id, subject_id=subject, customer_id=customer_id
        )
        response = Client().get(path_of(url))
        assert response.status_code == 404
        assert "3099" not in response.content.decode()


def test_token_binds_the_store(order: Order, other_store: Store) -> None:
    url = signed_links.make_link(
        purpose="order",
        store_id=other_store.pk,
        subject_id=order.pk,
        customer_id=order.customer_id or 0,
    )
    assert Client().get(path_of(url)).status_code == 404


def test_a_preferences_token_does_not_open_the_order_page(customer: Customer, order: Order) -> None:
    token = signed_links.make_token(
        purpose="preferences",
        store_id=customer.store_id,
        subject_id=order.pk,
        customer_id=customer.pk,
    )
    assert Client().get(f"/c/{token}/order/").status_code == 404


def test_trashed_order_is_not_reachable(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(deleted_at=PLACED)
    assert Client().get(order_path(order)).status_code == 404


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("cancelled", "This order was cancelled"),
        ("refunded", "This order was refunded in full"),
        ("failed", "did not go through"),
        ("on-hold", "on hold until the store confirms the payment"),
        ("pending", "has not received the payment"),
        ("ready-to-ship", "Ready to ship"),  # a plugin's status, by its name
    ],
)
def test_statuses_off_the_happy_path_are_shown_honestly(
    order: Order, status: str, words: str
) -> None:
    paid = status not in {"failed", "pending", "on-hold"}
    Order.objects.filter(pk=order.pk).update(status=status, date_paid=PLACED if paid else None)
    body = page(order_path(order))
    assert words in body
    if status in {"cancelled", "refunded", "failed"}:
        assert 'class="step current"' not in body  # the journey ended; no step "in progress"


def test_completed_and_partly_refunded(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(
        status="completed",
        date_completed=PLACED + timedelta(days=3),
        refunded_total=Decimal("100.00"),
    )
    StatusChangeFactory(
        order=order,
        from_status="processing",
        to_status="completed",
        changed_at=PLACED + timedelta(days=3),
    )
    body = page(order_path(order))
    assert body.count('class="step done"') == 4
    assert "\N{MINUS SIGN}$100.00" in body
    assert body.index("Completed") < body.index("Order placed")  # history, newest first


def test_money_and_dates_in_the_customers_language(store: Store) -> None:
    store.languages = ["en", "ko", "ja"]
    store.save()
    customer = CustomerFactory(store=store, locale="ko_KR", time_zone="Asia/Seoul")
    order = OrderFactory(
        customer=customer,
        currency="KRW",
        total=Decimal("45000"),
        subtotal=Decimal("45000"),
        shipping_total=0,
        total_tax=0,
    )
    body = page(order_path(order))
    assert '<html lang="ko">' in body
    assert "₩45,000" in body
    assert "2026년 3월 2일" in body  # 09:30 UTC is 18:30 in Seoul, still 2 March
