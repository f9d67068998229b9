"""The outbox: every message Aftercare wrote, sent or not, and one message with its frozen
content and every send attempt with the provider's answer.

    /dashboard/messages/?status=failed&channel=email&email=jane@example.com&flow=3
    /dashboard/messages/<id>/

In the embedded mode (no SMTP server configured) this is where a new user sees the mails the
product would have sent. A message's HTML is shown only inside `<iframe sandbox="" srcdoc=…>`:
the empty sandbox runs no script, submits no form and gets an opaque origin, so mail content
(which carries customer and product text) can never act in the dashboard's origin.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy, pgettext_lazy

from aftercare.core.errors import NotFound
from aftercare.dashboard.access import Staff, staff_page
from aftercare.flows import selectors as flow_selectors
from aftercare.messaging import selectors as message_selectors
from aftercare.messaging import tracking
from aftercare.messaging.models import AttemptOutcome, ChannelKind, Message, MessageStatus

PAGE_SIZE = 50
MESSAGE_STATUS_LABELS: dict[str, Any] = {
    MessageStatus.QUEUED: gettext_lazy("Queued"),
    MessageStatus.SENDING: gettext_lazy("Sending"),
    MessageStatus.SENT: gettext_lazy("Sent"),
    MessageStatus.FAILED: gettext_lazy("Failed"),
    MessageStatus.SUPPRESSED: gettext_lazy("Not sent"),
    MessageStatus.CANCELLED: gettext_lazy("Cancelled"),
}
MESSAGE_STATUS_BADGES = {
    "queued": "info", "sending": "info", "sent": "good", "failed": "bad", "suppressed": "warn",
    "cancelled": "",
}  # fmt: skip
CHANNEL_LABELS: dict[str, Any] = {
    ChannelKind.EMAIL: pgettext_lazy("channel", "Email"),
    ChannelKind.SMS: gettext_lazy("SMS"),
    ChannelKind.WEBHOOK: gettext_lazy("Webhook"),
}
OUTCOME_LABELS: dict[str, Any] = {
    AttemptOutcome.SENT: gettext_lazy("Accepted"),
    AttemptOutcome.TEMPORARY: gettext_lazy("Temporary failure"),
    AttemptOutcome.PERMANENT: gettext_lazy("Permanent failure"),
    AttemptOutcome.SUPPRESSED: gettext_lazy("Not sent"),
}
OUTCOME_BADGES = {"sent": "good", "temporary": "warn", "permanent": "bad", "suppressed": "warn"}
CATEGORY_LABELS: dict[str, Any] = {
    "transactional": gettext_lazy("Transactional"),
    "marketing": gettext_lazy("Marketing"),
}


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


def _flow_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@staff_page()
def message_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in MESSAGE_STATUS_LABELS else ""
    channel = request.GET.get("channel", "")
    channel = channel if channel in CHANNEL_LABELS else ""
    email = request.GET.get("email", "").strip()[:254]
    flows = list(flow_selectors.flows(store=staff.store, include_archived=True))
    flow_names = {flow.pk: flow.name for flow in flows}
    flow_id = _flow_id(request.GET.get("flow"))
    if flow_id not in flow_names:
        flow_id = None
    rows = message_selectors.messages(
        store=staff.store,
        customer_email=email or None,
        status=status or None,
        channel=channel or None,
        flow_id=flow_id,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    params = {
        key: value
        for key, value in (
            ("status", status), ("channel", channel), ("email", email), ("flow", flow_id or "")
        )
        if value
    }  # fmt: skip
    context = {
        "page": page,
        "rows": [_row(message, flow_names) for message in page.object_list],
        "status": status,
        "channel": channel,
        "email": email,
        "flow_id": flow_id,
        "flows": flows,
        "statuses": list(MESSAGE_STATUS_LABELS.items()),
        "channels": list(CHANNEL_LABELS.items()),
        "query_string": urlencode(params),
        "filtered": bool(params),
    }
    if _is_htmx(request):
        return render(request, "dashboard/messages/_results.html", context)
    return render(request, "dashboard/messages/list.html", context)


def _row(message: Message, flow_names: dict[int, str]) -> dict[str, Any]:
    return {
        "message": message,
        "status_label": MESSAGE_STATUS_LABELS.get(message.status, message.status),
        "status_badge": MESSAGE_STATUS_BADGES.get(message.status, ""),
        "channel_label": CHANNEL_LABELS.get(message.channel, message.channel),
        "category_label": CATEGORY_LABELS.get(message.category, message.category),
        "flow_name": flow_names.get(message.flow_id) if message.flow_id else None,
    }


@staff_page()
def message_detail(request: HttpRequest, staff: Staff, message_id: int) -> HttpResponse:
    try:
        message = message_selectors.get_message(store=staff.store, message_id=message_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    flow = None  # a deleted flow leaves its messages standing on their own
    if message.flow_id is not None:
        flow = (
            flow_selectors.flows(store=staff.store, include_archived=True)
            .filter(pk=message.flow_id)
            .first()
        )
    attempts = [
        {
            "attempt": attempt,
            "label": OUTCOME_LABELS.get(attempt.outcome, attempt.outcome),
            "badge": OUTCOME_BADGES.get(attempt.outcome, ""),
        }
        for attempt in message_selectors.attempts(message=message)
    ]
    context = {
        **_row(message, {flow.pk: flow.name} if flow else {}),
        "preview_html": tracking.untracked_html(message),
        "flow": flow,
        "attempts": attempts,
        "headers": sorted((message.headers or {}).items()),
    }
    return render(request, "dashboard/messages/detail.html", context)


urlpatterns = [
    path("messages/", message_list, name="messages"),
    path("messages/<int:message_id>/", message_detail, name="message"),
]
