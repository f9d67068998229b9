"""Reads of the event log, always scoped to one store."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from aftercare.events.models import Event
from aftercare.stores.models import Store


def events_for_store(
    *,
    store: Store,
    type: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    customer_id: int | None = None,
    since: datetime | None = None,
) -> QuerySet[Event]:
    events = Event.objects.filter(store=store)
    if type:
        events = (
            events.filter(type__startswith=type[:-1])
            if type.endswith("*")
            else events.filter(type=type)
        )
    if subject_type:
        events = events.filter(subject_type=subject_type)
    if subject_id is not None:
        events = events.filter(subject_id=subject_id)
    if customer_id is not None:
        events = events.filter(customer_id=customer_id)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    return events.order_by("-occurred_at", "-id")
