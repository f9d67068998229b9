"""Reading flows, runs and the queue — always within one store.

selectors.flows(store=s)                                  # with counts per status
selectors.queue(store=s, status="pending", flow_id=None, customer_email=None, limit=50)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from aftercare.flows.models import Flow, FlowRun, FlowStatus, ScheduledStep, StepStatus
from aftercare.messaging.models import Attribution, Message, MessageStatus
from aftercare.stores.models import Store

QUEUE_STATUSES = ("pending", "done", "skipped", "failed", "cancelled", "running")


def flows(*, store: Store, include_archived: bool = False) -> QuerySet[Flow]:
    rows = Flow.objects.filter(store=store)
    if not include_archived:
        rows = rows.exclude(status=FlowStatus.ARCHIVED)
    return rows.order_by("name", "pk")


@dataclass(frozen=True)
class FlowFigures:
    flow_id: int
    pending: int
    runs: int
    sent: int
    opened: int
    clicked: int
    revenue: Decimal
    attributed_orders: int


def figures(
    *, store: Store, flow_ids: Iterable[int], since: datetime | None = None
) -> dict[int, FlowFigures]:
    """Per flow: steps waiting, runs, messages sent/opened/clicked, attributed revenue."""
    ids = list(flow_ids)
    pending = dict(
        ScheduledStep.objects.filter(store=store, flow_id__in=ids, status=StepStatus.PENDING)
        .values("flow_id")
        .annotate(n=Count("id"))
        .values_list("flow_id", "n")
    )
    runs_q = FlowRun.objects.filter(store=store, flow_id__in=ids)
    messages_q = Message.objects.filter(store=store, flow_id__in=ids)
    attributions_q = Attribution.objects.filter(store=store, flow_id__in=ids)
    if since is not None:
        runs_q = runs_q.filter(started_at__gte=since)
        messages_q = messages_q.filter(created_at__gte=since)
        attributions_q = attributions_q.filter(order_created_at__gte=since)
    runs = dict(runs_q.values("flow_id").annotate(n=Count("id")).values_list("flow_id", "n"))
    message_rows = {
        row["flow_id"]: row
        for row in messages_q.values("flow_id").annotate(
            sent=Count("id", filter=Q(status=MessageStatus.SENT)),
            opened=Count("id", filter=Q(first_opened_at__isnull=False)),
            clicked=Count("id", filter=Q(first_clicked_at__isnull=False)),
        )
    }
    revenue = {
        row["flow_id"]: row
        for row in attributions_q.values("flow_id").annotate(total=Sum("amount"), n=Count("id"))
    }
    return {
        flow_id: FlowFigures(
            flow_id=flow_id,
            pending=pending.get(flow_id, 0),
            runs=runs.get(flow_id, 0),
            sent=message_rows.get(flow_id, {}).get("sent", 0),
            opened=message_rows.get(flow_id, {}).get("opened", 0),
            clicked=message_rows.get(flow_id, {}).get("clicked", 0),
            revenue=revenue.get(flow_id, {}).get("total") or Decimal(0),
            attributed_orders=revenue.get(flow_id, {}).get("n", 0),
        )
        for flow_id in ids
    }


def queue(
    *,
    store: Store,
    status: str | None = "pending",
    flow_id: int | None = None,
    customer_email: str | None = None,
) -> QuerySet[ScheduledStep]:
    """The visible queue: steps with their flow and customer, soonest due first for waiting
    steps, most recent first for finished ones."""
    rows = ScheduledStep.objects.filter(store=store).select_related("flow", "customer", "run")
    if status:
        rows = rows.filter(status=status)
    if flow_id is not None:
        rows = rows.filter(flow_id=flow_id)
    if customer_email:
        rows = rows.filter(customer__email=customer_email.strip().lower())
    if status in (StepStatus.PENDING, StepStatus.RUNNING):
        return rows.order_by("due_at", "pk")
    return rows.order_by("-due_at", "-pk")


def runs_of_customer(*, store: Store, customer_id: int) -> QuerySet[FlowRun]:
    return (
        FlowRun.objects.filter(store=store, customer_id=customer_id)
        .select_related("flow")
        .order_by("-started_at")
    )
