"""Messaging's part of merging a guest into an account (customers.merging)."""

from __future__ import annotations

from aftercare.customers.models import Customer
from aftercare.messaging.models import ContactThrottle, Message


def merge_messages(*, guest: Customer, account: Customer) -> None:
    """Messages: the guest's (sent, queued, any status) become the account's, so its timeline
    and the sender's consent re-check see one person. ContactThrottle (one row per customer and
    channel, the frequency cap): the account keeps the later `last_marketing_at` of the two —
    merging never resets a cap; the guest's row is moved, or deleted once folded in.
    Attribution has no customer (it follows the order and the message); Suppression is by
    address. Only the guest's store is touched."""
    Message.objects.filter(store_id=guest.store_id, customer=guest).update(customer=account)
    theirs = {row.channel: row for row in ContactThrottle.objects.filter(customer=account)}
    for row in ContactThrottle.objects.filter(customer=guest):
        kept = theirs.get(row.channel)
        if kept is None:
            ContactThrottle.objects.filter(pk=row.pk).update(customer=account)
            continue
        if row.last_marketing_at > kept.last_marketing_at:
            ContactThrottle.objects.filter(pk=kept.pk).update(
                last_marketing_at=row.last_marketing_at
            )
        ContactThrottle.objects.filter(pk=row.pk).delete()
