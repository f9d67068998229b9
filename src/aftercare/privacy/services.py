"""GDPR requests for one person of one store, by email: export everything we hold, or erase
(anonymise) it while keeping the store's aggregates.

    data = privacy_services.export_customer_data(store=store, email="ann@example.com")
    result = privacy_services.erase_customer(store=store, email="ann@example.com",
                                             requested_by=request.user)

The parts come from `core.privacy_registry` (the built-in ones are registered by this app's
`ready()`; later modules add theirs). Nothing is sent to WooCommerce: the shop keeps its own
copy, which its owner erases there (WooCommerce → Tools → Erase personal data); until they do,
`ingest.suppression` keeps what the shop sends again about the person's past out of the mirror
(see docs/subsystems/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from aftercare.core import clock, privacy_registry
from aftercare.core.errors import InvalidInput
from aftercare.ingest import suppression as ingest_suppression
from aftercare.privacy import person
from aftercare.privacy.errors import PrivacyErrorCode
from aftercare.privacy.models import ErasureRecord
from aftercare.stores.models import Store

EXPORT_FORMAT = "aftercare.personal-data/1"


def _checked_email(email: str) -> str:
    normalised = person.normalise(email)
    try:
        validate_email(normalised)
    except ValidationError as exc:
        raise InvalidInput(
            f"{email!r} is not an email address", code=PrivacyErrorCode.INVALID_EMAIL
        ) from exc
    return normalised


def export_customer_data(*, store: Store, email: str) -> dict[str, Any]:
    """Everything the store's Aftercare holds about `email`, as one JSON-serialisable dict:
    `{"format", "store", "email", "exported_at", "data": {part: …}}`."""
    email = _checked_email(email)
    ids = person.customer_ids(store=store, email=email)
    data = {
        part.name: part.func(store=store, customer_ids=ids, email=email)
        for part in privacy_registry.exporters()
    }
    return {
        "format": EXPORT_FORMAT,
        "store": {"slug": store.slug, "name": store.name},
        "email": email,
        "exported_at": clock.now().isoformat(),
        "data": data,
    }


@dataclass(frozen=True)
class Erasure:
    record: ErasureRecord
    erased: bool  # False: nothing was found (already erased, or never known)

    @property
    def rows_changed(self) -> int:
        return sum(count for part in self.record.counts.values() for count in part.values())


def erase_customer(
    *,
    store: Store,
    email: str,
    requested_by: AbstractBaseUser | None = None,
    channel: str = "dashboard",
) -> Erasure:
    """Anonymise every trace of `email` in `store`, atomically, and record that it happened.

    Idempotent: when nothing is left to erase and the person was erased before, the earlier
    record is returned and nothing is written. The customer rows are locked (select_for_update)
    for the transaction so a concurrent ingest waits rather than re-linking half-erased data."""
    email = _checked_email(email)
    digest = person.email_sha256(email)
    with transaction.atomic():
        ids = person.customer_ids(store=store, email=email)
        counts: dict[str, dict[str, int]] = {}
        for part in privacy_registry.erasers():
            changed = dict(part.func(store=store, customer_ids=ids, email=email))
            if any(changed.values()):
                counts[part.name] = changed
        # What the shop sends about them later (a sync, a replay, before the owner erased them in
        # WooCommerce too) is mirrored without them, linked to the anonymised row.
        ingest_suppression.suppress(store=store, email=email, customer_id=min(ids, default=None))
        previous = (
            ErasureRecord.objects.filter(store=store, email_sha256=digest)
            .order_by("-erased_at", "-pk")
            .first()
        )
        if not counts and previous is not None:
            return Erasure(record=previous, erased=False)
        record = ErasureRecord.objects.create(
            store=store,
            email_sha256=digest,
            requested_by_id=requested_by.pk if requested_by is not None else None,
            channel=channel,
            erased_at=clock.now(),
            counts=counts,
        )
    return Erasure(record=record, erased=bool(counts))
