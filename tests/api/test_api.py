"""The stable API v1 interfaces (issue: "Interfaces that other tools rely on")."""

from __future__ import annotations

import pytest
from django.test import Client

from aftercare.orders.models import Order
from aftercare.stores import services as store_services
from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers)


def test_orders_by_external_id(client: Client, token: str) -> None:
    body = _get(client, "/api/v1/orders?external_id=14", token).json()
    assert body["count"] == 1
    order = body["items"][0]
    assert order["external_id"] == 14 and order["total"] == "53.15"
    assert order["status"] == "completed" and order["coupon_codes"] == ["thankyou10"]


def test_order_detail_has_lines_refunds_and_history(
    client: Client, token: str, store: Store
) -> None:
    order = Order.objects.get(store=store, external_id=14)
    body = _get(client, f"/api/v1/orders/{order.pk}", token).json()
    assert [line["sku"] for line in body["lines"]] == [
        line.sku for line in order.lines.order_by("id")
    ]
    assert body["refunds"][0]["amount"] == "5.00"
    assert body["status_changes"][0]["to_status"] == "completed"


def test_customers_by_email_is_case_insensitive(client: Client, token: str) -> None:
    body = _get(client, "/api/v1/customers?email=Jane.Buyer@Example.com", token).json()
    assert body["count"] == 1
    assert body["items"][0]["external_id"] == 2


def test_events_by_type(client: Client, token: str) -> None:
    body = _get(client, "/api/v1/events?type=order.completed", token).json()
    assert body["count"] == 1 and body["items"][0]["type"] == "order.completed"
    body = _get(client, "/api/v1/events?type=order.*", token).json()
    assert {e["type"] for e in body["items"]} >= {"order.created", "order.paid", "order.refunded"}


def test_missing_or_bad_token_is_401_with_envelope(client: Client, token: str) -> None:
    for bad in (None, "ac_nope_nope", "Bearer"):
        response = _get(client, "/api/v1/orders", bad)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_revoked_token_is_refused(client: Client, store: Store) -> None:
    issued = store_services.create_api_token(store=store)
    store_services.revoke_api_token(token=issued.record)
    assert _get(client, "/api/v1/orders", issued.token).status_code == 401


def test_openapi_and_healthz_are_public(client: Client, db: None) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/orders" in spec["paths"] and "/api/v1/events" in spec["paths"]
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_list_pages_do_not_grow_queries_with_rows(
    client: Client, token: str, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(6):
        _get(client, "/api/v1/orders?limit=100", token)
