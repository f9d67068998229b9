"""API v1: flows, presets and the visible queue. Parse, make one selector or service call,
shape the answer; the rules live in flows.services / flows.selectors.

    GET  /flows                         each flow with its figures (pending, runs, sent, revenue…)
    POST /flows                         a draft flow from definition JSON (400 lists problems)
    GET  /flows/{id} · PUT /flows/{id}  the definition (the same data as the YAML export)
    POST /flows/{id}/activate|pause|cancel-pending · GET /flows/{id}/export (text/yaml)
    GET  /flows/presets · POST /flows/presets/{name}/enable (201 new, 200 already there)
    GET  /queue?status=pending|running|done|skipped|failed|cancelled|all&flow_id=&customer_email=
    POST /queue/{id}/run-now|cancel|retry

Every id is looked up within the token's store: another store's flow or step is 404.
A flow definition is taken as raw JSON and checked by the flow services, not by a schema here,
so a bad one answers 400 with every problem keyed by where it is ("steps.1.params": "…"), the
same message the dashboard editor and `aftercare flows import` show.

(No `from __future__ import annotations`: django-ninja resolves `Query[...]` at import time.)"""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Body, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from aftercare.api.auth import store_of
from aftercare.core.errors import Conflict, NotFound
from aftercare.flows import preset_text, presets
from aftercare.flows import selectors as flows_selectors
from aftercare.flows import services as flows_services
from aftercare.flows.active import to_definition_data
from aftercare.flows.models import Flow, ScheduledStep, StepStatus
from aftercare.stores.models import Store

router = Router()


# -- flows ----------------------------------------------------------------------------------


class FiguresOut(Schema):
    pending: int
    runs: int
    sent: int
    opened: int
    clicked: int
    revenue: Decimal
    attributed_orders: int


class FlowOut(Schema):
    id: int
    name: str
    description: str
    preset: str
    trigger: str
    category: str
    status: str
    version: int
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    figures: FiguresOut


class FlowDetailOut(FlowOut):
    definition: dict[str, Any]  # name, category, trigger, filters, steps, reentry, …


def _flow_rows(store: Store, flows: list[Flow], *, detail: bool = False) -> list[dict[str, Any]]:
    figures = flows_selectors.figures(store=store, flow_ids=[flow.pk for flow in flows])
    rows = []
    for flow in flows:
        row: dict[str, Any] = {
            "id": flow.pk,
            "name": flow.name,
            "description": flow.description,
            "preset": flow.preset,
            "trigger": flow.trigger,
            "category": flow.category,
            "status": flow.status,
            "version": flow.version,
            "activated_at": flow.activated_at,
            "created_at": flow.created_at,
            "updated_at": flow.updated_at,
            "figures": figures[flow.pk],
        }
        if detail:
            row["definition"] = to_definition_data(flow)
        rows.append(row)
    return rows


def _detail(store: Store, flow: Flow) -> dict[str, Any]:
    return _flow_rows(store, [flow], detail=True)[0]


@router.get("/flows", response=list[FlowOut], tags=["flows"])
@paginate(LimitOffsetPagination)
def list_flows(request: HttpRequest) -> list[dict[str, Any]]:
    """The store's flows (archived ones left out), by name, each with its figures: steps
    waiting, runs, messages sent/opened/clicked, attributed orders and revenue."""
    store = store_of(request)
    return _flow_rows(store, list(flows_selectors.flows(store=store)))


class PresetOut(Schema):
    name: str  # what enable takes: "review-request"
    label: str  # label and description: in the request's Accept-Language (en, ko, ja)
    description: str
    category: str
    trigger: str
    flow_id: int | None  # the store's flow made from it, if any (not archived)
    flow_status: str | None


@router.get("/flows/presets", response=list[PresetOut], tags=["flows"])
def list_presets(request: HttpRequest) -> list[dict[str, Any]]:
    """The ready-made flows a store switches on in one call, and whether this store has."""
    mine: dict[str, Flow] = {}
    for made in flows_selectors.flows(store=store_of(request)).exclude(preset="").order_by("pk"):
        mine.setdefault(made.preset, made)
    rows = []
    for name in presets.names():
        data = presets.load(name)
        text = preset_text.of(name, data)
        flow = mine.get(name)
        rows.append(
            {
                "name": name,
                "label": str(text.title),
                "description": str(text.description),
                "category": str(data.get("category", "marketing")),
                "trigger": str((data.get("trigger") or {}).get("type", "")),
                "flow_id": flow.pk if flow else None,
                "flow_status": flow.status if flow else None,
            }
        )
    return rows


@router.post(
    "/flows/presets/{name}/enable",
    response={200: FlowDetailOut, 201: FlowDetailOut},
    tags=["flows"],
)
def enable_preset(request: HttpRequest, name: str) -> Status[dict[str, Any]]:
    """Create and activate the preset's flow (201), or activate the store's existing one (200):
    enabling twice never makes a second flow."""
    store = store_of(request)
    presets.load(name)  # an unknown preset is 404 before anything else
    existed = flows_selectors.flows(store=store).filter(preset=name).exists()
    flow = flows_services.enable_preset(store=store, name=name)
    # Read back: create_flow(status=active) returns its instance from before activation.
    flow = flows_services.get_flow(store=store, flow_id=flow.pk)
    return Status(200 if existed else 201, _detail(store, flow))


@router.post("/flows", response={201: FlowDetailOut}, tags=["flows"])
def create_flow(request: HttpRequest, definition: Body[dict[str, Any]]) -> dict[str, Any]:
    """A new *draft* flow from a definition (the shape of `GET /flows/{id}`'s `definition` and
    of the YAML export). Activate it with `POST /flows/{id}/activate`."""
    store = store_of(request)
    flow = flows_services.create_flow(store=store, data=definition)
    return _detail(store, flow)


@router.get("/flows/{flow_id}", response=FlowDetailOut, tags=["flows"])
def get_flow(request: HttpRequest, flow_id: int) -> dict[str, Any]:
    store = store_of(request)
    return _detail(store, flows_services.get_flow(store=store, flow_id=flow_id))


@router.put("/flows/{flow_id}", response=FlowDetailOut, tags=["flows"])
def update_flow(
    request: HttpRequest, flow_id: int, definition: Body[dict[str, Any]]
) -> dict[str, Any]:
    """Replace the definition (its status stays). Waiting steps keep their place by step key;
    a step whose key is gone is skipped when it comes due."""
    store = store_of(request)
    flow = flows_services.get_flow(store=store, flow_id=flow_id)
    return _detail(store, flows_services.update_flow(flow=flow, data=definition))


def _set_status(request: HttpRequest, flow_id: int, status: str) -> dict[str, Any]:
    store = store_of(request)
    flow = flows_services.get_flow(store=store, flow_id=flow_id)
    return _detail(store, flows_services.set_status(flow=flow, status=status))


@router.post("/flows/{flow_id}/activate", response=FlowDetailOut, tags=["flows"])
def activate_flow(request: HttpRequest, flow_id: int) -> dict[str, Any]:
    """Activate (or resume) a flow: events recorded from now on start runs."""
    return _set_status(request, flow_id, "active")


@router.post("/flows/{flow_id}/pause", response=FlowDetailOut, tags=["flows"])
def pause_flow(request: HttpRequest, flow_id: int) -> dict[str, Any]:
    """No new runs; waiting steps stay in the queue until the flow is resumed."""
    return _set_status(request, flow_id, "paused")


class CancelledOut(Schema):
    cancelled: int


@router.post("/flows/{flow_id}/cancel-pending", response=CancelledOut, tags=["queue"])
def cancel_pending(request: HttpRequest, flow_id: int) -> dict[str, int]:
    """Cancel every waiting step of the flow (and their runs)."""
    flow = flows_services.get_flow(store=store_of(request), flow_id=flow_id)
    return {"cancelled": flows_services.cancel_pending(flow=flow)}


@router.get(
    "/flows/{flow_id}/export",
    tags=["flows"],
    openapi_extra={
        "responses": {
            200: {
                "description": "The flow as YAML (import it with `aftercare flows import`)",
                "content": {"text/yaml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def export_flow(request: HttpRequest, flow_id: int) -> HttpResponse:
    flow = flows_services.get_flow(store=store_of(request), flow_id=flow_id)
    response = HttpResponse(
        flows_services.export_yaml(flow=flow), content_type="text/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="flow-{flow.pk}.yaml"'
    return response


# -- the queue ------------------------------------------------------------------------------


class FlowRef(Schema):
    id: int
    name: str


class QueueStepOut(Schema):
    id: int
    flow: FlowRef
    run_id: int
    customer_id: int | None
    customer_email: str | None
    step_key: str
    step_type: str
    due_at: datetime
    status: str
    reason: str  # why it was skipped, what it did, or who moved it
    error: str
    attempts: int
    message_id: int | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_customer_email(step: ScheduledStep) -> str | None:
        return step.customer.email if step.customer is not None else None


class QueueFilters(Schema):
    status: Literal["pending", "running", "done", "skipped", "failed", "cancelled", "all"] = (
        "pending"
    )
    flow_id: int | None = None
    customer_email: str | None = None


@router.get("/queue", response=list[QueueStepOut], tags=["queue"])
@paginate(LimitOffsetPagination)
def list_queue(request: HttpRequest, filters: Query[QueueFilters]) -> QuerySet[ScheduledStep]:
    """Steps of flow runs: waiting ones (the default) soonest due first, finished ones most
    recent first. `status=all` lists every status."""
    return flows_selectors.queue(
        store=store_of(request),
        status=None if filters.status == "all" else filters.status,
        flow_id=filters.flow_id,
        customer_email=filters.customer_email,
    )


def _step(store: Store, step_id: int) -> ScheduledStep:
    """The step as it is now, with the flow and customer the answer shows."""
    step = flows_selectors.queue(store=store, status=None).filter(pk=step_id).first()
    if step is None:
        raise NotFound("No such queued step.")
    return step


@router.post("/queue/{step_id}/run-now", response=QueueStepOut, tags=["queue"])
def run_step_now(request: HttpRequest, step_id: int) -> ScheduledStep:
    """Make a waiting step due now (the runner takes it within seconds). 409 if it is not
    waiting."""
    store = store_of(request)
    moved = flows_services.run_now(step=flows_services.get_step(store=store, step_id=step_id))
    step = _step(store, step_id)
    if not moved:
        raise Conflict(f"Only a waiting step can run now; this one is {step.status}.")
    return step


@router.post("/queue/{step_id}/cancel", response=QueueStepOut, tags=["queue"])
def cancel_step(request: HttpRequest, step_id: int) -> ScheduledStep:
    """Cancel a waiting or failed step and its run. Cancelling twice is fine; a step that
    already ran is 409."""
    store = store_of(request)
    done = flows_services.cancel_step(step=flows_services.get_step(store=store, step_id=step_id))
    step = _step(store, step_id)
    if not done and step.status != StepStatus.CANCELLED:
        raise Conflict(
            f"Only a waiting or failed step can be cancelled; this one is {step.status}."
        )
    return step


@router.post("/queue/{step_id}/retry", response=QueueStepOut, tags=["queue"])
def retry_step(request: HttpRequest, step_id: int) -> ScheduledStep:
    """Put a failed step back in the queue, due now. 409 if it has not failed."""
    store = store_of(request)
    step = flows_services.get_step(store=store, step_id=step_id)
    if not flows_services.retry_step(step=step):
        raise Conflict(f"Only a failed step can be retried; this one is {step.status}.")
    return _step(store, step_id)
