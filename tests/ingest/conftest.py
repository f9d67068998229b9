from __future__ import annotations

import pytest
from django.test import Client

from aftercare.ingest.webhooks.receiver import forget_cached_stores
from aftercare.stores.models import Store, WooWebhook
from tests.shared_data import captured_webhook_secrets


@pytest.fixture(autouse=True)
def _fresh_store_cache() -> None:
    forget_cached_stores()


@pytest.fixture
def woo_store(store: Store) -> Store:
    """`store` with the 16 webhooks of the real capture registered, each with its own secret."""
    for woo_id, secret in captured_webhook_secrets().items():
        WooWebhook.objects.create(
            store=store, woo_id=woo_id, topic="", delivery_url="http://x/", secret=secret
        )
    return store


def post_capture(client: Client, *, store: Store, capture: dict) -> object:
    """Send a captured WooCommerce request to our receiver exactly as WooCommerce sent it."""
    skip = {"host", "content-length", "connection", "accept-encoding"}
    headers = {k: v for k, v in capture["headers"].items() if k.lower() not in skip}
    content_type = headers.pop("Content-Type", "application/json")
    return client.post(
        f"/webhooks/woocommerce/{store.slug}/",
        data=capture["body_raw"].encode(),
        content_type=content_type,
        headers=headers,
    )
