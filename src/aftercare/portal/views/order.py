"""Order tracking (/c/<token>/order/): where the order stands, what is in it, what it cost,
and its status history. The token binds store + order + customer: nothing else is reachable."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from aftercare.portal import order_progress
from aftercare.portal.order_progress import StatusMove
from aftercare.portal.page import portal_page, render_page
from aftercare.portal.selectors import ORDER, PortalLink


@portal_page(purpose=ORDER)  # GET and HEAD
def order(request: HttpRequest, link: PortalLink) -> HttpResponse:
    placed = link.order
    assert placed is not None  # an order link always opens its order
    changes = list(placed.status_changes.all())
    moves = [StatusMove(to_status=c.to_status, changed_at=c.changed_at) for c in changes]
    timeline = [
        {
            "at": change.changed_at,
            "label": order_progress.status_label(change.to_status),
            "inferred": change.inferred,
        }
        for change in reversed(changes)
    ]
    context = {
        "order": placed,
        "status_label": order_progress.status_label(placed.status),
        "outcome": order_progress.outcome(placed.status),
        "steps": order_progress.steps(
            status=placed.status,
            date_created=placed.date_created,
            date_paid=placed.date_paid,
            date_completed=placed.date_completed,
            moves=moves,
        ),
        "lines": list(placed.lines.all()),
        "refunds": list(placed.refunds.all()),
        "timeline": timeline,
    }
    return render_page(request, "portal/order.html", context, link=link)


urlpatterns = [path("<str:token>/order/", order, name="order")]
