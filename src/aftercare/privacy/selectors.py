"""Reads for GDPR requests: what we hold about an email (counts per part) and past erasures."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from aftercare.core import privacy_registry
from aftercare.privacy import person
from aftercare.privacy.models import ErasureRecord
from aftercare.stores.models import Store


def holdings(*, store: Store, email: str) -> dict[str, int]:
    """{part: how many items the export would contain}, in the registry's order."""
    email = person.normalise(email)
    ids = person.customer_ids(store=store, email=email)
    counts: dict[str, int] = {}
    for part in privacy_registry.exporters():
        data: Any = part.func(store=store, customer_ids=ids, email=email)
        counts[part.name] = len(data) if isinstance(data, list | dict) else int(bool(data))
    return counts


def erasures_of(*, store: Store, email: str) -> QuerySet[ErasureRecord]:
    return ErasureRecord.objects.filter(
        store=store, email_sha256=person.email_sha256(email)
    ).order_by("-erased_at", "-pk")


def recent_erasures(*, store: Store, limit: int = 20) -> list[ErasureRecord]:
    return list(
        ErasureRecord.objects.filter(store=store)
        .select_related("requested_by")
        .order_by("-erased_at", "-pk")[:limit]
    )
