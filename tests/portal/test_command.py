"""`aftercare portal link`: a working link for staff (and scripts)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.portal.links import path_of

pytestmark = pytest.mark.django_db


def link(*args: str) -> str:
    out = StringIO()
    call_command("portal", "link", *args, stdout=out)
    return out.getvalue().strip()


def test_preferences_link(customer: Customer) -> None:
    url = link("--store", "acme", "--email", "Jane.Doe@Example.com", "--purpose", "preferences")
    response = Client().get(path_of(url))
    assert response.status_code == 200
    assert "Your preferences" in response.content.decode()


def test_order_link(order: Order) -> None:
    url = link(
        "--store",
        "acme",
        "--email",
        "jane.doe@example.com",
        "--purpose",
        "order",
        "--order",
        "1042",
        "--ttl-days",
        "3",
    )
    response = Client().get(path_of(url))
    assert response.status_code == 200
    assert "Order #1042" in response.content.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--store", "nope", "--email", "jane.doe@example.com", "--purpose", "preferences"),
            "no store",
        ),
        (
            ("--store", "acme", "--email", "who@example.com", "--purpose", "preferences"),
            "no customer",
        ),
        (
            ("--store", "acme", "--email", "jane.doe@example.com", "--purpose", "order"),
            "order number",
        ),
        (
            (
                "--store",
                "acme",
                "--email",
                "jane.doe@example.com",
                "--purpose",
                "order",
                "--order",
                "9999",
            ),
            "no order #9999",
        ),
        (
            ("--store", "globex", "--email", "jane.doe@example.com", "--purpose", "preferences"),
            "no customer",
        ),
    ],
)
def test_refusals(order: Order, other_store: Store, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        link(*args)
