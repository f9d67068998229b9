"""Job handlers of messaging (found by kind)."""

from __future__ import annotations

from aftercare.events.models import Event
from aftercare.jobs.registry import task
from aftercare.messaging import attribution
from aftercare.stores.models import Store


@task(kind="messaging.attribute_order", max_attempts=5)
def attribute_order(*, store_id: int, event_id: int) -> None:
    event = Event.objects.filter(pk=event_id, store_id=store_id).first()
    store = Store.objects.filter(pk=store_id).first()
    if event is None or store is None or event.subject_type != "order":
        return
    attribution.attribute_order(store=store, order_id=event.subject_id)
