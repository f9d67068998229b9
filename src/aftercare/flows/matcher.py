"""From events to runs: follow each store's event log with a cursor and start the runs of the
flows whose trigger and filters match.

    matcher.match_pending()          # the worker's poller: every store with active flows
    matcher.match_store(store_id=5, up_to=high_water)   # one store, in batches

Why a cursor, not a job per event: a store importing orders or a busy sale publishes thousands
of events a second; one job per event and flow would cost more than the matching itself. The
cursor reads only up to the event log's high-water mark (events.high_water), so a transaction
that commits late is never skipped.

Per batch (one transaction, the cursor row locked): the store's active flows by event type;
each event not of history (`payload.backfill`) and recorded after the flow was activated is
turned into a `Start` by the trigger; the facts the filters need are loaded in bulk; a run is
created for each start whose filters hold, unless the flow already has a run for that subject
(unique constraint) or the customer's re-entry rule says no; its first step is planned. A
worker killed mid-batch rolls the batch back, cursor included: nothing is lost, nothing doubled.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from aftercare.core import bulk_rows, clock
from aftercare.events import high_water
from aftercare.events.models import Event
from aftercare.flows import active, conditions, facts, scheduling, triggers
from aftercare.flows.active import ActiveFlow
from aftercare.flows.facts import Subject
from aftercare.flows.models import Flow, FlowCursor, FlowRun, FlowStatus, ScheduledStep
from aftercare.flows.triggers import EventView, Start
from aftercare.stores.models import Store

log = logging.getLogger(__name__)

BATCH = 2000
SQLITE_BATCH = 500  # SQLite holds its one write lock for the batch: keep webhook acks fast


def _batch_size() -> int:
    return SQLITE_BATCH if connection.vendor == "sqlite" else BATCH


@dataclass(frozen=True, slots=True)
class Candidate:
    flow: ActiveFlow
    event: EventView | None  # None for scheduled triggers (birthday, win-back, …)
    start: Start

    @property
    def event_id(self) -> int | None:
        return self.event.id if self.event is not None else None

    @property
    def subject(self) -> Subject:
        order_id = self.start.context.get("order_id")
        return Subject(self.start.customer_id, int(order_id) if order_id is not None else None)


def match_pending() -> int:
    """Match new events for every store with an active flow; returns events read."""
    mark = high_water.advance()
    store_ids = set(
        Flow.objects.filter(status=FlowStatus.ACTIVE).values_list("store_id", flat=True)
    )
    read = 0
    for store_id in sorted(store_ids):
        read += match_store(store_id=store_id, up_to=mark)
    return read


def match_store(*, store_id: int, up_to: int, batch: int | None = None) -> int:
    """Read the store's events up to `up_to` in batches; returns how many were read."""
    size = batch or _batch_size()
    read = 0
    store = Store.objects.get(pk=store_id)
    while True:
        with transaction.atomic():
            cursor = _lock_cursor(store_id=store_id)
            if cursor is None or cursor.last_event_id >= up_to:
                return read  # another worker is on it, or nothing new
            flows = active.load(store_id=store_id)
            by_type: dict[str, list[ActiveFlow]] = defaultdict(list)
            for flow in flows:
                for event_type in triggers.event_types_of({flow.definition.trigger.type}):
                    by_type[event_type].append(flow)
            rows = list(
                Event.objects.filter(
                    store_id=store_id,
                    id__gt=cursor.last_event_id,
                    id__lte=up_to,
                    type__in=sorted(by_type),
                )
                .order_by("id")
                .values_list(
                    "id", "type", "subject_type", "subject_id", "customer_id", "occurred_at",
                    "recorded_at", "payload",
                )[:size]
            )  # fmt: skip
            events = [EventView(*row) for row in rows]
            if events:
                start_runs(store=store, events=events, by_type=by_type, now=clock.now())
            full = len(events) == size
            cursor.last_event_id = events[-1].id if full else up_to
            cursor.save(update_fields=["last_event_id", "updated_at"])
        read += len(events)
        if not full:
            return read


def _lock_cursor(*, store_id: int) -> FlowCursor | None:
    FlowCursor.objects.get_or_create(store_id=store_id)
    rows = FlowCursor.objects.filter(store_id=store_id)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    else:
        rows = rows.select_for_update()
    return rows.first()


def candidates_of(
    *, events: list[EventView], by_type: dict[str, list[ActiveFlow]]
) -> list[Candidate]:
    found: list[Candidate] = []
    for event in events:
        if event.payload.get("backfill"):
            continue  # history (import, initial sync, demo) never starts a flow
        for flow in by_type.get(event.type, ()):
            if flow.activated_at is not None and event.recorded_at < flow.activated_at:
                continue
            trigger = triggers.get(flow.definition.trigger.type)
            if trigger.start is None:
                continue
            start = trigger.start(event, flow.definition.trigger.config)
            if start is not None:
                found.append(Candidate(flow=flow, event=event, start=start))
    return found


def start_runs(
    *,
    store: Store,
    events: list[EventView],
    by_type: dict[str, list[ActiveFlow]],
    now: datetime,
) -> int:
    """Create the runs (and first steps) the events start; returns how many runs."""
    return start_candidates(
        store=store, found=candidates_of(events=events, by_type=by_type), now=now
    )


def start_candidates(*, store: Store, found: list[Candidate], now: datetime) -> int:
    """Filter, de-duplicate and start runs for `found` (from events or a schedule)."""
    if not found:
        return 0
    sources: set[str] = {"customer"}
    for flow in {id(c.flow): c.flow for c in found}.values():
        definition = flow.definition
        sources |= conditions.sources_of(definition.filters)
        sources |= triggers.get(definition.trigger.type).sources
        sources |= scheduling.date_sources(definition)
    subjects = [c.subject for c in found]
    table = facts.load(store=store, subjects=subjects, sources=sources, now=now)
    accepted: dict[tuple[int, str], tuple[Candidate, dict[str, Any]]] = {}
    for candidate, subject in zip(found, subjects, strict=True):
        key = (candidate.flow.id, candidate.start.subject_key)
        if key in accepted:
            continue
        row = facts.with_trigger(table[subject], candidate.start.context)
        definition = candidate.flow.definition
        trigger = triggers.get(definition.trigger.type)
        if trigger.accepts is not None and not trigger.accepts(
            candidate.start, definition.trigger.config, row
        ):
            continue
        if not conditions.all_hold(definition.filters, row):
            continue
        accepted[key] = (candidate, row)
    # A run that already exists for (flow, subject) is skipped by the unique constraint when
    # the runs are inserted: no look-up first.
    accepted = _reentry_allowed(accepted, now=now)
    return _create(store=store, accepted=list(accepted.values()), now=now)


def _reentry_allowed(
    accepted: dict[tuple[int, str], tuple[Candidate, dict[str, Any]]], *, now: datetime
) -> dict[tuple[int, str], tuple[Candidate, dict[str, Any]]]:
    """Drop starts the flow's re-entry rule forbids (once per customer / per N days), also
    between two starts of one batch."""
    limited = [c for c, _ in accepted.values() if c.flow.definition.reentry != "per_subject"]
    if not limited:
        return accepted
    blocked: set[tuple[int, int]] = set()
    by_flow: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in limited:
        by_flow[candidate.flow.id].append(candidate)
    for flow_id, group in by_flow.items():
        definition = group[0].flow.definition
        runs = FlowRun.objects.filter(
            flow_id=flow_id,
            customer_id__in=[c.start.customer_id for c in group if c.start.customer_id],
        )
        if definition.reentry == "once_per_days" and definition.reentry_days:
            runs = runs.filter(started_at__gte=now - timedelta(days=definition.reentry_days))
        blocked.update((flow_id, cid) for cid in runs.values_list("customer_id", flat=True))
    kept: dict[tuple[int, str], tuple[Candidate, dict[str, Any]]] = {}
    for key, (candidate, row) in accepted.items():
        if candidate.flow.definition.reentry == "per_subject":
            kept[key] = (candidate, row)
            continue
        person = (candidate.flow.id, candidate.start.customer_id or 0)
        if candidate.start.customer_id is None or person in blocked:
            continue
        blocked.add(person)
        kept[key] = (candidate, row)
    return kept


_RUN_COLUMNS = (
    "store_id", "flow_id", "customer_id", "subject_key", "trigger_event_id", "context",
    "started_at",
)  # fmt: skip
_STEP_COLUMNS = (
    "store_id", "flow_id", "run_id", "customer_id", "step_key", "step_type", "due_at", "reason",
    "created_at",
)  # fmt: skip


def _create(
    *, store: Store, accepted: list[tuple[Candidate, dict[str, Any]]], now: datetime
) -> int:
    """Insert the runs (those whose (flow, subject) already has one are skipped by the unique
    constraint: a replay, a second worker) and the first step of each new run."""
    if not accepted:
        return 0
    rows = [
        (
            store.id, c.flow.id, c.start.customer_id, c.start.subject_key, c.event_id,
            c.start.context, now,
        )
        for c, _ in accepted
    ]  # fmt: skip
    new = bulk_rows.insert_or_skip(
        model=FlowRun,
        columns=_RUN_COLUMNS,
        rows=rows,
        conflict=("flow", "subject_key"),
        returning=("id", "flow_id", "subject_key"),
    )
    created = {(flow_id, subject_key): run_id for run_id, flow_id, subject_key in new}
    steps: list[tuple[Any, ...]] = []
    finished: list[int] = []
    for candidate, row in accepted:
        run_id = created.get((candidate.flow.id, candidate.start.subject_key))
        if run_id is None:
            continue  # the subject already has a run of this flow
        planned = scheduling.plan(
            definition=candidate.flow.definition,
            index=0,
            start=now,
            zone=_zone(store, row),
            facts=row,
        )
        if isinstance(planned, scheduling.Finished):
            finished.append(run_id)
            continue
        steps.append(
            (
                store.id, candidate.flow.id, run_id, candidate.start.customer_id,
                planned.step_key, planned.step_type, planned.due_at, planned.note, now,
            )
        )  # fmt: skip
    # A new run has no steps yet: nothing to conflict with.
    bulk_rows.insert_tuples(model=ScheduledStep, columns=_STEP_COLUMNS, rows=steps)
    if finished:
        from aftercare.flows import run_state

        run_state.finish_many(run_ids=finished, now=now, reason="nothing to do")
    return len(created)


def _zone(store: Store, row: dict[str, Any]) -> Any:
    from aftercare.core.local_time import zone

    return zone(store_tz=store.time_zone, customer_tz=row.get("customer.time_zone") or "")
