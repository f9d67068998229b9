"""Reading the outbox — always within one store.

selectors.messages(store=s, customer_email="a@b.c", status="sent")
selectors.get_message(store=s, message_id=5)      # NotFound for another store's message
"""

from __future__ import annotations

from django.db.models import QuerySet

from aftercare.core.errors import NotFound
from aftercare.messaging.models import Message, MessageTemplate, SendAttempt, Suppression
from aftercare.stores.models import Store


def messages(
    *,
    store: Store,
    customer_email: str | None = None,
    customer_id: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    flow_id: int | None = None,
) -> QuerySet[Message]:
    rows = Message.objects.filter(store=store)
    if customer_email:
        rows = rows.filter(customer__email=customer_email.strip().lower())
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    if flow_id is not None:
        rows = rows.filter(flow_id=flow_id)
    return rows.select_related("customer").order_by("-created_at", "-pk")


def get_message(*, store: Store, message_id: int) -> Message:
    message = Message.objects.filter(store=store, pk=message_id).select_related("customer").first()
    if message is None:
        raise NotFound("No such message.")
    return message


def attempts(*, message: Message) -> QuerySet[SendAttempt]:
    return message.send_attempts.order_by("attempted_at", "pk")


def suppressions(*, store: Store) -> QuerySet[Suppression]:
    return Suppression.objects.filter(store=store).order_by("-created_at")


def store_templates(*, store: Store) -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(store=store).order_by("key", "locale", "channel")
