"""Signed paths to a customer's pages, as the test client requests them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from aftercare.core import signed_links
from aftercare.customers.models import Customer
from aftercare.orders.models import Order


def path_of(url: str) -> str:
    """The path of an absolute link (the test client speaks paths)."""
    assert url.startswith(settings.PUBLIC_URL + "/c/")
    return url.removeprefix(settings.PUBLIC_URL)


def preferences_path(customer: Customer, *, ttl: timedelta | None = None, page: str = "") -> str:
    url = signed_links.make_link(
        purpose="preferences",
        store_id=customer.store_id,
        subject_id=customer.pk,
        customer_id=customer.pk,
        ttl=ttl,
    )
    path = path_of(url)
    return path.replace("/preferences/", f"/{page}/") if page else path


def order_path(order: Order, *, ttl: timedelta | None = None) -> str:
    assert order.customer_id is not None
    return path_of(
        signed_links.make_link(
            purpose="order",
            store_id=order.store_id,
            subject_id=order.pk,
            customer_id=order.customer_id,
            ttl=ttl,
        )
    )
