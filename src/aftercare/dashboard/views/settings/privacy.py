"""GDPR requests: enter an email, see what we hold about it, download it all as JSON, or erase
it (typing the email again). The email travels in POST bodies only, never in a URL (URLs end up
in logs and browser history)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms.privacy import EraseForm, LookupForm
from aftercare.dashboard.views.settings.tabs import settings_tabs
from aftercare.privacy import selectors as privacy_selectors
from aftercare.privacy import services as privacy_services
from aftercare.stores.permissions import Permission

# Names of the built-in parts; parts other modules register show under their own name.
PART_LABELS = {
    "customers": gettext_lazy("Customer records (registered and guest)"),
    "orders": gettext_lazy("Orders"),
    "shop_reviews": gettext_lazy("Product reviews"),
    "customer_stats": gettext_lazy("Purchase statistics"),
    "events": gettext_lazy("Timeline events"),
    "webhook_deliveries": gettext_lazy("Raw data received from the shop"),
}


def _page(
    request: HttpRequest,
    staff: Staff,
    *,
    lookup: LookupForm,
    erase: EraseForm | None = None,
    holdings: dict[str, int] | None = None,
    email: str = "",
) -> HttpResponse:
    response = render(
        request,
        "dashboard/settings/privacy.html",
        {
            "tabs": settings_tabs(staff=staff, current="privacy"),
            "lookup": lookup,
            "erase": erase,
            "email": email,
            "holdings": [
                {"label": PART_LABELS.get(name, name), "count": count}
                for name, count in (holdings or {}).items()
            ],
            "looked_up": holdings is not None,
            "held_total": sum(holdings.values()) if holdings else 0,
            "previous": (
                privacy_selectors.erasures_of(store=staff.store, email=email).first()
                if email
                else None
            ),
            "recent": privacy_selectors.recent_erasures(store=staff.store),
        },
    )
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
@staff_page(permission=Permission.EXPORT_DATA)
def privacy_page(request: HttpRequest, staff: Staff) -> HttpResponse:
    """GET: the lookup form. POST: what we hold about the email, with export and erase."""
    if request.method == "GET":
        return _page(request, staff, lookup=LookupForm())
    lookup = LookupForm(request.POST)
    if not lookup.is_valid():
        return _page(request, staff, lookup=lookup)
    email = lookup.cleaned_data["email"]
    holdings = privacy_selectors.holdings(store=staff.store, email=email)
    return _page(
        request,
        staff,
        lookup=lookup,
        erase=EraseForm(initial={"email": email}),
        holdings=holdings,
        email=email,
    )


@require_POST
@staff_page(permission=Permission.EXPORT_DATA)
def export(request: HttpRequest, staff: Staff) -> HttpResponse:
    lookup = LookupForm(request.POST)
    if not lookup.is_valid():
        return _page(request, staff, lookup=lookup)
    email = lookup.cleaned_data["email"]
    data = privacy_services.export_customer_data(store=staff.store, email=email)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    safe_name = "".join(c if c.isalnum() else "-" for c in email)[:80]
    response["Content-Disposition"] = (
        f'attachment; filename="personal-data-{staff.store.slug}-{safe_name}.json"'
    )
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store"
    return response


@require_POST
@staff_page(permission=Permission.EXPORT_DATA)
def erase(request: HttpRequest, staff: Staff) -> HttpResponse:
    form = EraseForm(request.POST)
    if not form.is_valid():
        email = str(request.POST.get("email", "")).strip().lower()
        lookup = LookupForm({"email": email})
        holdings = (
            privacy_selectors.holdings(store=staff.store, email=email)
            if lookup.is_valid()
            else None
        )
        return _page(request, staff, lookup=lookup, erase=form, holdings=holdings, email=email)
    email = form.cleaned_data["email"]
    result = privacy_services.erase_customer(
        store=staff.store,
        email=email,
        requested_by=request.user,  # type: ignore[arg-type]
    )
    if result.erased:
        messages.success(
            request,
            _(
                "Erased: %(rows)s records anonymised; order totals and counts are kept. Erase "
                "the person in WooCommerce too (Tools → Erase Personal Data), or the next sync "
                "brings their data back."
            )
            % {"rows": result.rows_changed},
        )
    else:
        messages.info(request, _("There was nothing left to erase for this email."))
    return redirect("dashboard:settings_privacy")


urlpatterns = [
    path("settings/privacy/", privacy_page, name="settings_privacy"),
    path("settings/privacy/export/", export, name="settings_privacy_export"),
    path("settings/privacy/erase/", erase, name="settings_privacy_erase"),
]
