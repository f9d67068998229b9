"""The receiver's answers to every kind of bad delivery — and that nothing is lost or stored
when it should not be."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.ingest.webhooks.signatures import sign
from aftercare.stores.models import Store
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db


def _post(
    client: Client,
    store: Store,
    body: bytes,
    *,
    topic: str = "order.updated",
    secret: str | None = None,
    signature: str | None = None,
    **extra: str,
):
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-ID": "99",
        "X-WC-Webhook-Delivery-ID": "abc",
        **extra,
    }
    if signature is None and secret is not None:
        signature = sign(body=body, secret=secret)
    if signature is not None:
        headers["X-WC-Webhook-Signature"] = signature
    return client.post(
        f"/webhooks/woocommerce/{store.slug}/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_valid_delivery_is_stored_raw_and_acknowledged(client: Client, store: Store) -> None:
    body = json.dumps(woo_json("order.json")).encode()
    response = _post(client, store, body, secret=store.webhook_secret)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.body.encode() == body and delivery.resource_id == 14
    assert delivery.status == DeliveryStatus.RECEIVED
    assert delivery.headers["X-WC-Webhook-Topic"] == "order.updated"


def test_forged_signature_is_refused_and_nothing_stored(client: Client, store: Store) -> None:
    body = json.dumps(woo_json("order.json")).encode()
    response = _post(client, store, body, secret="not-the-secret")
    assert response.status_code == 401
    assert "signature" in response.json()["message"]
    assert not WebhookDelivery.objects.exists()


def test_missing_signature_is_refused(client: Client, store: Store) -> None:
    response = _post(client, store, b'{"id": 1}')
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_signature_of_a_tampered_body_is_refused(client: Client, store: Store) -> None:
    body = json.dumps(woo_json("order.json")).encode()
    signature = sign(body=body, secret=store.webhook_secret)
    response = _post(client, store, body.replace(b"53.15", b"0.01"), signature=signature)
    assert response.status_code == 401


def test_malformed_json_gets_400_with_reason(client: Client, store: Store) -> None:
    body = b'{"id": 14, "status": '
    response = _post(client, store, body, secret=store.webhook_secret)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]
    assert not WebhookDelivery.objects.exists()


def test_json_that_is_not_an_object_gets_400(client: Client, store: Store) -> None:
    response = _post(client, store, b"[1,2]", secret=store.webhook_secret)
    assert response.status_code == 400


@override_settings(WEBHOOK_MAX_BODY_BYTES=1000)
def test_oversized_body_gets_413(client: Client, store: Store) -> None:
    body = json.dumps({"id": 1, "pad": "x" * 2000}).encode()
    response = _post(client, store, body, secret=store.webhook_secret)
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_unknown_topic_gets_202_and_is_kept_as_ignored(client: Client, store: Store) -> None:
    response = _post(
        client, store, b'{"id": 3}', topic="subscription.updated", secret=store.webhook_secret
    )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED and "unknown topic" in delivery.outcome


def test_ping_gets_exactly_200_without_signature(client: Client, store: Store) -> None:
    response = client.post(
        f"/webhooks/woocommerce/{store.slug}/",
        data=b"webhook_id=7",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not WebhookDelivery.objects.exists()


def test_unknown_store_gets_404(client: Client, store: Store) -> None:
    response = client.post(
        "/webhooks/woocommerce/nope/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404


def test_get_is_not_allowed(client: Client, store: Store) -> None:
    assert client.get(f"/webhooks/woocommerce/{store.slug}/").status_code == 405


def test_other_stores_secret_does_not_verify(
    client: Client, store: Store, other_store: Store
) -> None:
    body = json.dumps(woo_json("order.json")).encode()
    response = _post(client, store, body, secret=other_store.webhook_secret)
    assert response.status_code == 401


def test_duplicate_deliveries_with_one_delivery_id_are_all_stored(
    client: Client, store: Store
) -> None:
    """X-WC-Webhook-Delivery-ID is webhook id + current second: not unique (SPEC §2)."""
    for resource_id in (14, 15):
        payload = {**woo_json("order.json"), "id": resource_id}
        body = json.dumps(payload).encode()
        assert _post(client, store, body, secret=store.webhook_secret).status_code == 200
    assert WebhookDelivery.objects.count() == 2


def test_a_rotated_webhook_secret_applies_at_once(client: Client, store: Store) -> None:
    """Secrets are cached for speed; a signature that fails against the cache is checked
    against the database before it is refused."""
    from aftercare.stores.models import WooWebhook

    hook = WooWebhook.objects.create(
        store=store, woo_id=99, topic="order.updated", delivery_url="http://x/", secret="old"
    )
    body = json.dumps(woo_json("order.json")).encode()
    assert _post(client, store, body, secret="old").status_code == 200
    hook.secret = "new"
    hook.save()
    assert _post(client, store, body, secret="new").status_code == 200
