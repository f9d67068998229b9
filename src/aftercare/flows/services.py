"""Writing flows: create, update, enable presets, pause/resume, export/import YAML, and the
queue's staff actions (cancel, run now, retry, bulk cancel by flow).

    flow = flows_services.enable_preset(store=s, name="review-request")
    flows_services.set_status(flow=flow, status=FlowStatus.PAUSED)
    text = flows_services.export_yaml(flow=flow)
    flows_services.import_yaml(store=s, text=text)          # a new draft flow

Every definition goes through `definition.parse` and `check` (known trigger, known actions with
their required parameters, known facts): a flow that cannot run is refused with every problem
named, never saved. Activating a flow stamps `activated_at`: only events recorded from then on
start runs (enabling a flow is not a backfill of past orders).
"""

from __future__ import annotations

from typing import Any

import yaml
from django.db import transaction

from aftercare.core import clock, encryption
from aftercare.core.errors import InvalidInput, NotFound
from aftercare.events.models import Event
from aftercare.flows import actions, conditions, presets, run_state, triggers
from aftercare.flows.active import to_definition_data
from aftercare.flows.definition import (
    ActionStep,
    ConditionStep,
    FlowDefinition,
    InvalidFlow,
    to_data,
)
from aftercare.flows.definition import parse as parse_definition
from aftercare.flows.models import (
    Flow,
    FlowCursor,
    FlowRun,
    FlowStatus,
    RunStatus,
    ScheduledStep,
    StepStatus,
)
from aftercare.stores.models import Store

MAX_YAML_BYTES = 256 * 1024


def validate(data: Any) -> FlowDefinition:
    """`definition.parse` then `check`, with every problem in one answer: when the schema
    fails, the references that can be read from the raw data (trigger, facts, actions and
    their parameters) are reported with it, so an editor does not fix one round of problems
    only to be shown the next."""
    try:
        definition = parse_definition(data)
    except InvalidFlow as exc:
        problems = dict(exc.problems)
        for where, why in _raw_reference_problems(data).items():
            problems.setdefault(where, why)
        raise InvalidFlow(problems) from None
    check(definition)
    return definition


def _raw_reference_problems(data: Any) -> dict[str, str]:
    """`check`'s findings on data that failed the schema, as far as its shape allows."""
    problems: dict[str, str] = {}
    if not isinstance(data, dict):
        return problems
    trigger = data.get("trigger")
    kind = trigger.get("type") if isinstance(trigger, dict) else None
    if isinstance(kind, str) and not triggers.exists(kind):
        problems["trigger.type"] = f"unknown trigger {kind!r}"
    lists: list[tuple[str, Any]] = [("filters", data.get("filters"))]
    raw_steps = data.get("steps")
    steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        if step.get("type") == "condition":
            lists.append((f"steps.{i}.conditions", step.get("conditions")))
        action = step.get("action")
        if step.get("type") == "action" and isinstance(action, str):
            if not actions.exists(action):
                problems[f"steps.{i}.action"] = f"unknown action {action!r}"
            elif isinstance(step.get("params", {}), dict):
                try:
                    actions.check_params(action_key=action, params=step.get("params") or {})
                except InvalidInput as exc:
                    problems[f"steps.{i}.params"] = exc.message
    for where, conds in lists:
        for j, condition in enumerate(conds if isinstance(conds, list) else []):
            fact = condition.get("fact") if isinstance(condition, dict) else None
            if isinstance(fact, str) and fact not in conditions.FACTS:
                problems[f"{where}.{j}.fact"] = f"unknown fact {fact!r}"
    return problems


def check(definition: FlowDefinition) -> None:
    """Raise InvalidFlow naming every reference that does not exist."""
    problems: dict[str, str] = {}
    if not triggers.exists(definition.trigger.type):
        problems["trigger.type"] = f"unknown trigger {definition.trigger.type!r}"
    for where, conds in [("filters", definition.filters)] + [
        (f"steps.{i}.conditions", s.conditions)
        for i, s in enumerate(definition.steps)
        if isinstance(s, ConditionStep)
    ]:
        for j, condition in enumerate(conds):
            if condition.fact not in conditions.FACTS:
                problems[f"{where}.{j}.fact"] = f"unknown fact {condition.fact!r}"
    for i, step in enumerate(definition.steps):
        if isinstance(step, ActionStep):
            if not actions.exists(step.action):
                problems[f"steps.{i}.action"] = f"unknown action {step.action!r}"
                continue
            try:
                actions.check_params(action_key=step.action, params=step.params)
            except InvalidInput as exc:
                problems[f"steps.{i}.params"] = exc.message
    if problems:
        raise InvalidFlow(problems)


SECRET_PREFIX = "enc:"  # noqa: S105 - a marker, not a secret


def _secret_params(step: dict[str, Any]) -> set[str]:
    if step.get("type") != "action" or not actions.exists(str(step.get("action"))):
        return set()
    return {p.name for p in actions.get(str(step["action"])).params if p.type == "secret"}


def _seal_secrets(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Secret parameters (a webhook's signing secret) are stored encrypted, like every secret
    at rest; actions read them through `actions.secret_param`."""
    sealed = []
    for step in steps:
        names = _secret_params(step)
        params = dict(step.get("params") or {})
        for name in names:
            value = str(params.get(name) or "")
            if value and not value.startswith(SECRET_PREFIX):
                params[name] = SECRET_PREFIX + encryption.encrypt(value)
        sealed.append({**step, "params": params} if names else step)
    return sealed


def _apply(flow: Flow, definition: FlowDefinition) -> None:
    data = to_data(definition)
    data["steps"] = _seal_secrets(data["steps"])
    flow.name = definition.name
    flow.description = definition.description
    flow.category = definition.category
    flow.topic = definition.topic
    flow.trigger = definition.trigger.type
    flow.trigger_config = dict(definition.trigger.config)
    flow.filters = data.get("filters", [])
    flow.steps = data["steps"]
    flow.reentry = definition.reentry
    flow.reentry_days = definition.reentry_days
    flow.frequency_cap_hours = definition.frequency_cap_hours


@transaction.atomic
def create_flow(
    *, store: Store, data: Any, preset: str = "", status: str = FlowStatus.DRAFT
) -> Flow:
    definition = validate(data)
    now = clock.now()
    flow = Flow(store=store, preset=preset, created_at=now, updated_at=now)
    _apply(flow, definition)
    flow.save()
    if status == FlowStatus.ACTIVE:
        flow = set_status(flow=flow, status=FlowStatus.ACTIVE)
    return flow


@transaction.atomic
def update_flow(*, flow: Flow, data: Any) -> Flow:
    """Replace the definition. Waiting steps keep their place by step key; a step whose key
    is gone is skipped when it comes due ("no longer in the flow")."""
    definition = validate(data)
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    _apply(flow, definition)
    flow.version += 1
    flow.updated_at = clock.now()
    flow.save()
    return flow


@transaction.atomic
def set_status(*, flow: Flow, status: str) -> Flow:
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    now = clock.now()
    if status == FlowStatus.ACTIVE and flow.status != FlowStatus.ACTIVE:
        check(parse_definition(to_definition_data(flow)))
        flow.activated_at = now
        # The matcher starts at the present: nothing recorded before activation can start a
        # run (the recorded_at check), so there is no need to read the past at all.
        cursor, _ = FlowCursor.objects.get_or_create(store=flow.store)
        latest = Event.objects.filter(store=flow.store).order_by("-id").values_list("id", flat=True)
        if not Flow.objects.filter(store=flow.store, status=FlowStatus.ACTIVE).exists():
            cursor.last_event_id = max(cursor.last_event_id, latest.first() or 0)
            cursor.save(update_fields=["last_event_id", "updated_at"])
    if status == FlowStatus.ARCHIVED:
        cancel_pending(flow=flow, reason="flow archived")
    flow.status = FlowStatus(status)
    flow.updated_at = now
    flow.save(update_fields=["status", "activated_at", "updated_at"])
    return flow


@transaction.atomic
def enable_preset(*, store: Store, name: str) -> Flow:
    """Create and activate the preset's flow — or activate the store's existing one (a second
    click does not make a second flow). Locks the store row: two clicks at once make one flow."""
    data = presets.load(name, language=store.default_locale)
    Store.objects.select_for_update().filter(pk=store.pk).first()
    existing = (
        Flow.objects.filter(store=store, preset=name)
        .exclude(status=FlowStatus.ARCHIVED)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        if existing.status != FlowStatus.ACTIVE:
            return set_status(flow=existing, status=FlowStatus.ACTIVE)
        return existing
    return create_flow(store=store, data=data, preset=name, status=FlowStatus.ACTIVE)


def export_yaml(*, flow: Flow) -> str:
    """The flow as YAML for version control — without its secrets (a webhook's signing secret
    is left empty: set it again after an import)."""
    data = {"aftercare_flow": 1, **to_data(parse_definition(to_definition_data(flow)))}
    for step in data["steps"]:
        for name in _secret_params(step):
            if step.get("params", {}).get(name):
                step["params"][name] = ""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def import_yaml(*, store: Store, text: str) -> Flow:
    """A new draft flow from exported YAML (never active: staff review it first)."""
    if len(text.encode()) > MAX_YAML_BYTES:
        raise InvalidInput("That file is too large for a flow (256 KB at most).")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"That is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("A flow file holds a mapping (name, trigger, steps, …).")
    data.pop("aftercare_flow", None)
    return create_flow(store=store, data=data)


# -- the queue -------------------------------------------------------------------------------


def get_step(*, store: Store, step_id: int) -> ScheduledStep:
    step = ScheduledStep.objects.filter(store=store, pk=step_id).select_related("run").first()
    if step is None:
        raise NotFound("No such queued step.")
    return step


@transaction.atomic
def cancel_step(*, step: ScheduledStep, reason: str = "cancelled by staff") -> bool:
    now = clock.now()
    done = ScheduledStep.objects.filter(
        pk=step.pk, status__in=(StepStatus.PENDING, StepStatus.FAILED)
    ).update(status=StepStatus.CANCELLED, reason=reason, finished_at=now)
    if done:
        run_state.cancel_runs(run_ids=[step.run_id], now=now, reason=reason)
    return bool(done)


def run_now(*, step: ScheduledStep) -> bool:
    return bool(
        ScheduledStep.objects.filter(pk=step.pk, status=StepStatus.PENDING).update(
            due_at=clock.now(), reason="run now by staff"
        )
    )


@transaction.atomic
def retry_step(*, step: ScheduledStep) -> bool:
    """A failed step goes back to the queue, due now, and its run is active again."""
    done = ScheduledStep.objects.filter(pk=step.pk, status=StepStatus.FAILED).update(
        status=StepStatus.PENDING, due_at=clock.now(), attempts=0, reason="retry by staff",
        finished_at=None,
    )  # fmt: skip
    if done:
        FlowRun.objects.filter(pk=step.run_id, status=RunStatus.FAILED).update(
            status=RunStatus.ACTIVE, finished_at=None, exit_reason=""
        )
    return bool(done)


@transaction.atomic
def cancel_pending(*, flow: Flow, reason: str = "cancelled by staff") -> int:
    """Bulk cancel: every waiting step of the flow, and their runs."""
    now = clock.now()
    pending = ScheduledStep.objects.filter(flow=flow, status=StepStatus.PENDING)
    run_ids = list(pending.values_list("run_id", flat=True))
    count = pending.update(status=StepStatus.CANCELLED, reason=reason, finished_at=now)
    run_state.cancel_runs(run_ids=run_ids, now=now, reason=reason)
    return count


def get_flow(*, store: Store, flow_id: int) -> Flow:
    flow = Flow.objects.filter(store=store, pk=flow_id).first()
    if flow is None:
        raise NotFound("No such flow.")
    return flow
