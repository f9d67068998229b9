"""Reads about ingestion state for one store (dashboard and API)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from aftercare.catalog.models import Product
from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.ingest.models import DeliveryStatus, SyncRun, WebhookDelivery
from aftercare.orders.models import Order
from aftercare.stores.models import Store


def mirror_counts(*, store: Store) -> dict[str, int]:
    return {
        "orders": Order.objects.filter(store=store, deleted_at__isnull=True).count(),
        "customers": Customer.objects.filter(store=store, deleted_at__isnull=True).count(),
        "products": Product.objects.filter(store=store, deleted_at__isnull=True).count(),
        "events": Event.objects.filter(store=store).count(),
    }


def inbox_counts(*, store: Store) -> dict[str, int]:
    waiting = [DeliveryStatus.RECEIVED, DeliveryStatus.FAILED]
    return WebhookDelivery.objects.filter(store=store).aggregate(
        waiting=Count("id", filter=Q(status__in=waiting)),
        dead=Count("id", filter=Q(status=DeliveryStatus.DEAD)),
    )


def recent_events(*, store: Store, limit: int) -> list[Event]:
    return list(Event.objects.filter(store=store).order_by("-occurred_at", "-id")[:limit])


def last_sync(*, store: Store) -> SyncRun | None:
    return SyncRun.objects.filter(store=store).order_by("-started_at").first()


ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
# Headers that prove or grant something: never shown, even to staff.
_SECRET_HEADERS = frozenset({"x-wc-webhook-signature", "authorization", "cookie"})
REDACTED = "[redacted]"


@dataclass(frozen=True)
class DeliveryRecord:
    """One stored delivery as the order page shows it."""

    delivery: WebhookDelivery
    headers: dict[str, str]  # secrets redacted
    body: str  # pretty-printed JSON, or the raw text if it is not JSON


def deliveries_for_order(*, store: Store, order: Order, limit: int = 50) -> list[DeliveryRecord]:
    """The raw WooCommerce deliveries about `order`, newest first (one index probe per topic on
    (store, topic, resource_id))."""
    deliveries = WebhookDelivery.objects.filter(
        store=store, topic__in=ORDER_TOPICS, resource_id=order.external_id
    ).order_by("-received_at", "-id")[:limit]
    return [
        DeliveryRecord(delivery=d, headers=redacted_headers(d.headers), body=_pretty(d.body))
        for d in deliveries
    ]


def redacted_headers(headers: Any) -> dict[str, str]:
    if not isinstance(headers, dict):
        return {}
    return {
        str(name): REDACTED if str(name).lower() in _SECRET_HEADERS else str(value)
        for name, value in sorted(headers.items(), key=lambda item: str(item[0]).lower())
    }


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body
