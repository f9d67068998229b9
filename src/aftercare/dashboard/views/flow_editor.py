"""The flow editors: a form (fields per step; add, remove and reorder steps, filters and
conditions) and the same definition as YAML text. Both save through `flows.services`, which
checks the whole definition and names every problem by where it is; the editors show each
problem next to the field or step it is about and keep what was typed.

    /dashboard/flows/new/form/          a new draft in the form editor
    /dashboard/flows/<id>/form/         the form editor
    /dashboard/flows/new/               a new draft written as YAML
    /dashboard/flows/<id>/edit/         the YAML editor

The form editor needs no JavaScript: each change of shape ("add a wait", "move step 3 up") is
a submit that re-renders the whole definition as posted with the change made, saving nothing;
only "Save" saves (forms/flows.py turns the fields into a definition). Changing flows needs
`MANAGE_FLOWS`; another store's flow is a 404.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aftercare.core.errors import InvalidInput
from aftercare.customers.topics import TOPICS
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms import flows as flow_forms
from aftercare.dashboard.forms.flows import FlowTextForm
from aftercare.dashboard.views.flows import (
    CATEGORY_LABELS,
    MANAGE_FLOWS,
    OPERATORS,
    REENTRY_LABELS,
    flow_or_404,
    step_text,
)
from aftercare.flows import actions, conditions, triggers
from aftercare.flows import services as flow_services
from aftercare.flows.definition import InvalidFlow

NEW_FLOW_TEMPLATE = """\
name: My flow
category: marketing
trigger: {type: order.completed}
filters:
  - {fact: order.is_refunded, op: eq, value: false}
steps:
  - {key: wait, type: wait, days: 3, at: "10:00:00"}
  - {key: send, type: action, action: send_email, params: {template: thank-you}}
"""


def _problems_by_place(
    problems: Mapping[str, str], data: Mapping[str, Any] | None
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Split a definition's problems into the flow's own ("trigger.type": …) and those of
    each step, so the editor shows each next to the step it is about."""
    steps = data.get("steps") if isinstance(data, Mapping) else None
    outline = [
        {**step_text(step), "index": index, "problems": []}
        for index, step in enumerate(steps if isinstance(steps, list) else [])
        if isinstance(step, dict)
    ]
    general: list[tuple[str, str]] = []
    for where, why in problems.items():
        parts = where.split(".")
        if parts[0] == "steps" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(outline):
                # pydantic puts the step's type in the location ("steps.0.wait.days").
                rest = [p for p in parts[2:] if p not in {"wait", "condition", "action"}]
                outline[index]["problems"].append((".".join(rest) or _("step"), why))
                continue
        general.append((where, why))
    return general, outline


def _editor_context(staff: Staff) -> dict[str, Any]:
    """What the editor lists beside the text: the triggers, actions and facts it may use."""
    return {
        "triggers": sorted(triggers.all_triggers(), key=lambda t: t.key),
        "actions": sorted(actions.all_actions(), key=lambda a: a.key),
        "facts": sorted(conditions.FACTS.values(), key=lambda f: f.key),
        "operators": list(OPERATORS),
    }


@require_http_methods(["GET", "POST"])
@staff_page(permission=MANAGE_FLOWS)
def flow_edit(request: HttpRequest, staff: Staff, flow_id: int) -> HttpResponse:
    flow = flow_or_404(staff, flow_id)
    general: list[tuple[str, str]] = []
    outline: list[dict[str, Any]] = []
    if request.method == "POST":
        form = FlowTextForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data["data"]
            try:
                flow_services.update_flow(flow=flow, data=data)
            except InvalidFlow as invalid:
                general, outline = _problems_by_place(invalid.problems, data)
                form.add_error(None, _("The flow was not saved: fix the problems below."))
            except InvalidInput as invalid:
                form.add_error("text", invalid.message)
            else:
                messages.success(request, _("Saved. Waiting steps keep their place by step key."))
                return redirect("dashboard:flow", flow_id=flow.pk)
    else:
        form = FlowTextForm(initial={"text": flow_services.export_yaml(flow=flow)})
    context = {
        "flow": flow,
        "form": form,
        "general_problems": general,
        "outline": outline,
        "action_url": reverse("dashboard:flow_edit", args=[flow.pk]),
        **_editor_context(staff),
    }
    return render(request, "dashboard/flows/edit.html", context)


@require_http_methods(["GET", "POST"])
@staff_page(permission=MANAGE_FLOWS)
def flow_new(request: HttpRequest, staff: Staff) -> HttpResponse:
    general: list[tuple[str, str]] = []
    outline: list[dict[str, Any]] = []
    if request.method == "POST":
        form = FlowTextForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data["data"]
            try:
                flow = flow_services.create_flow(store=staff.store, data=data)
            except InvalidFlow as invalid:
                general, outline = _problems_by_place(invalid.problems, data)
                form.add_error(None, _("The flow was not saved: fix the problems below."))
            except InvalidInput as invalid:
                form.add_error("text", invalid.message)
            else:
                messages.success(request, _("Draft saved. Activate it when it is ready."))
                return redirect("dashboard:flow", flow_id=flow.pk)
    else:
        form = FlowTextForm(initial={"text": NEW_FLOW_TEMPLATE})
    context = {
        "flow": None,
        "form": form,
        "general_problems": general,
        "outline": outline,
        "action_url": reverse("dashboard:flow_new"),
        **_editor_context(staff),
    }
    return render(request, "dashboard/flows/edit.html", context)


# --- the form editor ------------------------------------------------------------------------


def _place_problems(
    problems: Mapping[str, str],
) -> tuple[list[tuple[str, str]], dict[int, list[str]], dict[int, list[tuple[str, str]]]]:
    """The flow's own problems, those of each filter row, and those of each step (by field)."""
    general: list[tuple[str, str]] = []
    filters: dict[int, list[str]] = {}
    steps: dict[int, list[tuple[str, str]]] = {}
    for where, why in problems.items():
        parts = where.split(".")
        if len(parts) > 1 and parts[1].isdigit() and parts[0] == "filters":
            filters.setdefault(int(parts[1]), []).append(why)
        elif len(parts) > 1 and parts[1].isdigit() and parts[0] == "steps":
            rest = [p for p in parts[2:] if p not in {"wait", "condition", "action"}]
            steps.setdefault(int(parts[1]), []).append((".".join(rest) or _("step"), why))
        else:
            general.append((where, why))
    return general, filters, steps


def _condition_rows(
    given: Any,
    prefix: str,
    remove_op: str,
    problems: Mapping[int, list[str]] | None = None,
) -> list[dict[str, Any]]:
    rows = []
    for j, condition in enumerate(given if isinstance(given, list) else []):
        row = condition if isinstance(condition, dict) else {}
        rows.append(
            {
                "index": j,
                "prefix": f"{prefix}-{j}",
                "remove_op": f"{remove_op}{j}",
                "fact": row.get("fact", ""),
                "fact_known": row.get("fact", "") in conditions.FACTS,
                "op": row.get("op", "eq"),
                "value": flow_forms.value_text(row.get("value")),
                "problems": (problems or {}).get(j, []),
            }
        )
    return rows


def _step_row(
    index: int, step: Mapping[str, Any], keys: list[str], problems: list[tuple[str, str]]
) -> dict[str, Any]:
    kind = str(step.get("type", ""))
    later = keys[index + 1 :]
    row: dict[str, Any] = {
        "index": index,
        "prefix": f"s-{index}",
        "key": step.get("key", ""),
        "type": kind,
        "type_label": {"wait": _("Wait"), "condition": _("Condition"), "action": _("Action")}.get(
            kind, kind
        ),
        "problems": problems,
        "first": index == 0,
        "last": index == len(keys) - 1,
    }
    if kind == "wait":
        row.update(
            {name: step.get(name, "") for name in ("days", "hours", "minutes", "until_date")}
        )
        row["at"] = str(step.get("at") or "")[:5]
        row["offset_days"] = step.get("offset_days", "")
        row["weekdays"] = [str(d) for d in step.get("weekdays") or []]
    elif kind == "condition":
        row["match"] = step.get("match", "all")
        row["conditions"] = _condition_rows(
            step.get("conditions"), f"s-{index}-c", f"remove_cond:{index}:"
        )
        row["if_true"] = step.get("if_true") or ""
        row["if_false"] = step.get("if_false") or "exit"
        targets = list(later)
        for current in (row["if_true"], row["if_false"]):
            if current and current != "exit" and current not in targets:
                targets.append(current)  # shown as it is, so the check can say what is wrong
        row["targets"] = targets
    elif kind == "action":
        key = str(step.get("action", ""))
        params = dict(step.get("params") or {})
        action = actions.get(key) if actions.exists(key) else None
        fields = []
        for param in action.params if action else ():
            value = params.pop(param.name, "")
            fields.append({"param": param, "value": "" if value is None else value})
        row.update(
            {
                "action": key,
                "action_known": action is not None,
                "fields": fields,
                "extra": json.dumps(params) if params else "",
            }
        )
    return row


def _builder_context(data: Mapping[str, Any], problems: Mapping[str, str]) -> dict[str, Any]:
    general, filter_problems, step_problems = _place_problems(problems)
    # Exports leave defaults out; the form shows them chosen.
    data = {"category": "marketing", "reentry": "per_subject", **data}
    trigger = data.get("trigger") if isinstance(data.get("trigger"), dict) else {}
    trigger_type = str((trigger or {}).get("type", ""))
    config = (trigger or {}).get("config") or {}
    current = triggers.get(trigger_type) if triggers.exists(trigger_type) else None
    config_fields = []
    for field in current.config_fields if current else ():
        value = config.get(field.name, "" if field.default is None else field.default)
        choices = list(field.choices)
        if field.type == "multichoice" and isinstance(value, list):
            choices += [str(v) for v in value if v not in choices]  # a shop's own status
        config_fields.append(
            {
                "field": field,
                "value": value,
                "choices": [(choice, field.label_of(choice)) for choice in choices],
            }
        )
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict)]
    keys = [str(s.get("key", "")) for s in steps]
    return {
        "d": data,
        "trigger_type": trigger_type,
        "trigger_known": current is not None,
        "config_fields": config_fields,
        "filters": _condition_rows(data.get("filters"), "f", "remove_filter:", filter_problems),
        "steps": [
            _step_row(i, step, keys, step_problems.get(i, [])) for i, step in enumerate(steps)
        ],
        "general_problems": general,
        "all_triggers": sorted(triggers.all_triggers(), key=lambda t: t.label),
        "all_actions": sorted(actions.all_actions(), key=lambda a: a.label),
        "facts": sorted(conditions.FACTS.values(), key=lambda f: f.key),
        "date_facts": [f for f in conditions.FACTS.values() if f.type == "date"],
        "operators": list(OPERATORS.items()),
        "weekdays": [(str(n), WEEKDAYS_ABBR[n]) for n in range(7)],
        "categories": list(CATEGORY_LABELS.items()),
        "reentries": list(REENTRY_LABELS.items()),
        "topics": [("", _("General (no topic)"))]
        + [(topic.key, topic.label) for topic in TOPICS.values()],
    }


@require_http_methods(["GET", "POST"])
@staff_page(permission=MANAGE_FLOWS)
def flow_builder(request: HttpRequest, staff: Staff, flow_id: int | None = None) -> HttpResponse:
    """The form editor, for a new flow (no id) or an existing one."""
    flow = flow_or_404(staff, flow_id) if flow_id is not None else None
    problems: Mapping[str, str] = {}
    if request.method == "POST":
        data = flow_forms.data_from_post(request.POST)
        op = request.POST.get("op", "save")
        if op != "save":
            data = flow_forms.apply_op(data, op)
        else:
            try:
                if flow is None:
                    flow = flow_services.create_flow(store=staff.store, data=data)
                    messages.success(request, _("Draft saved. Activate it when it is ready."))
                else:
                    flow_services.update_flow(flow=flow, data=data)
                    messages.success(
                        request, _("Saved. Waiting steps keep their place by step key.")
                    )
            except InvalidFlow as invalid:
                problems = invalid.problems
            except InvalidInput as invalid:
                problems = {"flow": invalid.message}
            else:
                return redirect("dashboard:flow", flow_id=flow.pk)
    else:
        text = flow_services.export_yaml(flow=flow) if flow else NEW_FLOW_TEMPLATE
        data = flow_forms.parse_yaml(text)[0] or {}
    context = {
        "flow": flow,
        "action_url": (
            reverse("dashboard:flow_builder", args=[flow.pk])
            if flow
            else reverse("dashboard:flow_builder_new")
        ),
        **_builder_context(data, problems),
    }
    return render(request, "dashboard/flows/builder.html", context)


urlpatterns = [
    path("flows/new/", flow_new, name="flow_new"),
    path("flows/new/form/", flow_builder, name="flow_builder_new"),
    path("flows/<int:flow_id>/edit/", flow_edit, name="flow_edit"),
    path("flows/<int:flow_id>/form/", flow_builder, name="flow_builder"),
]
