"""People erased under the GDPR stay erased when the shop sends them again.

    suppression.suppress(store=s, email="a@b.c", customer_id=anonymised.pk)   # privacy calls it
    hidden = suppression.lookup(store=s, emails={"a@b.c", "x@y.z"})            # {"a@b.c": 42}

The mirror asks `lookup` once per batch (one indexed query; nothing is found almost always).
What the person did *before* the erasure (orders and an account created then) is mirrored
without them: orders linked to their anonymised customer row, without email, note, postcodes,
meta or refund reasons (`scrub_order`), and the account not at all. What they do *after* it (a
new order) is a new relationship with the store — a new legal basis for their data, and a
customer who expects their order updates — so it is mirrored as usual. Only a SHA-256 of the
normalised email is stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from aftercare.core import clock
from aftercare.ingest.models import SuppressedIdentity
from aftercare.ingest.woo_mapping import normalise_email
from aftercare.ingest.woo_records import OrderRecord
from aftercare.stores.models import Store

_CHUNK = 500  # stays under SQLite's bound-parameter limit
# What a raw webhook body about an erased person becomes (privacy's erasure writes it too).
ERASED_BODY = '{"aftercare_erased": true}'


def email_hash(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def suppress(*, store: Store, email: str, customer_id: int | None) -> None:
    """Record (or move forward, on a second erasure) the suppression of `email`."""
    normalised = normalise_email(email) or email.strip().lower()
    SuppressedIdentity.objects.update_or_create(
        store=store,
        email_hash=email_hash(normalised),
        defaults={"customer_id": customer_id, "created_at": clock.now()},
    )


@dataclass(frozen=True, slots=True)
class Suppression:
    customer_id: int | None  # the anonymised row their old orders stay linked to
    since: datetime  # when they were erased

    def hides(self, created: datetime | None) -> bool:
        """Whether something created at `created` predates the erasure (unknown: it does)."""
        return created is None or created <= self.since


def lookup(*, store: Store, emails: Iterable[str]) -> dict[str, Suppression]:
    """The suppressed ones among `emails` (normalised)."""
    by_hash = {email_hash(e): e for e in emails if e}
    found: dict[str, Suppression] = {}
    hashes = list(by_hash)
    for start in range(0, len(hashes), _CHUNK):
        rows = SuppressedIdentity.objects.filter(
            store=store, email_hash__in=hashes[start : start + _CHUNK]
        ).values_list("email_hash", "customer_id", "created_at")
        for digest, customer_id, since in rows:
            found[by_hash[digest]] = Suppression(customer_id=customer_id, since=since)
    return found


def scrub_order(record: OrderRecord) -> OrderRecord:
    """The order without the person: what `privacy` erases from stored orders."""
    return dataclasses.replace(
        record,
        customer=dataclasses.replace(
            record.customer,
            email="",
            external_id=None,  # the account is linked through the suppression row instead
            first_name="",
            last_name="",
            phone="",
            birthday=None,
            consent=None,
        ),
        billing_postcode="",
        shipping_postcode="",
        customer_note="",
        meta={},
        refunds=[dataclasses.replace(r, reason="") for r in record.refunds],
    )
