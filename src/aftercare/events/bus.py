"""Publishing facts and subscribing to them. Contexts never call each other on a change: the
one that knows a fact publishes it, subscribers get a job per event in the same transaction.

    bus.subscribe("order.completed", flows_tasks.on_order_completed)   # in AppConfig.ready()
    bus.publish_many([EventDraft(store_id=…, type="order.completed", …)])

A subscriber is anything with `.enqueue(*, store_id, event_id)` — a `jobs` task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aftercare.core.bulk_rows import insert_rows
from aftercare.events.models import Event


class Subscriber(Protocol):
    def enqueue(self, *, store_id: int | None = None, **kwargs: Any) -> object: ...


_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(event_type: str, subscriber: Subscriber) -> None:
    """Call from AppConfig.ready(). `event_type` may end in `.*` (e.g. "order.*")."""
    if subscriber not in _subscribers[event_type]:
        _subscribers[event_type].append(subscriber)


def subscribers_for(event_type: str) -> list[Subscriber]:
    prefix = event_type.split(".", 1)[0]
    return [*_subscribers.get(event_type, ()), *_subscribers.get(f"{prefix}.*", ())]


@dataclass(slots=True)
class EventDraft:
    store_id: int
    type: str
    subject_type: str
    subject_id: int
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    dedupe_key: str | None = None
    # The subject was created in this same transaction, so no earlier event can share its key:
    # the (costly) look-up of existing keys is skipped; the key is still stored for replays.
    subject_is_new: bool = False


def publish_many(drafts: Iterable[EventDraft]) -> int:
    """Append the events that are new (by dedupe key) and enqueue their subscribers.

    The caller holds the transaction that made the facts true: events and subscriber jobs commit
    or roll back with it. Returns how many events were written (duplicates are skipped)."""
    drafts = list(drafts)
    if not drafts:
        return 0
    keyed: dict[tuple[int, str], EventDraft] = {}
    unkeyed: list[EventDraft] = []
    for draft in drafts:
        if draft.dedupe_key is None or draft.subject_is_new:
            unkeyed.append(draft)
        else:
            keyed.setdefault((draft.store_id, draft.dedupe_key), draft)
    if keyed:
        existing: set[tuple[int, str]] = set()
        by_store: dict[int, list[str]] = defaultdict(list)
        for store_id, key in keyed:
            by_store[store_id].append(key)
        for store_id, keys in by_store.items():
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                existing.update(
                    (store_id, str(k))
                    for k in Event.objects.filter(
                        store_id=store_id, dedupe_key__in=chunk
                    ).values_list("dedupe_key", flat=True)
                )
        fresh = [d for k, d in keyed.items() if k not in existing]
    else:
        fresh = []
    # Facts nobody subscribes to (yet) are written without model instances (bulk_rows); those
    # with subscribers need their ids for the jobs, so they go through bulk_create.
    drafts = [*fresh, *unkeyed]
    watched: list[EventDraft] = []
    plain: list[EventDraft] = []
    for draft in drafts:
        (watched if subscribers_for(draft.type) else plain).append(draft)
    insert_rows(model=Event, rows=[_row(d) for d in plain])
    created = Event.objects.bulk_create([Event(**_row(d)) for d in watched], batch_size=500)
    for event in created:
        for subscriber in subscribers_for(event.type):
            subscriber.enqueue(store_id=event.store_id, event_id=event.pk)
    return len(drafts)


def _row(draft: EventDraft) -> dict[str, Any]:
    return {
        "store_id": draft.store_id,
        "type": draft.type,
        "subject_type": draft.subject_type,
        "subject_id": draft.subject_id,
        "customer_id": draft.customer_id,
        "occurred_at": draft.occurred_at,
        "payload": draft.payload,
        "dedupe_key": draft.dedupe_key,
    }
