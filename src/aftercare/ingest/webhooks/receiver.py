"""Accepting a WooCommerce webhook delivery: verify, store, acknowledge — nothing else on the
request path. Applying it to the mirror happens later in the worker (`processing.py`), so
WooCommerce gets its answer in milliseconds and never disables the webhook for slowness.

    receipt = accept_delivery(store_slug="acme", body=request.body, headers=request.headers)
    receipt.status, receipt.message

Outcomes (and HTTP status): ping → 200; bad or missing signature → 401, nothing stored;
oversized → 413; malformed JSON → 400; unknown topic → 202, stored as ignored; otherwise 200
and a `WebhookDelivery` row in status `received`."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from aftercare.core import clock
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.ingest.webhooks import signatures, topics
from aftercare.stores import selectors as store_selectors
from aftercare.stores.models import Store

logger = logging.getLogger(__name__)

_PING_RE = re.compile(rb"^webhook_id=\d+$")
_KEPT_HEADERS = (
    "X-WC-Webhook-Source", "X-WC-Webhook-Topic", "X-WC-Webhook-Resource", "X-WC-Webhook-Event",
    "X-WC-Webhook-Signature", "X-WC-Webhook-ID", "X-WC-Webhook-Delivery-ID", "User-Agent",
    "Content-Type",
)  # fmt: skip
_STORE_CACHE_SECONDS = 10.0
_store_cache: dict[str, tuple[float, Store | None]] = {}
_SECRETS_CACHE_MAX = 1000
_secrets_cache: dict[tuple[int, int | None], tuple[float, list[str]]] = {}


@dataclass(frozen=True, slots=True)
class Receipt:
    status: int
    message: str
    delivery_id: int | None = None


def _store(slug: str) -> Store | None:
    """Stores change rarely and every delivery needs one: keep them for a few seconds."""
    now = time.monotonic()
    cached = _store_cache.get(slug)
    if cached is not None and now - cached[0] < _STORE_CACHE_SECONDS:
        return cached[1]
    store = Store.objects.filter(slug=slug).first()
    _store_cache[slug] = (now, store)
    return store


def _secrets(store: Store, webhook_id: int | None, *, fresh: bool = False) -> list[str]:
    """The secrets a delivery may be signed with, kept like stores: reading them is a query
    per delivery (about a third of the receiver's time). `fresh=True` reads them again (after a
    mismatch, so a re-registered webhook's new secret applies at once). Bounded: the webhook id
    comes from an unauthenticated header."""
    now = time.monotonic()
    key = (store.pk, webhook_id)
    cached = _secrets_cache.get(key)
    if not fresh and cached is not None and now - cached[0] < _STORE_CACHE_SECONDS:
        return cached[1]
    secrets = store_selectors.webhook_secrets(store=store, woo_webhook_id=webhook_id)
    if len(_secrets_cache) >= _SECRETS_CACHE_MAX:
        _secrets_cache.clear()
    _secrets_cache[key] = (now, secrets)
    return secrets


def forget_cached_stores() -> None:
    _store_cache.clear()
    _secrets_cache.clear()


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def accept_delivery(  # noqa: PLR0911 - one early answer per kind of bad delivery
    *, store_slug: str, body: bytes, headers: Mapping[str, str]
) -> Receipt:
    store = _store(store_slug)
    if store is None:
        return Receipt(404, f"no store {store_slug!r} here: check the delivery URL")
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        return Receipt(413, f"body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes")
    topic = headers.get("X-WC-Webhook-Topic", "")
    if not topic and _PING_RE.match(body.strip()):
        # WooCommerce's creation ping: unsigned, form-encoded, must get exactly 200.
        logger.info("webhook ping for store %s: %s", store.slug, body[:40].decode(errors="replace"))
        return Receipt(200, "pong")
    webhook_id = _int_or_none(headers.get("X-WC-Webhook-ID"))
    signature = headers.get("X-WC-Webhook-Signature", "")
    if not signature:
        return Receipt(401, "missing X-WC-Webhook-Signature")
    valid = signatures.is_valid_signature(
        body=body, signature=signature, secrets=_secrets(store, webhook_id)
    ) or signatures.is_valid_signature(
        body=body, signature=signature, secrets=_secrets(store, webhook_id, fresh=True)
    )
    if not valid:
        logger.warning(
            "webhook signature mismatch for store %s (webhook %s)", store.slug, webhook_id
        )
        return Receipt(401, "signature does not match: check the webhook secret")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Receipt(400, f"body is not valid JSON: {exc}")
    if not isinstance(payload, dict):
        return Receipt(400, "body must be a JSON object")
    known = topics.is_known(topic)
    resource_key = "arg" if topic.startswith(topics.ORDER_ACTION_PREFIX) else "id"
    now = clock.now()
    delivery = WebhookDelivery.objects.create(
        store=store,
        received_at=now,
        topic=topic[:100],
        woo_webhook_id=webhook_id,
        delivery_id=headers.get("X-WC-Webhook-Delivery-ID", "")[:64],
        resource_id=_int_or_none(str(payload.get(resource_key, "")) or None),
        headers={k: headers[k] for k in _KEPT_HEADERS if k in headers},
        body=body.decode(),
        status=DeliveryStatus.RECEIVED if known else DeliveryStatus.IGNORED,
        next_attempt_at=now,
        outcome="" if known else f"unknown topic {topic!r}",
    )
    if not known:
        logger.info("webhook with unknown topic %r stored as ignored (store %s)", topic, store.slug)
        return Receipt(202, f"topic {topic!r} is not one we apply; stored", delivery.pk)
    return Receipt(200, "accepted", delivery.pk)
