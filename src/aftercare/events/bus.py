"""Publishing facts and subscribing to them. Contexts never call each other on a change: the
one that knows a fact publishes it, subscribers get a job per event in the same transaction.

    bus.subscribe("order.completed", flows_tasks.on_order_completed)   # in AppConfig.ready()
    bus.subscribe("order.*", loyalty_tasks.on_order, history=History.SKIP)
    bus.publish_many([EventDraft(store_id=…, type="order.completed", …)])

A subscriber is anything with `.enqueue(*, store_id, event_id)` — a `jobs` task.

History (events whose payload has `backfill: true`: initial sync, file import, demo) can be
millions of events at once; one job per event and subscriber would double the import's writes
and flood the queue. So each subscriber says what it wants of history when it subscribes:

- `History.BATCH` (default): one job per published batch (`events.deliver_history`, written in
  the same transaction as the events) that calls the subscriber's handler for each event in
  turn, as `handler(store_id=…, event_id=…)` — the handler is the same as for live events. A
  failed event fails the batch job, which retries (handlers are idempotent, as every job).
  Needs a `jobs` task (with `.kind`); any other subscriber gets one job per event.
- `History.EACH`: one job per event, exactly like live events.
- `History.SKIP`: no job for history at all (flows: no "thank you" mail for a 2021 order).

Live events (no `backfill`) always get one job per event and subscriber.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from aftercare.core.bulk_rows import insert_returning_ids, insert_tuples
from aftercare.events.models import Event
from aftercare.jobs import registry


class History(StrEnum):
    BATCH = "batch"
    EACH = "each"
    SKIP = "skip"


class Subscriber(Protocol):
    def enqueue(self, *, store_id: int | None = None, **kwargs: Any) -> object: ...


_subscribers: dict[str, list[tuple[Subscriber, History]]] = defaultdict(list)


def subscribe(event_type: str, subscriber: Subscriber, *, history: History = History.BATCH) -> None:
    """Call from AppConfig.ready(). `event_type` may end in `.*` (e.g. "order.*"). `history`:
    how events of history reach this subscriber (module docstring)."""
    entries = _subscribers[event_type]
    if all(existing is not subscriber for existing, _ in entries):
        entries.append((subscriber, History(history)))


def unsubscribe(event_type: str, subscriber: Subscriber) -> None:
    """For tests that subscribe throwaway tasks."""
    _subscribers[event_type] = [e for e in _subscribers[event_type] if e[0] is not subscriber]


def _entries(event_type: str) -> list[tuple[Subscriber, History]]:
    prefix = event_type.split(".", 1)[0]
    return [*_subscribers.get(event_type, ()), *_subscribers.get(f"{prefix}.*", ())]


def subscribers_for(event_type: str) -> list[Subscriber]:
    return [subscriber for subscriber, _ in _entries(event_type)]


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
    # Facts nobody subscribes to are written as plain rows (bulk_rows); those with subscribers
    # need their ids for the jobs.
    drafts = [*fresh, *unkeyed]
    plain: list[EventDraft] = []
    watched: list[EventDraft] = []
    for draft in drafts:
        (watched if _entries(draft.type) else plain).append(draft)
    insert_tuples(model=Event, columns=_COLUMNS, rows=[_row(d) for d in plain])
    if watched:
        _enqueue(watched)
    return len(drafts)


_COLUMNS = (
    "store_id", "type", "subject_type", "subject_id", "customer_id", "occurred_at", "payload",
    "dedupe_key",
)  # fmt: skip


def _row(draft: EventDraft) -> tuple[Any, ...]:
    return (
        draft.store_id, draft.type, draft.subject_type, draft.subject_id, draft.customer_id,
        draft.occurred_at, draft.payload, draft.dedupe_key,
    )  # fmt: skip


def _enqueue(watched: list[EventDraft]) -> None:
    """Write `watched` and their subscribers' jobs: one per event and subscriber, except for
    history that subscribers take in batches (or not at all)."""
    ids = insert_returning_ids(model=Event, columns=_COLUMNS, rows=[_row(d) for d in watched])
    batches: dict[tuple[int, str], list[int]] = defaultdict(list)
    for draft, event_id in zip(watched, ids, strict=True):
        history = bool(draft.payload.get("backfill"))
        for subscriber, mode in _entries(draft.type):
            kind = getattr(subscriber, "kind", None)
            if history and mode is History.SKIP:
                continue
            if history and mode is History.BATCH and isinstance(kind, str):
                batches[(draft.store_id, kind)].append(event_id)
                continue
            subscriber.enqueue(store_id=draft.store_id, event_id=event_id)
    for (store_id, kind), event_ids in batches.items():
        deliver_history.enqueue(store_id=store_id, kind=kind, event_ids=event_ids)


@registry.task(kind="events.deliver_history")
def deliver_history(*, store_id: int, kind: str, event_ids: list[int]) -> None:
    """Run the subscriber task `kind` for each event of a batch of history, in order."""
    handler = registry.get(kind)
    for event_id in event_ids:
        handler.call(store_id=store_id, event_id=event_id)
