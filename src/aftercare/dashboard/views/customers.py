"""Customer pages: the directory (search, filters, sort, CSV export) and the customer 360.

    /dashboard/customers/?q=jane@example.com          the list; an exact email or order number
                                                      always shows that customer
    /dashboard/customers/<id>/                        the 360 (profile, figures, consent, tags,
                                                      orders, activity, module panels)
    /dashboard/customers/<id>/tags/                   the tag editor (HTMX fragment; POST adds
                                                      or removes)
    /dashboard/customers/<id>/activity/?before=…      older activity (HTMX "load more")
    /dashboard/customers/export/                      POST: CSV of the current list
    /dashboard/exports/ · /dashboard/exports/download/?id=…

Every object is looked up through store-scoped selectors with `staff.store`: another store's
customer is a 404. Queries live in selectors (analytics.customer_directory for the list)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare.analytics import customer_directory
from aftercare.analytics.models import CustomerStats
from aftercare.core import clock, slots
from aftercare.core.errors import InvalidInput, NotFound
from aftercare.customers import selectors as customer_selectors
from aftercare.customers import tagging
from aftercare.customers.models import ConsentState, Customer
from aftercare.dashboard.access import Staff, staff_page
from aftercare.events.models import Event
from aftercare.exports import selectors as export_selectors
from aftercare.exports import services as export_services
from aftercare.orders import selectors as order_selectors
from aftercare.stores.permissions import Permission

ORDERS_ON_360 = 10
# Payload keys that are money: not shown to staff who may not see revenue.
MONEY_KEYS = frozenset({"total", "amount", "refunded_total", "order_total", "subtotal"})
EVENT_LABELS: dict[str, Any] = {
    "order.created": gettext_lazy("Order placed"),
    "order.paid": gettext_lazy("Order paid"),
    "order.status_changed": gettext_lazy("Order status changed"),
    "order.completed": gettext_lazy("Order completed"),
    "order.cancelled": gettext_lazy("Order cancelled"),
    "order.refunded": gettext_lazy("Order refunded"),
    "order.deleted": gettext_lazy("Order deleted in the shop"),
    "customer.created": gettext_lazy("Became a customer"),
    "customer.updated": gettext_lazy("Profile updated"),
    "customer.deleted": gettext_lazy("Account deleted in the shop"),
    "customer.consent_changed": gettext_lazy("Marketing consent changed"),
    "customer.tag_added": gettext_lazy("Tag added"),
    "customer.tag_removed": gettext_lazy("Tag removed"),
    "shop_review.created": gettext_lazy("Wrote a review in the shop"),
}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


# --- the list -------------------------------------------------------------------------------


@staff_page()
def customer_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    filters, problems = customer_directory.parse_filters(request.GET)
    page = customer_directory.page(
        store=staff.store, filters=filters, number=_page_number(request.GET.get("page"))
    )
    params = filters.to_params()
    context = {
        "filters": filters,
        "page": page,
        "problems": problems,
        "params": params,
        "query_string": urlencode(params),
        "sort_links": _sort_links(filters),
        "segments": customer_directory.segment_choices(),
        "tags": customer_selectors.tags_for_store(store=staff.store),
        "store_languages": staff.store.languages or [],
        "no_locale": customer_directory.NO_LOCALE,
        "consent_states": [
            (ConsentState.GRANTED, _("Subscribed")),
            (ConsentState.DENIED, _("Unsubscribed")),
            (ConsentState.UNKNOWN, _("Not asked")),
        ],
        "show_money": staff.can(Permission.VIEW_REVENUE),
        "can_export": staff.can(Permission.EXPORT_DATA),
        "currency": staff.store.currency,
    }
    if _is_htmx(request):
        return render(request, "dashboard/customers/_results.html", context)
    return render(request, "dashboard/customers/list.html", context)


def _sort_links(filters: customer_directory.DirectoryFilters) -> dict[str, dict[str, str]]:
    """Per sortable column: the URL that sorts by it (flipping the direction when it is the
    current sort) and the current direction for aria-sort."""
    links = {}
    for key in ("name", "email", "first_seen", "orders", "spent", "last_order"):
        current = filters.sort.lstrip("-") == key
        descending = filters.sort.startswith("-")
        # Figures and dates sort high-to-low first; text A-Z first.
        first = key if key in {"name", "email"} else f"-{key}"
        target = (key if descending else f"-{key}") if current else first
        params = {**filters.to_params(), "sort": target}
        links[key] = {
            "url": "?" + urlencode(params),
            "aria": ("descending" if descending else "ascending") if current else "none",
        }
    return links


# --- the 360 --------------------------------------------------------------------------------


def _customer_or_404(staff: Staff, customer_id: int) -> Customer:
    try:
        return customer_selectors.find_customer(store=staff.store, customer_id=customer_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing


def _stats_of(customer: Customer) -> CustomerStats | None:
    try:
        return customer.stats
    except CustomerStats.DoesNotExist:
        return None


@staff_page()
def customer_detail(request: HttpRequest, staff: Staff, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(staff, customer_id)
    stats = _stats_of(customer)
    show_money = staff.can(Permission.VIEW_REVENUE)
    average = (
        stats.total_spent / stats.orders_count if stats is not None and stats.orders_count else None
    )
    context = {
        "customer": customer,
        "stats": stats,
        "average_order": average,
        "segment_label": customer_directory.segment_label(stats.segment) if stats else "",
        "show_money": show_money,
        "currency": staff.store.currency,
        "consent_history": customer_selectors.consent_history(customer=customer),
        "tags": customer_selectors.tags_of(customer=customer),
        "orders": order_selectors.orders_of_customer(
            store=staff.store, customer_id=customer.pk, limit=ORDERS_ON_360
        ),
        "orders_limit": ORDERS_ON_360,
        "activity": _activity(staff, customer, before=None),
        "main_panels": render_panels(request, slots.CUSTOMER_MAIN, staff, customer=customer),
        "side_panels": render_panels(request, slots.CUSTOMER_SIDEBAR, staff, customer=customer),
    }
    return render(request, "dashboard/customers/detail.html", context)


def render_panels(
    request: HttpRequest, slot: str, staff: Staff, **subject: Any
) -> list[dict[str, Any]]:
    """The panels other modules registered for `slot` that this staff member may see, each
    rendered with its own template and context (autoescaped like any page)."""
    shown = []
    for panel in slots.panels(slot):
        if panel.permission and not staff.can(panel.permission):
            continue
        context = dict(panel.context(store=staff.store, staff=staff, **subject))
        html = render_to_string(
            panel.template, {**context, "panel": panel, "staff": staff}, request=request
        )
        shown.append({"panel": panel, "html": html})
    return shown


@staff_page()
def customer_tags(request: HttpRequest, staff: Staff, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(staff, customer_id)
    error = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        source = f"staff:{request.user.pk}"
        try:
            if request.POST.get("action") == "remove":
                tagging.remove_tag(customer=customer, name=name, source=source)
            else:
                tagging.add_tag(customer=customer, name=name, source=source)
        except InvalidInput as invalid:
            error = invalid.message
        if not _is_htmx(request):
            if error:
                messages.error(request, error)
            return redirect("dashboard:customer", customer_id=customer.pk)
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "dashboard/customers/_tags.html",
        {
            "customer": customer,
            "tags": customer_selectors.tags_of(customer=customer),
            "store_tags": customer_selectors.tags_for_store(store=staff.store),
            "tag_error": error,
        },
    )


@staff_page()
def customer_activity(request: HttpRequest, staff: Staff, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(staff, customer_id)
    context = {
        "customer": customer,
        "activity": _activity(staff, customer, before=request.GET.get("before")),
    }
    template = "_activity.html" if _is_htmx(request) else "activity.html"
    return render(request, f"dashboard/customers/{template}", context)


def _activity(staff: Staff, customer: Customer, *, before: str | None) -> dict[str, Any]:
    found = customer_selectors.activity(store=staff.store, customer=customer, before=before)
    show_money = staff.can(Permission.VIEW_REVENUE)
    return {
        "entries": [_entry(event, show_money=show_money) for event in found.events],
        "next_cursor": found.next_cursor,
    }


def _entry(event: Event, *, show_money: bool) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, Mapping) else {}
    details = {
        str(key): value
        for key, value in payload.items()
        if key != "backfill" and (show_money or key not in MONEY_KEYS)
    }
    is_order = event.subject_type == "order"
    return {
        "event": event,
        "label": EVENT_LABELS.get(event.type, event.type),
        "order_url": reverse("dashboard:order", args=[event.subject_id]) if is_order else "",
        "number": payload.get("number", "") if is_order else "",
        "from": payload.get("from", ""),
        "to": payload.get("to", ""),
        "inferred": bool(payload.get("inferred")),
        "tag": payload.get("tag", "") if event.type.startswith("customer.tag_") else "",
        "backfill": bool(payload.get("backfill")),
        "details": details,
    }


# --- export ---------------------------------------------------------------------------------


@staff_page(permission=Permission.EXPORT_DATA)
def customer_export(request: HttpRequest, staff: Staff) -> HttpResponse:
    """POST with the list's filters: a small list downloads at once, a large one becomes an
    export the worker builds (the exports page shows its progress)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    filters, _problems = customer_directory.parse_filters(request.POST)
    include_money = staff.can(Permission.VIEW_REVENUE)
    small = export_services.inline_lines(
        store=staff.store, filters=filters, include_money=include_money
    )
    if small is not None:
        _count, lines = small
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        stamp = clock.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="customers-{staff.store.slug}-{stamp}.csv"'
        )
        return _streamed(response)
    export = export_services.request_customer_export(
        store=staff.store,
        requested_by_id=request.user.pk,
        filters=filters,
        include_money=include_money,
    )
    messages.info(request, _("Your export is being prepared; it appears below when ready."))
    return redirect(reverse("dashboard:exports") + f"?highlight={export.pk}")


@staff_page(permission=Permission.EXPORT_DATA)
def export_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    exports = export_selectors.recent_exports(store=staff.store)
    context = {
        "exports": exports,
        "polling": any(e.in_progress for e in exports),
        "highlight": request.GET.get("highlight", ""),
    }
    if _is_htmx(request):
        return render(request, "dashboard/customers/_exports_table.html", context)
    return render(request, "dashboard/customers/exports.html", context)


@staff_page(permission=Permission.EXPORT_DATA)
def export_download(request: HttpRequest, staff: Staff) -> HttpResponse:
    raw = request.GET.get("id", "")
    if not raw.isdigit() or len(raw) > 18:
        raise Http404("no such export")
    try:
        export = export_selectors.get_export(store=staff.store, export_id=int(raw))
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    found = export_services.file_of(export=export)
    if found is None:
        raise Http404("this export is not ready or has expired")
    stamp = export.created_at.strftime("%Y%m%d-%H%M")
    return _streamed(
        FileResponse(
            found.open("rb"),
            as_attachment=True,
            filename=f"{export.kind}-{staff.store.slug}-{stamp}.csv",
            content_type="text/csv; charset=utf-8",
        )
    )


def _streamed(response: HttpResponseBase) -> HttpResponse:
    # access.StaffView is typed as returning HttpResponse; a streaming response is a sibling
    # class that Django serves the same way.
    return cast(HttpResponse, response)


urlpatterns = [
    path("customers/", customer_list, name="customers"),
    path("customers/export/", customer_export, name="customers_export"),
    path("customers/<int:customer_id>/", customer_detail, name="customer"),
    path("customers/<int:customer_id>/tags/", customer_tags, name="customer_tags"),
    path("customers/<int:customer_id>/activity/", customer_activity, name="customer_activity"),
    path("exports/", export_list, name="exports"),
    path("exports/download/", export_download, name="export_download"),
]
