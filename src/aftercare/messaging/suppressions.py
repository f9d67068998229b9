"""The suppression list: addresses that get nothing at all on a channel (transactional mail
included), because they bounced hard, complained, or staff put them there.

    suppression, created = suppressions.suppress(
        store=s, channel="email", address="Jane@Example.com", reason="hard_bounce",
        detail="550 5.1.1 user unknown", source="api",
    )
    suppressions.unsuppress(store=s, channel="email", address="jane@example.com")   # True/False

Why a service and not `Suppression.objects.create`: every way in (the bounce API, SMTP
permanent rejections, later an IMAP bounce parser and the dashboard) must agree on three
things — the address is normalised the same way `policy.is_suppressed` looks it up, adding an
address twice is a no-op (a provider re-sends its bounce notification; the first reason and
time stay, they are the evidence), and a bounce or complaint about a customer we know becomes
a `message.bounced` / `message.complained` event on their timeline (flows and analytics react
to events, never to this table). The event is written in the same transaction as the row,
with a dedupe key per row, so a replayed notification never publishes twice.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from aftercare.core import clock
from aftercare.core.errors import InvalidInput
from aftercare.customers.models import Customer
from aftercare.events import bus
from aftercare.messaging import policy
from aftercare.messaging.models import ChannelKind, Suppression, SuppressionReason
from aftercare.stores.models import Store

BOUNCED = "message.bounced"
COMPLAINED = "message.complained"
_EVENT_OF_REASON = {SuppressionReason.HARD_BOUNCE: BOUNCED, SuppressionReason.COMPLAINT: COMPLAINED}
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_DETAIL = 2000


def normalised_address(*, channel: str, address: str) -> str:
    """The address as the suppression list stores it, or InvalidInput saying what is wrong."""
    if channel not in ChannelKind.values:
        raise InvalidInput(
            f"unknown channel {channel!r}: choose one of {', '.join(ChannelKind.values)}",
            field="channel",
        )
    value = policy.normalise(address)
    if not value:
        raise InvalidInput("an address is required", field="address")
    if channel == ChannelKind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise InvalidInput(f"{address!r} is not an email address", field="address") from None
    elif channel == ChannelKind.SMS and not _E164.match(value):
        raise InvalidInput(
            f"{address!r} is not a phone number in E.164 form (+15551234567)", field="address"
        )
    return value


def suppress(
    *,
    store: Store,
    channel: str,
    address: str,
    reason: str,
    detail: str = "",
    source: str = "",
) -> tuple[Suppression, bool]:
    """Put `address` on the store's suppression list for `channel`. Returns the row and whether
    it is new; an address already listed keeps its first reason and time (idempotent).

    A new hard bounce or complaint about a customer of the store publishes `message.bounced`
    or `message.complained` (subject: the customer) in the same transaction."""
    value = normalised_address(channel=channel, address=address)
    if reason not in SuppressionReason.values:
        raise InvalidInput(
            f"unknown reason {reason!r}: choose one of {', '.join(SuppressionReason.values)}",
            field="reason",
        )
    now = clock.now()
    with transaction.atomic():
        # get_or_create settles a race on the unique (store, channel, address) by reading the
        # winner's row: two workers suppressing the same bounce make one row and one event.
        suppression, created = Suppression.objects.get_or_create(
            store=store,
            channel=channel,
            address=value,
            defaults={
                "reason": reason,
                "detail": detail[:MAX_DETAIL],
                "source": source[:100],
                "created_at": now,
            },
        )
        if created and (event_type := _EVENT_OF_REASON.get(SuppressionReason(reason))):
            _publish(suppression=suppression, event_type=event_type)
    return suppression, created


def _publish(*, suppression: Suppression, event_type: str) -> None:
    customer_id = _customer_of(suppression)
    if customer_id is None:
        return  # nobody's timeline to put it on (a staff address, a customer since erased)
    bus.publish_many(
        [
            bus.EventDraft(
                store_id=suppression.store_id,
                type=event_type,
                subject_type="customer",
                subject_id=customer_id,
                customer_id=customer_id,
                occurred_at=suppression.created_at,
                payload={
                    "channel": suppression.channel,
                    "kind": "hard" if event_type == BOUNCED else "complaint",
                    "source": suppression.source,
                    "detail": suppression.detail[:500],
                    "suppression_id": suppression.pk,
                },
                dedupe_key=f"suppression:{suppression.pk}",
            )
        ]
    )


def _customer_of(suppression: Suppression) -> int | None:
    customers = Customer.objects.filter(store_id=suppression.store_id, deleted_at__isnull=True)
    if suppression.channel == ChannelKind.EMAIL:
        customers = customers.filter(email=suppression.address)
    elif suppression.channel == ChannelKind.SMS:
        customers = customers.filter(phone=suppression.address)
    else:
        return None
    return customers.order_by("pk").values_list("pk", flat=True).first()


def unsuppress(*, store: Store, channel: str, address: str) -> bool:
    """Take `address` off the list (staff decided it works again). True if it was listed."""
    value = normalised_address(channel=channel, address=address)
    deleted, _ = Suppression.objects.filter(store=store, channel=channel, address=value).delete()
    return bool(deleted)
