"""Order pages: the list (search by number or email, status and date filters, pages) and one
order with its lines, refunds, status timeline and the raw WooCommerce deliveries about it.

    /dashboard/orders/?q=1234&status=processing&from=2026-01-01&to=2026-01-31
    /dashboard/orders/<id>/

Objects come from store-scoped selectors: another store's order is a 404."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aftercare.core import slots
from aftercare.core.errors import NotFound
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.views.customers import render_panels
from aftercare.ingest import selectors as ingest_selectors
from aftercare.orders import selectors as order_selectors
from aftercare.orders.models import OrderStatus
from aftercare.stores.models import Store
from aftercare.stores.permissions import Permission


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _day(raw: str, label: str, problems: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        problems.append(_("%(field)s: not a date (YYYY-MM-DD).") % {"field": label})
        return None


def _midnight(day: date, store: Store) -> datetime:
    """The start of `day` in the shop's time zone (people mean the shop's calendar day)."""
    try:
        zone = ZoneInfo(store.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(day, time.min, tzinfo=zone)


@staff_page()
def order_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    problems: list[str] = []
    q = " ".join(request.GET.get("q", "").split())[:200]
    status = request.GET.get("status", "")[:32]
    day_from = _day(request.GET.get("from", ""), _("From"), problems)
    day_to = _day(request.GET.get("to", ""), _("To"), problems)
    customer_raw = request.GET.get("customer", "")
    customer_id = int(customer_raw) if customer_raw.isdigit() and len(customer_raw) < 19 else None
    filters = order_selectors.OrderListFilters(
        q=q,
        status=status,
        created_from=_midnight(day_from, staff.store) if day_from else None,
        created_before=_midnight(day_to + timedelta(days=1), staff.store) if day_to else None,
        customer_id=customer_id,
    )
    raw_page = request.GET.get("page", "")
    number = int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1
    page = order_selectors.order_list_page(store=staff.store, filters=filters, number=number)
    params = {
        key: value
        for key, value in {
            "q": q,
            "status": status,
            "from": day_from.isoformat() if day_from else "",
            "to": day_to.isoformat() if day_to else "",
            "customer": str(customer_id) if customer_id else "",
        }.items()
        if value
    }
    context = {
        "page": page,
        "params": params,
        "query_string": urlencode(params),
        "problems": problems,
        "statuses": OrderStatus.choices,
        "show_money": staff.can(Permission.VIEW_REVENUE),
    }
    if _is_htmx(request):
        return render(request, "dashboard/orders/_results.html", context)
    return render(request, "dashboard/orders/list.html", context)


@staff_page()
def order_detail(request: HttpRequest, staff: Staff, order_id: int) -> HttpResponse:
    try:
        order = order_selectors.order_page(store=staff.store, order_id=order_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    lines = list(order.lines.all())
    names: dict[int | None, str] = {line.external_id: line.name for line in lines}
    refunds = [
        {
            "refund": refund,
            "lines": [(rl, names.get(rl.line_external_id, "")) for rl in refund.lines.all()],
        }
        for refund in order.refunds.all()
    ]
    context = {
        "order": order,
        "lines": lines,
        "refunds": refunds,
        "status_changes": list(order.status_changes.all()),
        # Raw payloads carry every amount of the order: only for staff who may see revenue.
        "deliveries": ingest_selectors.deliveries_for_order(store=staff.store, order=order)
        if staff.can(Permission.VIEW_REVENUE)
        else [],
        "meta": sorted((order.meta or {}).items()) if isinstance(order.meta, dict) else [],
        "show_money": staff.can(Permission.VIEW_REVENUE),
        "side_panels": render_panels(request, slots.ORDER_SIDEBAR, staff, order=order),
    }
    return render(request, "dashboard/orders/detail.html", context)


urlpatterns = [
    path("orders/", order_list, name="orders"),
    path("orders/<int:order_id>/", order_detail, name="order"),
]
