"""Flow pages: the flows with their figures and the preset gallery, one flow, pause/resume,
bulk cancel, and YAML export and import (the editors are in flow_editor.py).

    /dashboard/flows/                          flows, figures, presets to enable in one click
    /dashboard/flows/presets/enable/           POST name=review-request
    /dashboard/flows/import/                   POST a YAML file: a new draft, never active
    /dashboard/flows/<id>/                     one flow: trigger, filters, steps, waiting steps
    /dashboard/flows/<id>/status/              POST status=active|paused|archived
    /dashboard/flows/<id>/cancel-pending/      POST: cancel every waiting step of the flow
    /dashboard/flows/<id>/export/              the flow as a YAML download

Every staff member may look; changing a flow or its queue needs `MANAGE_FLOWS` (owners and
managers). Flows come from store-scoped services and selectors: another store's flow is a 404.
What a flow may contain is `flows.services` to decide — these views show its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from aftercare.core.errors import InvalidInput, NotFound
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms.flows import FlowImportForm
from aftercare.flows import actions, conditions, preset_text, presets, triggers
from aftercare.flows import selectors as flow_selectors
from aftercare.flows import services as flow_services
from aftercare.flows.definition import InvalidFlow
from aftercare.flows.models import Flow, FlowStatus, StepStatus
from aftercare.stores.permissions import Permission

# Changing flows and their queue (owners and managers; stores/permissions.py).
MANAGE_FLOWS = Permission.MANAGE_FLOWS

FLOW_STATUS_LABELS: dict[str, Any] = {
    FlowStatus.DRAFT: gettext_lazy("Draft"),
    FlowStatus.ACTIVE: gettext_lazy("Active"),
    FlowStatus.PAUSED: gettext_lazy("Paused"),
    FlowStatus.ARCHIVED: gettext_lazy("Archived"),
}
FLOW_STATUS_BADGES = {"draft": "", "active": "good", "paused": "warn", "archived": ""}
CATEGORY_LABELS: dict[str, Any] = {
    "transactional": gettext_lazy("Transactional"),
    "marketing": gettext_lazy("Marketing"),
}
REENTRY_LABELS: dict[str, Any] = {
    "per_subject": gettext_lazy("Once per trigger subject (e.g. per order)"),
    "once_per_customer": gettext_lazy("At most once per customer"),
    "once_per_days": gettext_lazy("At most once per customer per number of days"),
}
OPERATORS: dict[str, Any] = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "is_set": gettext_lazy("is set"),
    "is_not_set": gettext_lazy("is not set"),
}


def flow_or_404(staff: Staff, flow_id: int) -> Flow:
    try:
        return flow_services.get_flow(store=staff.store, flow_id=flow_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"permission": MANAGE_FLOWS}, status=403)


# --- describing a definition ----------------------------------------------------------------


def condition_text(condition: Mapping[str, Any]) -> str:
    fact_key = str(condition.get("fact", ""))
    fact = conditions.FACTS.get(fact_key)
    op = str(condition.get("op", ""))
    words = [str(fact.label) if fact else fact_key, str(OPERATORS.get(op, op))]
    if op not in {"is_set", "is_not_set"}:
        value = condition.get("value")
        words.append(", ".join(map(str, value)) if isinstance(value, list) else str(value))
    return " ".join(words)


def _wait_text(step: Mapping[str, Any]) -> str:
    parts = []
    days, hours, minutes = (int(step.get(name) or 0) for name in ("days", "hours", "minutes"))
    if days:
        parts.append(ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if minutes:
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    text = _("Wait %(duration)s") % {"duration": ", ".join(parts)} if parts else _("Wait")
    if step.get("until_date"):
        text += " · " + _("until %(date)s (%(offset)s days)") % {
            "date": step["until_date"],
            "offset": step.get("offset_days", 0),
        }
    if step.get("at"):
        text += " · " + _("then at %(time)s") % {"time": str(step["at"])[:5]}
    if step.get("weekdays"):
        text += " · " + _("on weekdays %(days)s") % {
            "days": ", ".join(str(d) for d in step["weekdays"])
        }
    return text


def step_text(step: Mapping[str, Any]) -> dict[str, Any]:
    """What a step does, in words, for the flow page and the editor's outline."""
    kind = str(step.get("type", ""))
    lines: list[str] = []
    if kind == "wait":
        title = _wait_text(step)
    elif kind == "condition":
        match = _("all of") if step.get("match", "all") == "all" else _("any of")
        title = _("Continue if %(match)s:") % {"match": match}
        lines = [condition_text(c) for c in step.get("conditions") or [] if isinstance(c, dict)]
        if step.get("if_true"):
            lines.append(_("if yes, go to %(step)s") % {"step": step["if_true"]})
        target = step.get("if_false") or "exit"
        lines.append(
            _("otherwise stop")
            if target == "exit"
            else _("otherwise go to %(step)s") % {"step": target}
        )
    elif kind == "action":
        key = str(step.get("action", ""))
        action = actions.get(key) if actions.exists(key) else None
        title = str(action.label) if action else key
        params = step.get("params") or {}
        lines = [f"{name}: {value}" for name, value in params.items()] if params else []
    else:
        title = kind
    return {"key": step.get("key", ""), "type": kind, "title": title, "lines": lines}


def _trigger_text(key: str, config: Mapping[str, Any]) -> dict[str, Any]:
    trigger = triggers.get(key) if triggers.exists(key) else None
    return {
        "key": key,
        "label": trigger.label if trigger else key,
        "config": [f"{name}: {value}" for name, value in config.items()],
    }


def _gallery(flows: list[Flow]) -> list[dict[str, Any]]:
    by_preset: dict[str, Flow] = {}
    for flow in flows:
        if flow.preset and flow.status != FlowStatus.ARCHIVED:
            by_preset.setdefault(flow.preset, flow)
    cards = []
    for name in presets.names():
        data = presets.load(name)
        text = preset_text.of(name, data)  # in the staff member's language
        category = str(data.get("category", "marketing"))
        cards.append(
            {
                "name": name,
                "title": text.title,
                "description": text.description,
                "category": CATEGORY_LABELS.get(category, category),
                "transactional": category == "transactional",
                "flow": by_preset.get(name),
            }
        )
    return cards


# --- pages ----------------------------------------------------------------------------------


@staff_page()
def flow_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    show_archived = request.GET.get("archived") == "1"
    flows = list(flow_selectors.flows(store=staff.store, include_archived=show_archived))
    figures = flow_selectors.figures(store=staff.store, flow_ids=[f.pk for f in flows])
    rows = [
        {
            "flow": flow,
            "figures": figures.get(flow.pk),
            "status_label": FLOW_STATUS_LABELS.get(flow.status, flow.status),
            "status_badge": FLOW_STATUS_BADGES.get(flow.status, ""),
            "category_label": CATEGORY_LABELS.get(flow.category, flow.category),
            "trigger": _trigger_text(flow.trigger, flow.trigger_config or {}),
        }
        for flow in flows
    ]
    context = {
        "rows": rows,
        "gallery": _gallery(
            flows if not show_archived else [f for f in flows if f.status != FlowStatus.ARCHIVED]
        ),
        "show_archived": show_archived,
        "can_manage": staff.can(MANAGE_FLOWS),
        "show_money": staff.can(Permission.VIEW_REVENUE),
        "currency": staff.store.currency,
        "import_form": FlowImportForm(),
    }
    return render(request, "dashboard/flows/list.html", context)


@require_POST
@staff_page(permission=MANAGE_FLOWS)
def preset_enable(request: HttpRequest, staff: Staff) -> HttpResponse:
    name = request.POST.get("name", "")[:50]
    try:
        flow = flow_services.enable_preset(store=staff.store, name=name)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    except InvalidFlow as invalid:  # a preset that does not fit this installation
        messages.error(request, _("This preset cannot be enabled: %(why)s") % {"why": invalid})
        return redirect("dashboard:flows")
    messages.success(
        request, _("“%(name)s” is on. New orders and events start it from now.") % {"name": flow}
    )
    return redirect("dashboard:flows")


@staff_page()
def flow_detail(request: HttpRequest, staff: Staff, flow_id: int) -> HttpResponse:
    flow = flow_or_404(staff, flow_id)
    figures = flow_selectors.figures(store=staff.store, flow_ids=[flow.pk])[flow.pk]
    waiting = list(
        flow_selectors.queue(store=staff.store, status=StepStatus.PENDING, flow_id=flow.pk)[:10]
    )
    failed = flow_selectors.queue(store=staff.store, status=StepStatus.FAILED, flow_id=flow.pk)
    context = {
        "flow": flow,
        "figures": figures,
        "status_label": FLOW_STATUS_LABELS.get(flow.status, flow.status),
        "status_badge": FLOW_STATUS_BADGES.get(flow.status, ""),
        "category_label": CATEGORY_LABELS.get(flow.category, flow.category),
        "reentry_label": REENTRY_LABELS.get(flow.reentry, flow.reentry),
        "trigger": _trigger_text(flow.trigger, flow.trigger_config or {}),
        "filters": [condition_text(c) for c in flow.filters or [] if isinstance(c, dict)],
        "steps": [step_text(s) for s in flow.steps or [] if isinstance(s, dict)],
        "waiting": waiting,
        "failed_count": failed.count(),
        "can_manage": staff.can(MANAGE_FLOWS),
        "show_money": staff.can(Permission.VIEW_REVENUE),
        "currency": staff.store.currency,
    }
    return render(request, "dashboard/flows/detail.html", context)


@require_POST
@staff_page(permission=MANAGE_FLOWS)
def flow_import(request: HttpRequest, staff: Staff) -> HttpResponse:
    form = FlowImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("dashboard:flows")
    try:
        flow = flow_services.import_yaml(store=staff.store, text=form.cleaned_data["file"])
    except InvalidFlow as invalid:
        messages.error(
            request,
            _("That file is not a flow that can run: %(problems)s") % {"problems": invalid},
        )
        return redirect("dashboard:flows")
    except InvalidInput as invalid:
        messages.error(request, invalid.message)
        return redirect("dashboard:flows")
    messages.success(request, _("Imported as a draft. Review it, then activate it."))
    return redirect("dashboard:flow", flow_id=flow.pk)


@staff_page()
def flow_export(request: HttpRequest, staff: Staff, flow_id: int) -> HttpResponse:
    flow = flow_or_404(staff, flow_id)
    text = flow_services.export_yaml(flow=flow)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    filename = slugify(flow.name) or f"flow-{flow.pk}"
    response["Content-Disposition"] = f'attachment; filename="{filename}.yaml"'
    return response


@require_POST
@staff_page()
def flow_status(request: HttpRequest, staff: Staff, flow_id: int) -> HttpResponse:
    flow = flow_or_404(staff, flow_id)  # another store's flow: 404 before the role check
    if not staff.can(MANAGE_FLOWS):
        return _forbidden(request)
    wanted = request.POST.get("status", "")
    if wanted not in {FlowStatus.ACTIVE, FlowStatus.PAUSED, FlowStatus.ARCHIVED}:
        messages.error(request, _("Unknown status."))
        return redirect("dashboard:flow", flow_id=flow.pk)
    try:
        flow = flow_services.set_status(flow=flow, status=wanted)
    except InvalidFlow as invalid:
        messages.error(
            request, _("This flow cannot be activated: %(problems)s") % {"problems": invalid}
        )
    else:
        done = {
            FlowStatus.ACTIVE: _("“%(name)s” is active."),
            FlowStatus.PAUSED: _("“%(name)s” is paused: no new runs; waiting steps wait."),
            FlowStatus.ARCHIVED: _("“%(name)s” is archived; its waiting steps were cancelled."),
        }[FlowStatus(wanted)]
        messages.success(request, done % {"name": flow.name})
    if request.POST.get("next") == "list":
        return redirect("dashboard:flows")
    return redirect("dashboard:flow", flow_id=flow.pk)


@require_POST
@staff_page()
def flow_cancel_pending(request: HttpRequest, staff: Staff, flow_id: int) -> HttpResponse:
    flow = flow_or_404(staff, flow_id)
    if not staff.can(MANAGE_FLOWS):
        return _forbidden(request)
    count = flow_services.cancel_pending(flow=flow)
    messages.success(
        request,
        ngettext(
            "Cancelled %(count)s waiting step of “%(name)s”.",
            "Cancelled %(count)s waiting steps of “%(name)s”.",
            count,
        )
        % {"count": count, "name": flow.name},
    )
    if request.POST.get("next") == "queue":
        return redirect(reverse("dashboard:queue") + f"?flow={flow.pk}")
    return redirect("dashboard:flow", flow_id=flow.pk)


urlpatterns = [
    path("flows/", flow_list, name="flows"),
    path("flows/presets/enable/", preset_enable, name="flow_preset_enable"),
    path("flows/import/", flow_import, name="flow_import"),
    path("flows/<int:flow_id>/", flow_detail, name="flow"),
    path("flows/<int:flow_id>/status/", flow_status, name="flow_status"),
    path("flows/<int:flow_id>/cancel-pending/", flow_cancel_pending, name="flow_cancel_pending"),
    path("flows/<int:flow_id>/export/", flow_export, name="flow_export"),
]
