"""Which flow earned an order: the last tracked click on a flow's message within the window.

    attribution.attribute_order(store=s, order_id=9)   # on order.created (handlers.py)

Last touch, one flow per order. Clicks by default: opens are unreliable (Apple Mail Privacy
Protection opens every mail), so they earn credit only in a store that opted in
(`Store.attribution_counts_opens`); hits flagged as bots (link scanners, prefetches) never do.
The window is the store's `attribution_window_days` (default 5) before the order was created.
Recomputing is harmless: an order has at most one `Attribution` (unique per store and order).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction

from aftercare.events.models import Event
from aftercare.messaging.models import Attribution, Message
from aftercare.orders.models import Order
from aftercare.stores.models import Store


def attribute_order(*, store: Store, order_id: int) -> Attribution | None:
    order = Order.objects.filter(store=store, pk=order_id).first()
    if order is None or order.customer_id is None:
        return None
    if Attribution.objects.filter(store=store, order_id=order.pk).exists():
        return None
    touches = (
        ["message.clicked", "message.opened"]
        if store.attribution_counts_opens
        else ["message.clicked"]
    )
    window = timedelta(days=store.attribution_window_days)
    hits = (
        Event.objects.filter(
            store=store,
            customer_id=order.customer_id,
            type__in=touches,
            occurred_at__gte=order.date_created - window,
            occurred_at__lte=order.date_created,
        )
        .order_by("-occurred_at", "-id")
        .values_list("type", "subject_id", "occurred_at", "payload")[:50]
    )
    for event_type, message_id, touched_at, payload in hits:
        if payload.get("bot"):
            continue
        message = Message.objects.filter(store=store, pk=message_id).first()
        if message is None or message.flow_id is None:
            continue
        try:
            with transaction.atomic():
                return Attribution.objects.create(
                    store=store,
                    order_id=order.pk,
                    message=message,
                    flow_id=message.flow_id,
                    touch="open" if event_type == "message.opened" else "click",
                    touched_at=touched_at,
                    order_created_at=order.date_created,
                    amount=order.total,
                    currency=order.currency,
                )
        except IntegrityError:
            return None
    return None
