"""Running due steps: claim, re-check on fresh data, act, plan the next step.

    runner.run_due(limit=200)     # the worker's poller; returns how many steps it handled

**Claim.** Due steps (pending, due, of an active flow — a paused flow's steps wait in the
queue) and steps whose lease expired (their worker died) are leased in one short transaction:
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers take disjoint batches without waiting; under
SQLite's IMMEDIATE transactions claims serialise.

**Process.** One transaction per batch, each step in its own savepoint. For each step: the run
must still be active; the flow's filters are evaluated again on facts loaded fresh for the whole
batch (an order refunded during a 14-day wait fails `order.is_refunded eq false`: the step is
*skipped* with that reason and the run exits); a condition step branches; an action step acts
(actions.py: messages go to the outbox in this same transaction); then the next step is planned
(scheduling.py). A worker killed mid-batch rolls everything back, messages included; the lease
expires and another worker does the batch again: no step is lost or done twice.

An action that raises is retried (1, 5, 30 minutes) and then marked failed with its error;
staff can retry it from the queue.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from aftercare.core import bulk_rows, clock, local_time
from aftercare.customers.models import Customer
from aftercare.flows import actions, active, conditions, facts, run_state, scheduling
from aftercare.flows.actions import ActionContext, ActionResult
from aftercare.flows.active import ActiveFlow
from aftercare.flows.definition import EXIT, ActionStep, ConditionStep, step_by_key
from aftercare.flows.facts import Subject
from aftercare.flows.models import FlowRun, FlowStatus, RunStatus, ScheduledStep, StepStatus
from aftercare.messaging.lookups import BatchLookups, Hint
from aftercare.stores.models import Store

log = logging.getLogger(__name__)

# How long a dead worker's claimed steps wait before another worker takes them. Short is safe:
# a live worker holds its batch's rows locked (FOR UPDATE) from `process` until it commits, and a
# claim skips locked rows (SKIP LOCKED; SQLite serialises writers), so an expired lease of a slow
# batch is never taken twice. A batch is CPU and database work only (a few ms per step: actions
# write to the outbox, nothing waits on the network), far below the lease.
LEASE = timedelta(seconds=60)
BATCH = 200
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))


def run_due(*, limit: int = BATCH, now: datetime | None = None) -> int:
    claimed, lease_id = claim_due(limit=limit, now=now or clock.now())
    if not claimed:
        return 0
    process(step_ids=claimed, lease_id=lease_id)
    return len(claimed)


def claim_due(*, limit: int, now: datetime) -> tuple[list[int], str]:
    """Two queries, not one with OR: with a million due steps the OR (and the join) made the
    planner read and sort them all (~0.9 s per claim); each half alone walks its index."""
    lease_id = uuid.uuid4().hex
    with transaction.atomic():
        pending = ScheduledStep.objects.filter(
            status=StepStatus.PENDING, due_at__lte=now, flow__status=FlowStatus.ACTIVE
        ).order_by("due_at", "pk")
        expired = ScheduledStep.objects.filter(
            status=StepStatus.RUNNING, locked_until__lt=now
        ).order_by("locked_until", "pk")
        ids: list[int] = []
        for candidates in (expired, pending):  # orphans of a dead worker first
            if len(ids) >= limit:
                break
            rows = candidates
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True, of=("self",))
            ids += list(rows.values_list("pk", flat=True)[: limit - len(ids)])
        if not ids:
            return [], lease_id
        ScheduledStep.objects.filter(pk__in=ids).update(
            status=StepStatus.RUNNING, lease_id=lease_id, locked_until=now + LEASE
        )
    return ids, lease_id


def run_now(*, step: ScheduledStep) -> None:
    """Staff's "run now": due immediately (the next claim takes it)."""
    ScheduledStep.objects.filter(pk=step.pk, status=StepStatus.PENDING).update(
        due_at=clock.now(), reason="run now by staff"
    )


@dataclass
class _Batch:
    now: datetime
    stores: dict[int, Store]
    flows: dict[int, ActiveFlow]
    customers: dict[int, Customer]
    table: dict[Subject, dict[str, Any]]
    lookups: BatchLookups
    new_steps: list[tuple[Any, ...]] = field(default_factory=list)
    changed: list[ScheduledStep] = field(default_factory=list)
    finished_runs: list[int] = field(default_factory=list)


_CHANGED = (
    "status", "reason", "error", "attempts", "due_at", "locked_until", "lease_id", "message_id",
    "finished_at",
)  # fmt: skip
_NEW_STEP = (
    "store_id", "flow_id", "run_id", "customer_id", "step_key", "step_type", "due_at", "reason",
    "created_at",
)  # fmt: skip


def process(*, step_ids: list[int], lease_id: str) -> None:
    now = clock.now()
    with transaction.atomic():
        steps = list(
            ScheduledStep.objects.select_for_update()
            .filter(pk__in=step_ids, lease_id=lease_id, status=StepStatus.RUNNING)
            .select_related("run")
            .order_by("due_at", "pk")
        )
        if not steps:
            return
        batch = _load(steps=steps, now=now)
        for step in steps:
            _handle(step=step, batch=batch)
        bulk_rows.update_rows(
            model=ScheduledStep,
            fields=_CHANGED,
            rows=[{name: getattr(s, name) for name in ("id", *_CHANGED)} for s in batch.changed],
        )
        # A step planned twice (a replayed batch) is skipped by the unique (run, step_key).
        bulk_rows.insert_or_skip(
            model=ScheduledStep,
            columns=_NEW_STEP,
            rows=batch.new_steps,
            conflict=("run", "step_key"),
            returning=("id",),
        )
        if batch.finished_runs:
            run_state.finish_many(run_ids=batch.finished_runs, now=now)


def _load(*, steps: list[ScheduledStep], now: datetime) -> _Batch:
    store_ids = {s.store_id for s in steps}
    stores = Store.objects.in_bulk(list(store_ids))
    flows: dict[int, ActiveFlow] = {}
    for store_id in store_ids:
        flows.update({f.id: f for f in active.load(store_id=store_id)})
    customers = Customer.objects.in_bulk([s.customer_id for s in steps if s.customer_id])
    sources: set[str] = {"customer"}
    for flow in flows.values():
        definition = flow.definition
        sources |= conditions.sources_of(definition.filters)
        sources |= scheduling.date_sources(definition)
        for item in definition.steps:
            if isinstance(item, ConditionStep):
                sources |= conditions.sources_of(item.conditions)
    table: dict[Subject, dict[str, Any]] = {}
    by_store: dict[int, list[Subject]] = defaultdict(list)
    for step in steps:
        by_store[step.store_id].append(_subject(step.run))
    for store_id, subjects in by_store.items():
        table.update(
            facts.load(store=stores[store_id], subjects=subjects, sources=sources, now=now)
        )
    return _Batch(now, stores, flows, customers, table, _lookups(steps, customers))


def _lookups(steps: list[ScheduledStep], customers: dict[int, Customer]) -> BatchLookups:
    """What the batch's messages will read (messaging.lookups), loaded once when first asked."""
    hints = []
    for step in steps:
        customer = customers.get(step.customer_id) if step.customer_id else None
        hints.append(
            Hint(
                store_id=step.store_id,
                customer_id=step.customer_id,
                order_id=_subject(step.run).order_id,
                idempotency_key=actions.step_idempotency_key(
                    step.flow_id, step.run_id, step.step_key
                ),
                addresses=(("email", customer.email), ("sms", customer.phone))
                if customer is not None
                else (),
            )
        )
    return BatchLookups(hints=hints)


def _subject(run: FlowRun) -> Subject:
    order_id = run.context.get("order_id")
    return Subject(run.customer_id, int(order_id) if order_id is not None else None)


def _finish(step: ScheduledStep, batch: _Batch, status: str, reason: str) -> None:
    step.status = status
    step.reason = reason[:300]
    step.finished_at = batch.now
    step.locked_until = None
    step.lease_id = ""
    batch.changed.append(step)


def _stop_reason(
    step: ScheduledStep, flow: ActiveFlow, row: dict[str, Any]
) -> tuple[str, str] | None:
    """(status, reason) when the step must not run: the run ended, the step was removed from
    the flow, the customer was deleted, or the flow's filters no longer hold on fresh data."""
    if step.run.status != RunStatus.ACTIVE:
        return StepStatus.CANCELLED, f"the run had ended ({step.run.status})"
    if step_by_key(flow.definition, step.step_key) is None:
        return StepStatus.SKIPPED, "this step is no longer in the flow"
    if row.get("customer.is_deleted"):
        return StepStatus.SKIPPED, "the customer was deleted"
    holds, why = conditions.evaluate(flow.definition.filters, row)
    if not holds:
        return StepStatus.SKIPPED, f"re-check failed: {why}"
    return None


def _handle(*, step: ScheduledStep, batch: _Batch) -> None:
    run = step.run
    now = batch.now
    flow = batch.flows.get(step.flow_id)
    if flow is None:  # paused or archived since the claim: back to the queue, untouched
        step.status, step.locked_until, step.lease_id = StepStatus.PENDING, None, ""
        batch.changed.append(step)
        return
    definition = flow.definition
    row = facts.with_trigger(batch.table.get(_subject(run), {}), run.context)
    stop = _stop_reason(step, flow, row)
    if stop is not None:
        _finish(step, batch, *stop)
        if stop[0] == StepStatus.SKIPPED:
            run_state.exit_run(run_id=run.pk, now=now, reason=stop[1])
        return
    found = step_by_key(definition, step.step_key)
    assert found is not None
    index, item = found
    zone = local_time.zone(
        store_tz=batch.stores[step.store_id].time_zone,
        customer_tz=row.get("customer.time_zone") or "",
    )
    if isinstance(item, ConditionStep):
        holds, why = conditions.evaluate(item.conditions, row, match=item.match)
        target = (item.if_true if holds else item.if_false) or None
        _finish(step, batch, StepStatus.DONE, "yes" if holds else f"no: {why}")
        if target == EXIT:
            run_state.exit_run(run_id=run.pk, now=now, reason=f"condition {item.key!r}: {why}")
            return
        next_index = index + 1 if target is None else _index_of(definition, target)
        _plan_next(step=step, flow=flow, index=next_index, batch=batch, row=row, zone=zone)
        return
    assert isinstance(item, ActionStep)
    result = _act(step=step, flow=flow, item=item, batch=batch, row=row, zone=zone)
    if result is None:
        return  # failed (recorded)
    if result.status == "deferred":
        step.status, step.locked_until, step.lease_id = StepStatus.PENDING, None, ""
        step.due_at = result.retry_at or now
        step.reason = result.reason[:300]
        batch.changed.append(step)
        return
    step.message_id = result.message_id
    status = StepStatus.DONE if result.status == "done" else StepStatus.SKIPPED
    _finish(step, batch, status, result.reason)
    _plan_next(step=step, flow=flow, index=index + 1, batch=batch, row=row, zone=zone)


def _index_of(definition: Any, key: str) -> int:
    found = step_by_key(definition, key)
    return found[0] if found else len(definition.steps)


def _act(
    *,
    step: ScheduledStep,
    flow: ActiveFlow,
    item: ActionStep,
    batch: _Batch,
    row: dict[str, Any],
    zone: Any,
) -> ActionResult | None:
    ctx = ActionContext(
        store=batch.stores[step.store_id],
        flow_id=flow.id,
        flow_name=flow.definition.name,
        category=flow.category,
        frequency_cap_hours=flow.frequency_cap_hours,
        run_id=step.run_id,
        step_id=step.pk,
        step_key=step.step_key,
        customer=batch.customers.get(step.customer_id) if step.customer_id else None,
        context=step.run.context,
        facts=row,
        now=batch.now,
        zone=zone,
        topic=flow.topic,
        lookups=batch.lookups,
    )
    mark = batch.lookups.checkpoint()
    try:
        with transaction.atomic():
            return actions.get(item.action).run(ctx, item.params)
    except Exception as exc:
        batch.lookups.roll_back(mark)  # its message and slot were rolled back too
        log.warning("flow %s step %s failed", flow.id, step.pk, exc_info=exc)
        step.attempts += 1
        step.error = f"{type(exc).__name__}: {exc}"[:2000]
        if step.attempts <= len(RETRY_DELAYS):
            step.status, step.locked_until, step.lease_id = StepStatus.PENDING, None, ""
            step.due_at = batch.now + RETRY_DELAYS[step.attempts - 1]
            step.reason = f"attempt {step.attempts} failed; retrying"
            batch.changed.append(step)
        else:
            _finish(step, batch, StepStatus.FAILED, "failed after retries")
            run_state.fail_run(run_id=step.run_id, now=batch.now, reason=step.error[:200])
        return None


def _plan_next(
    *,
    step: ScheduledStep,
    flow: ActiveFlow,
    index: int,
    batch: _Batch,
    row: dict[str, Any],
    zone: Any,
) -> None:
    planned = scheduling.plan(
        definition=flow.definition, index=index, start=batch.now, zone=zone, facts=row
    )
    if isinstance(planned, scheduling.Finished):
        if planned.reason:
            run_state.exit_run(run_id=step.run_id, now=batch.now, reason=planned.reason)
        else:
            batch.finished_runs.append(step.run_id)  # one UPDATE for the batch, at its end
        return
    batch.new_steps.append(
        (
            step.store_id, step.flow_id, step.run_id, step.customer_id, planned.step_key,
            planned.step_type, planned.due_at, planned.note, batch.now,
        )
    )  # fmt: skip
