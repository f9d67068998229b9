"""Mirroring customers: registered accounts from `customer.*` resources, and the identity every
order carries (guests are linked by billing email).

Identity rule: a WooCommerce user id wins; otherwise the normalised email. A guest who later
registers keeps one row: the account's id is attached to the guest row with the same email.
The caller holds the transaction; on PostgreSQL the unique constraints (store, email) and
(store, external_id) turn a race between two workers into an IntegrityError that the caller's
retry resolves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from aftercare.core import clock
from aftercare.core.bulk_rows import insert_returning, select_in, update_rows
from aftercare.customers import merging
from aftercare.customers.models import ConsentChange, ConsentState, Customer
from aftercare.events.bus import EventDraft
from aftercare.ingest import suppression
from aftercare.ingest.mirror.result import Outcome
from aftercare.ingest.woo_records import CustomerIdentity, CustomerRecord
from aftercare.stores.models import Store

_FILLABLE = ("first_name", "last_name", "phone", "country", "locale", "time_zone", "birthday")
_CHUNK = 900


_KNOWN = (
    "id", "email", "external_id", "is_registered", *_FILLABLE, "first_seen_at",
    "marketing_consent", "consent_source", "consent_at",
)  # fmt: skip


@dataclass(slots=True)
class _Known:
    """A customer row as the order path needs it: plain attributes, no model instance (building
    `Customer` objects was ~15 µs per order of an import)."""

    email: str
    external_id: int | None
    first_seen_at: datetime | None
    is_registered: bool = False
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    country: str = ""
    locale: str = ""
    time_zone: str = ""
    birthday: date | None = None
    marketing_consent: str = ConsentState.UNKNOWN
    consent_source: str = ""
    consent_at: datetime | None = None
    pk: int | None = None


def _load(store: Store, *, emails: set[str], external_ids: set[int]) -> list[_Known]:
    found: dict[int, _Known] = {}
    for column, values in (("email", sorted(emails)), ("external_id", sorted(external_ids))):
        for row in select_in(
            model=Customer,
            columns=_KNOWN,
            where={"store_id": store.pk},
            column=column,
            values=values,
        ):
            found[row[0]] = _Known(**dict(zip(_KNOWN[1:], row[1:], strict=True)), pk=row[0])
    return list(found.values())


def _consent_changes(
    customer: Customer | _Known, identity: CustomerIdentity, at: datetime
) -> ConsentChange | None:
    """A checkout opt-in grants consent; an unticked box only records "no" when we knew nothing —
    it is not a withdrawal of consent given before. Only a checkout newer than the last recorded
    decision counts: a late, replayed or imported old order never re-subscribes someone who
    unsubscribed since (their "no" on the preferences page is newer than that old "yes")."""
    if identity.consent is None:
        return None
    if customer.consent_at is not None and at <= customer.consent_at:
        return None
    if identity.consent and customer.marketing_consent != ConsentState.GRANTED:
        state = ConsentState.GRANTED
    elif not identity.consent and customer.marketing_consent == ConsentState.UNKNOWN:
        state = ConsentState.DENIED
    else:
        return None
    customer.marketing_consent = state
    customer.consent_source = identity.consent_source[:100]
    customer.consent_at = at
    # The caller sets the customer (a new one has no id yet).
    return ConsentChange(state=state, source=identity.consent_source[:100], occurred_at=at)


def _fill_blanks(customer: _Known, identity: CustomerIdentity) -> bool:
    changed = False
    for name in _FILLABLE:
        value = getattr(identity, name)
        if value and not getattr(customer, name):
            setattr(customer, name, value)
            changed = True
    return changed


_UPDATED = (
    *_FILLABLE, "external_id", "is_registered", "first_seen_at", "marketing_consent",
    "consent_source", "consent_at", "updated_at",
)  # fmt: skip
_INSERTED = (
    "store_id", "email", "external_id", "is_registered", *_FILLABLE, "first_seen_at",
    "marketing_consent", "consent_source", "consent_at",
)  # fmt: skip


def _insert_new(store: Store, customers: list[_Known]) -> None:
    """Write new customers in one statement; their ids come back by email."""
    if not customers:
        return
    rows = [(store.pk, *(getattr(c, name) for name in _INSERTED[1:])) for c in customers]
    ids = insert_returning(model=Customer, columns=_INSERTED, rows=rows, key="email")
    for customer in customers:
        customer.pk = ids[customer.email]


def resolve_order_customers(
    *,
    store: Store,
    identities: Sequence[CustomerIdentity],
    seen_at: Sequence[datetime],
    backfill: bool,
) -> tuple[list[int | None], list[EventDraft]]:
    """The customer id for each order identity (None when the order has no usable email),
    creating guests and filling blanks on known customers. Returns the ids and the
    `customer.created` events to publish."""
    emails = {i.email for i in identities if i.email}
    external_ids = {i.external_id for i in identities if i.external_id}
    by_email: dict[str, _Known] = {}
    by_ext: dict[int, _Known] = {}
    for customer in _load(store, emails=emails, external_ids=external_ids):
        by_email[customer.email] = customer
        if customer.external_id:
            by_ext[customer.external_id] = customer

    new: list[_Known] = []
    changed: dict[int, _Known] = {}
    consent_rows: list[tuple[_Known, ConsentChange]] = []
    resolved: list[_Known | None] = []
    for identity, seen in zip(identities, seen_at, strict=True):
        found: _Known | None = (
            by_ext.get(identity.external_id) if identity.external_id else None
        ) or (by_email.get(identity.email) if identity.email else None)
        if found is None:
            if not identity.email:
                resolved.append(None)
                continue
            customer = _Known(
                email=identity.email,
                external_id=identity.external_id,
                is_registered=identity.external_id is not None,
                first_seen_at=seen,
                **{name: getattr(identity, name) for name in _FILLABLE},
            )
            new.append(customer)
            by_email[identity.email] = customer
            if identity.external_id:
                by_ext[identity.external_id] = customer
        else:
            customer = found
            dirty = _fill_blanks(customer, identity)
            if (
                identity.external_id
                and customer.external_id is None
                and identity.external_id not in by_ext
            ):
                customer.external_id = identity.external_id
                customer.is_registered = True
                by_ext[identity.external_id] = customer
                dirty = True
            if customer.first_seen_at is None or seen < customer.first_seen_at:
                customer.first_seen_at = seen
                dirty = True
            if dirty and customer.pk:
                changed[customer.pk] = customer
        consent = _consent_changes(customer, identity, seen)
        if consent is not None:
            consent_rows.append((customer, consent))
            if customer.pk:
                changed[customer.pk] = customer
        resolved.append(customer)

    _insert_new(store, new)
    if changed:
        now = clock.now()
        update_rows(
            model=Customer,
            fields=_UPDATED,
            rows=[
                {"id": c.pk, "updated_at": now, **{f: getattr(c, f) for f in _UPDATED[:-1]}}
                for c in changed.values()
            ],
        )
    for customer, row in consent_rows:
        assert customer.pk is not None  # known, or given by _insert_new
        row.customer_id = customer.pk
    ConsentChange.objects.bulk_create([row for _, row in consent_rows], batch_size=500)
    drafts = [
        EventDraft(
            store_id=store.pk,
            type="customer.created",
            subject_type="customer",
            subject_id=c.pk,  # type: ignore[arg-type]  # set by _insert_new
            customer_id=c.pk,
            occurred_at=c.first_seen_at or clock.now(),
            payload={"email": c.email, "registered": c.is_registered, "backfill": backfill},
            dedupe_key=f"customer.created:{c.pk}",
            subject_is_new=True,
        )
        for c in new
    ]
    return [c.pk if c is not None else None for c in resolved], drafts


def _merge_guest_into(*, guest: Customer, account: Customer) -> None:
    """A guest row with the account's new email is the same person: every context moves what
    it holds of the guest (orders, consent and its history, topics, language, tags, flow runs,
    messages, the frequency cap…), then the guest row goes (customers.merging). `account` comes
    back with the merged consent, topics and language set, so the save that follows keeps them;
    the `customer.updated` event of the email change makes analytics recompute its figures."""
    merging.merge(guest=guest, account=account)


def apply_customers(
    *, store: Store, records: Sequence[CustomerRecord], backfill: bool = False
) -> tuple[list[Outcome], list[EventDraft]]:
    """Upsert registered customers. Newest `date_modified_gmt` wins; older records are stale."""
    outcomes: list[Outcome] = []
    drafts: list[EventDraft] = []
    now = clock.now()
    hidden = suppression.lookup(store=store, emails={r.identity.email for r in records})
    for record in records:
        identity = record.identity
        found = hidden.get(identity.email)
        if found is not None and found.hides(record.date_created):  # erased under the GDPR
            outcomes.append(Outcome.SUPPRESSED)
            continue
        customer = Customer.objects.filter(store=store, external_id=record.external_id).first()
        if customer is None:
            customer = Customer.objects.filter(store=store, email=identity.email).first()
        stored = customer.date_modified_gmt if customer is not None else None
        deleted = customer is not None and customer.deleted_at is not None
        if (
            stored
            and record.date_modified
            and (record.date_modified < stored or (deleted and record.date_modified == stored))
        ):
            outcomes.append(Outcome.STALE)
            continue
        created = customer is None
        if customer is None:
            customer = Customer(store=store, email=identity.email)
        elif customer.email != identity.email:
            holder = Customer.objects.filter(store=store, email=identity.email).first()
            if holder is not None and holder.pk != customer.pk:
                if holder.external_id is None:
                    _merge_guest_into(guest=holder, account=customer)
                else:  # two accounts claim one email: keep ours, the shop must sort it out
                    outcomes.append(Outcome.UNCHANGED)
                    continue
        before = {f: getattr(customer, f) for f in ("email", *_FILLABLE, "external_id")}
        customer.email = identity.email
        customer.external_id = record.external_id
        customer.is_registered = True
        for name in _FILLABLE:
            value = getattr(identity, name)
            if value:
                setattr(customer, name, value)
        customer.date_modified_gmt = record.date_modified
        first_seen = record.date_created or now
        if customer.first_seen_at is None or first_seen < customer.first_seen_at:
            customer.first_seen_at = first_seen
        consent = _consent_changes(customer, identity, record.date_modified or now)
        customer.deleted_at = None
        if created:
            customer.save()
        else:
            # Only the columns the shop owns: a preferences page or an unsubscribe that
            # committed since this row was read (consent, topics, chosen language) must survive.
            mirrored = ["email", "external_id", "is_registered", *_FILLABLE, "date_modified_gmt",
                        "first_seen_at", "deleted_at", "updated_at"]  # fmt: skip
            if consent is not None:
                mirrored += ["marketing_consent", "consent_source", "consent_at"]
            customer.save(update_fields=mirrored)
        if consent is not None:
            consent.customer = customer
            consent.save()
        after = {f: getattr(customer, f) for f in ("email", *_FILLABLE, "external_id")}
        if created:
            outcomes.append(Outcome.CREATED)
            event_type = "customer.created"
        elif before != after or consent is not None:
            outcomes.append(Outcome.UPDATED)
            event_type = "customer.updated"
        else:
            outcomes.append(Outcome.UNCHANGED)
            continue
        changed = [f for f in after if before[f] != after[f]]
        drafts.append(
            EventDraft(
                store_id=store.pk,
                type=event_type,
                subject_type="customer",
                subject_id=customer.pk,
                customer_id=customer.pk,
                occurred_at=record.date_modified or now,
                payload={"email": customer.email, "changed": changed, "backfill": backfill},
                dedupe_key=f"customer.created:{customer.pk}" if created else None,
            )
        )
    return outcomes, drafts


def mark_customer_deleted(*, store: Store, external_id: int) -> tuple[Outcome, list[EventDraft]]:
    customer = Customer.objects.filter(store=store, external_id=external_id).first()
    if customer is None:
        return Outcome.NOT_FOUND, []
    if customer.deleted_at is not None:
        return Outcome.UNCHANGED, []
    customer.deleted_at = clock.now()
    customer.save(update_fields=["deleted_at", "updated_at"])
    return Outcome.DELETED, [
        EventDraft(
            store_id=store.pk,
            type="customer.deleted",
            subject_type="customer",
            subject_id=customer.pk,
            customer_id=customer.pk,
            occurred_at=customer.deleted_at,
        )
    ]
