"""The visible queue: every step a flow run reached, with its customer, flow, due time and
reason; staff cancel a waiting step, run it now, retry a failed one, or cancel a whole flow's
waiting steps (flows.py, `flow_cancel_pending`).

    /dashboard/queue/?status=pending&flow=3&email=jane@example.com&page=2
    /dashboard/queue/<id>/cancel/ · /run-now/ · /retry/      POST

Waiting steps are listed soonest first, finished ones newest first (flows.selectors.queue).
Another store's step is a 404; changing the queue needs the same right as changing flows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aftercare.core.errors import NotFound
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.views.flows import MANAGE_FLOWS
from aftercare.flows import selectors as flow_selectors
from aftercare.flows import services as flow_services
from aftercare.flows.models import ScheduledStep, StepStatus

PAGE_SIZE = 50
STEP_STATUS_LABELS: dict[str, Any] = {
    StepStatus.PENDING: gettext_lazy("Waiting"),
    StepStatus.RUNNING: gettext_lazy("Running"),
    StepStatus.FAILED: gettext_lazy("Failed"),
    StepStatus.DONE: gettext_lazy("Done"),
    StepStatus.SKIPPED: gettext_lazy("Skipped"),
    StepStatus.CANCELLED: gettext_lazy("Cancelled"),
}
STEP_STATUS_BADGES = {
    "pending": "info", "running": "info", "failed": "bad", "done": "good", "skipped": "warn",
    "cancelled": "",
}  # fmt: skip
STEP_TYPE_LABELS: dict[str, Any] = {
    "wait": gettext_lazy("Wait"),
    "condition": gettext_lazy("Condition"),
    "action": gettext_lazy("Action"),
}
ALL = "all"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


def _flow_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@staff_page()
def queue_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    status = request.GET.get("status", StepStatus.PENDING)
    if status != ALL and status not in STEP_STATUS_LABELS:
        status = StepStatus.PENDING
    flow_id = _flow_id(request.GET.get("flow"))
    email = request.GET.get("email", "").strip()[:254]
    flows = list(flow_selectors.flows(store=staff.store, include_archived=True))
    flow = next((f for f in flows if f.pk == flow_id), None)
    if flow is None:
        flow_id = None
    rows = flow_selectors.queue(
        store=staff.store,
        status=None if status == ALL else status,
        flow_id=flow_id,
        customer_email=email or None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    params = {
        key: value
        for key, value in (("status", status), ("flow", flow_id or ""), ("email", email))
        if value
    }
    context = {
        "page": page,
        "steps": [_row(step) for step in page.object_list],
        "status": status,
        "flow": flow,
        "flows": flows,
        "email": email,
        "params": params,
        "query_string": urlencode(params),
        "tabs": _tabs(params, status),
        "can_manage": staff.can(MANAGE_FLOWS),
        "here": request.get_full_path(),
        "filtered": bool(flow_id or email),
    }
    if _is_htmx(request):
        return render(request, "dashboard/queue/_results.html", context)
    return render(request, "dashboard/queue/list.html", context)


def _row(step: ScheduledStep) -> dict[str, Any]:
    return {
        "step": step,
        "status_label": STEP_STATUS_LABELS.get(step.status, step.status),
        "status_badge": STEP_STATUS_BADGES.get(step.status, ""),
        "type_label": STEP_TYPE_LABELS.get(step.step_type, step.step_type),
        "can_cancel": step.status in (StepStatus.PENDING, StepStatus.FAILED),
        "can_run_now": step.status == StepStatus.PENDING,
        "can_retry": step.status == StepStatus.FAILED,
    }


def _tabs(params: dict[str, Any], current: str) -> list[dict[str, Any]]:
    tabs = []
    for key, label in [*STEP_STATUS_LABELS.items(), (ALL, gettext_lazy("All"))]:
        query = urlencode({**params, "status": key})
        tabs.append({"key": key, "label": label, "url": f"?{query}", "current": key == current})
    return tabs


def _step_or_404(staff: Staff, step_id: int) -> ScheduledStep:
    try:
        return flow_services.get_step(store=staff.store, step_id=step_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the queue as the staff member saw it (a local URL only: no open redirect)."""
    target = request.POST.get("next", "")
    if (
        not target
        or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        or not target.startswith(reverse("dashboard:queue"))
    ):
        target = reverse("dashboard:queue")
    return redirect(target)


def _staff_action(staff: Staff, step_id: int) -> ScheduledStep | None:
    """The step, after the tenancy check (404) and the role check (None: answer 403)."""
    step = _step_or_404(staff, step_id)
    return step if staff.can(MANAGE_FLOWS) else None


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"permission": MANAGE_FLOWS}, status=403)


@require_POST
@staff_page()
def step_cancel(request: HttpRequest, staff: Staff, step_id: int) -> HttpResponse:
    step = _staff_action(staff, step_id)
    if step is None:
        return _forbidden(request)
    if flow_services.cancel_step(step=step):
        messages.success(request, _("Cancelled. The customer leaves this run of the flow."))
    else:
        messages.warning(request, _("That step is no longer waiting; nothing was cancelled."))
    return _back(request)


@require_POST
@staff_page()
def step_run_now(request: HttpRequest, staff: Staff, step_id: int) -> HttpResponse:
    step = _staff_action(staff, step_id)
    if step is None:
        return _forbidden(request)
    if flow_services.run_now(step=step):
        messages.success(
            request, _("Due now: the worker runs it next, after checking the flow's filters.")
        )
    else:
        messages.warning(request, _("That step is no longer waiting."))
    return _back(request)


@require_POST
@staff_page()
def step_retry(request: HttpRequest, staff: Staff, step_id: int) -> HttpResponse:
    step = _staff_action(staff, step_id)
    if step is None:
        return _forbidden(request)
    if flow_services.retry_step(step=step):
        messages.success(request, _("Back in the queue, due now."))
    else:
        messages.warning(request, _("Only a failed step can be retried."))
    return _back(request)


urlpatterns = [
    path("queue/", queue_list, name="queue"),
    path("queue/<int:step_id>/cancel/", step_cancel, name="step_cancel"),
    path("queue/<int:step_id>/run-now/", step_run_now, name="step_run_now"),
    path("queue/<int:step_id>/retry/", step_retry, name="step_retry"),
]
