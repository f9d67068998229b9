"""Reads about ingestion state for one store (dashboard and API)."""

from __future__ import annotations

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
