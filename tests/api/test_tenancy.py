"""Tenant isolation: for every API endpoint and dashboard page, store B's token or staff gets
404 for store A's objects, and lists never show them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from aftercare.catalog.models import Product
from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _objects(store: Store) -> dict[str, int]:
    return {
        "order_id": Order.objects.get(store=store, external_id=14).pk,
        "customer_id": Customer.objects.filter(store=store).first().pk,
        "product_id": Product.objects.filter(store=store).first().pk,
    }


def _api_detail_urls(ids: dict[str, int]) -> list[str]:
    """Every API route with a path parameter, filled with store A's ids."""
    from aftercare.api.v1 import api

    urls = []
    for path in api.get_openapi_schema()["paths"]:
        if "{" not in path:
            continue
        param = path[path.index("{") + 1 : path.index("}")]
        urls.append(path.replace("{" + param + "}", str(ids[param])))
    return urls


def test_every_api_detail_route_is_404_for_another_stores_token(
    client: Client, store: Store, token: str, other_token: str
) -> None:
    ids = _objects(store)
    urls = _api_detail_urls(ids)
    assert len(urls) >= 3  # orders, customers, products
    for url in urls:
        mine = client.get(url, headers={"Authorization": f"Bearer {token}"})
        theirs = client.get(url, headers={"Authorization": f"Bearer {other_token}"})
        assert mine.status_code == 200, url
        assert theirs.status_code == 404, url
        assert theirs.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orders",
        "/api/v1/customers",
        "/api/v1/products",
        "/api/v1/events",
        "/api/v1/orders?external_id=14",
        "/api/v1/customers?email=jane.buyer@example.com",
    ],
)
def test_lists_show_only_the_tokens_store(
    client: Client, store: Store, token: str, other_token: str, url: str
) -> None:
    theirs = client.get(url, headers={"Authorization": f"Bearer {other_token}"}).json()
    mine_ids = (
        set(Order.objects.filter(store=store).values_list("pk", flat=True))
        | set(Customer.objects.filter(store=store).values_list("pk", flat=True))
        | set(Event.objects.filter(store=store).values_list("pk", flat=True))
    )
    kind_ids = {item["id"] for item in theirs["items"]}
    if "orders" in url:
        assert not kind_ids & set(Order.objects.filter(store=store).values_list("pk", flat=True))
    elif "customers" in url:
        assert all(item["email"] != "jane.buyer@example.com" for item in theirs["items"])
    elif "events" in url:
        assert not kind_ids & set(Event.objects.filter(store=store).values_list("pk", flat=True))
    assert mine_ids  # store A has data, so the checks above are not vacuous


def _dashboard_store_urls() -> list[str]:
    """Every dashboard URL that takes a store slug."""
    urls = []
    for pattern in get_resolver("aftercare.dashboard.urls").url_patterns:
        assert isinstance(pattern, URLPattern | URLResolver)
        route = str(pattern.pattern)
        if "<slug:store_slug>" in route:
            urls.append("/" + route.replace("<slug:store_slug>", "{slug}"))
    return urls


def test_every_dashboard_store_page_is_404_for_another_stores_staff(
    client: Client, store: Store, other_store: Store, token: str
) -> None:
    urls = _dashboard_store_urls()
    assert urls
    owner_a = MembershipFactory(store=store).user
    owner_b = MembershipFactory(store=other_store).user
    for template in urls:
        url = template.format(slug=store.slug)
        client.force_login(owner_a)
        assert client.get(url).status_code == 200, url
        client.force_login(owner_b)
        assert client.get(url).status_code == 404, url


def test_dashboard_requires_login(client: Client, store: Store) -> None:
    response = client.get(f"/s/{store.slug}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
