"""Merging a guest row into an account: the parts, one per bounded context.

When a registered customer takes the email of a guest row (a guest who bought, then made an
account), the guest and the account are one person: everything that points at the guest must
move to the account, and the guest's own choices (consent, topics, language) must survive.

    from aftercare.customers import merging

    def merge_points(*, guest, account):                   # the caller's transaction
        LedgerEntry.objects.filter(customer=guest).update(customer=account)

    merging.register("loyalty", merge_points)

Every module that keeps rows pointing at `customers.Customer` registers its own handler in its
`AppConfig.ready()`, so the mirror (which calls `merge`) never needs to know them. `merge` runs
every handler in registration order (INSTALLED_APPS order of the `ready()` calls), then deletes
the guest. Handlers take keyword-only `guest` and `account` (same store, both `Customer`) and
run inside the caller's transaction; each one handles its own tables only and may update the
`account` instance in memory (the mirror saves it afterwards: see customers' handler). A model
nobody handles falls to the guest's `on_delete` (CASCADE loses rows, PROTECT refuses).

The caller publishes a customer event for the account (the mirror's `customer.updated` for the
email change): the analytics refresh follows it to recompute the account's figures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from aftercare.core import clock
from aftercare.customers.models import (
    ConsentChange,
    ConsentState,
    Customer,
    CustomerTag,
    MergedCustomer,
)

Handler = Callable[..., None]  # (*, guest: Customer, account: Customer) -> None

_handlers: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    """Add (or replace, by `name`, keeping its place) the handler of one context's tables."""
    _handlers[name] = handler


def handlers() -> list[tuple[str, Handler]]:
    return list(_handlers.items())


def merge(*, guest: Customer, account: Customer) -> None:
    """Move everything of `guest` to `account` (every registered handler, in order), then delete
    the guest row. Runs in the caller's transaction (a savepoint: all or nothing)."""
    if guest.pk == account.pk:
        raise ValueError("cannot merge a customer into itself")
    if guest.store_id != account.store_id:
        raise ValueError("cannot merge customers of two stores")
    with transaction.atomic():
        # Lock both rows (in id order) and read them again: an unsubscribe on the preferences
        # page that committed since the caller read them (it locks the row too) is merged, not
        # lost with the guest row.
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=[guest.pk, account.pk])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        guest.refresh_from_db()
        account.refresh_from_db()
        for _name, handler in handlers():
            handler(guest=guest, account=account)
        # Links already sent to the guest (preferences, one-click unsubscribe, order pages)
        # must keep working: the old id, and any id merged into the guest before, now lead
        # to the account (customers.selectors.current_customer).
        MergedCustomer.objects.filter(customer=guest).update(customer=account)
        MergedCustomer.objects.create(
            store_id=guest.store_id, merged_id=guest.pk, customer=account, merged_at=clock.now()
        )
        guest.delete()


# -- the customers context's own part (registered by customers/apps.py) -----------------------

# Anything else (denied, an "unsubscribed" of another writer) is a "no": 2.
_STRICTNESS: dict[str, int] = {ConsentState.UNKNOWN.value: 0, ConsentState.GRANTED.value: 1}
# Mirror-owned columns the guest may know and the account not (a phone from the billing address).
_BLANKS = ("first_name", "last_name", "phone", "country", "locale", "time_zone", "birthday")


def _strictness(state: str) -> int:
    return _STRICTNESS.get(str(state), 2)


def consent_winner(*, guest: Customer, account: Customer) -> Customer:
    """Whose email consent the merged customer keeps: the most recent decision (`consent_at`);
    when both times are equal or either is unknown, the more restrictive state — denied (or
    unsubscribed) over granted over unknown; a tie keeps the account's."""
    g, a = guest.consent_at, account.consent_at
    if g is not None and a is not None and g != a:
        return guest if g > a else account
    if _strictness(guest.marketing_consent) > _strictness(account.marketing_consent):
        return guest
    return account


def merge_customer(*, guest: Customer, account: Customer) -> None:
    """The customers tables. On the account row: email consent by `consent_winner` (state,
    source and time together); topic opt-outs the union (opting out anywhere stays opted out);
    `preferred_locale` the account's if set, else the guest's; `first_seen_at` the earlier;
    blank shop columns (name, phone, country, locale, time zone, birthday) filled from the
    guest. Consent history moves whole (SMS consent is its latest row). Tags move; a tag both
    carry keeps the account's link. Written with an UPDATE (the mirror saves only its own
    columns) and set on `account` too, so the caller's later save keeps them."""
    changes: dict[str, object] = {}
    winner = consent_winner(guest=guest, account=account)
    if winner is guest:
        changes.update(
            marketing_consent=guest.marketing_consent,
            consent_source=guest.consent_source,
            consent_at=guest.consent_at,
        )
    opt_outs = sorted(set(account.topic_opt_outs or []) | set(guest.topic_opt_outs or []))
    if opt_outs != sorted(account.topic_opt_outs or []):
        changes["topic_opt_outs"] = opt_outs
    if not account.preferred_locale and guest.preferred_locale:
        changes["preferred_locale"] = guest.preferred_locale
    first_seen: datetime | None = guest.first_seen_at
    if first_seen is not None and (
        account.first_seen_at is None or first_seen < account.first_seen_at
    ):
        changes["first_seen_at"] = first_seen
    for name in _BLANKS:
        value = getattr(guest, name)
        if value and not getattr(account, name):
            changes[name] = value
    if changes:
        Customer.objects.filter(pk=account.pk).update(**changes, updated_at=clock.now())
        for name, value in changes.items():
            setattr(account, name, value)

    ConsentChange.objects.filter(customer=guest).update(customer=account)
    shared = CustomerTag.objects.filter(customer=account).values_list("tag_id", flat=True)
    CustomerTag.objects.filter(customer=guest, tag_id__in=list(shared)).delete()
    CustomerTag.objects.filter(customer=guest).update(customer=account)
