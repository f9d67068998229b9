"""Tenant isolation: for every API endpoint and dashboard page, store B's token or staff gets
404 for store A's objects, and lists never show them."""

from __future__ import annotations

import re

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


def _dashboard_objects(store: Store) -> dict[str, int]:
    """The API's objects plus those only the dashboard names in URLs (flows, queue, outbox)."""
    from tests.dashboard.test_flows_pages import make_message, make_step

    step = make_step(store)
    return {
        **_objects(store),
        "flow_id": step.flow_id,
        "step_id": step.pk,
        "message_id": make_message(store).pk,
    }


# Path parameters that are not a store's object: the one-click token names its own store and
# customer (forged ones are tested in test_messaging_api.py); a preset name is global.
NOT_OBJECTS = {"token", "name"}


def test_every_api_detail_route_is_404_for_another_stores_token(
    client: Client, store: Store, token: str, other_token: str
) -> None:
    """Every route with an object id, every method: store B's token finds nothing (404); GETs
    with store A's own token work (200)."""
    from aftercare.api.v1 import api

    ids = _dashboard_objects(store)
    checked = 0
    for path, operations in api.get_openapi_schema()["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        assert params <= set(ids) | NOT_OBJECTS, f"add {params - set(ids)} to _objects()"
        if not params or params & NOT_OBJECTS:
            continue
        url = re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
        for method in operations:
            body = {"data": {}, "content_type": "application/json"} if method != "get" else {}
            theirs = getattr(client, method)(
                url, headers={"Authorization": f"Bearer {other_token}"}, **body
            )
            assert theirs.status_code == 404, (method, url)
            assert theirs.json()["error"]["code"] == "not_found", (method, url)
            if method == "get":
                mine = client.get(url, headers={"Authorization": f"Bearer {token}"})
                assert mine.status_code == 200, url
            checked += 1
    assert checked >= 12


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


def _dashboard_routes() -> list[tuple[str, list[str]]]:
    """Every dashboard route (without the /dashboard/ prefix) and its path parameters."""
    routes = []
    for pattern in get_resolver("aftercare.dashboard.urls").url_patterns:
        assert isinstance(pattern, URLPattern | URLResolver)
        route = str(pattern.pattern)
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        routes.append((route, params))
    return routes


def _fill(route: str, ids: dict[str, int]) -> str:
    return "/dashboard/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), route)


# A template's key, language and channel name the shipped catalogue, not a store's object: each
# store edits its own version (isolation of template rows: tests/dashboard/test_templates_pages).
TEMPLATE_PARAMS = {"key", "locale", "channel"}


def test_every_dashboard_object_page_is_404_for_another_stores_manager(
    client: Client, store: Store, other_store: Store, token: str
) -> None:
    """A manager of store B opening store A's objects by URL finds nothing (404, not 403);
    a POST-only action on one (GET answers 405) is a 404 for them too."""
    ids = _dashboard_objects(store)
    object_routes = [
        route for route, params in _dashboard_routes() if params and all(p in ids for p in params)
    ]
    # POST-only owner actions on staff rows and tokens: their 404 for another store is tested
    # in tests/dashboard/test_settings_staff.py and test_settings_tokens.py.
    post_only = {"membership_id", "token_id"}
    not_objects = {"uidb64", "token", "job_id", *post_only, *TEMPLATE_PARAMS}
    unknown = [
        route
        for route, params in _dashboard_routes()
        if set(params) - set(ids) and not set(params) <= not_objects
    ]
    assert not unknown, f"add these parameters to _objects(): {unknown}"
    assert len(object_routes) >= 2  # customer 360, order page
    manager_a = MembershipFactory(store=store, role="manager").user
    manager_b = MembershipFactory(store=other_store, role="manager").user
    for route in object_routes:
        url = _fill(route, ids)
        client.force_login(manager_a)
        status = client.get(url).status_code
        client.force_login(manager_b)
        if status == 405:  # POST only: store B's manager must not reach store A's object
            assert client.post(url).status_code == 404, url
            continue
        assert status == 200, url
        assert client.get(url).status_code == 404, url


def test_every_dashboard_page_requires_login(client: Client, store: Store, token: str) -> None:
    ids = {
        **_objects(store), "job_id": 1, "membership_id": 1, "token_id": 1, "export_id": 1,
        "flow_id": 1, "step_id": 1, "message_id": 1,
        "key": "thank-you", "locale": "en", "channel": "email",
    }  # fmt: skip
    public = {"login/", "password-reset/", "password-reset/sent/", "password-reset/complete/"}
    checked = 0
    for route, params in _dashboard_routes():
        if route in public or "uidb64" in params:
            continue
        response = client.get(_fill(route, ids))
        assert response.status_code in {302, 405}, route
        if response.status_code == 302:
            assert "/dashboard/login/" in response["Location"], route
            checked += 1
    assert checked >= 3
