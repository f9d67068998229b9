"""The settings home: the store's name, sender identity, languages, time zone, marketing rules
(consent mode, frequency cap, quiet hours) and branding."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aftercare.core.errors import InvalidInput
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms.settings_general import StoreSettingsForm
from aftercare.dashboard.views.settings.tabs import settings_tabs
from aftercare.stores import settings_services
from aftercare.stores.permissions import Permission


@require_http_methods(["GET", "POST"])
@staff_page(permission=Permission.MANAGE_SETTINGS)
def general(request: HttpRequest, staff: Staff) -> HttpResponse:
    store = staff.store
    if request.method == "POST":
        form = StoreSettingsForm(request.POST)
        if form.is_valid():
            try:
                settings_services.update_store_settings(store=store, **form.cleaned_data)
            except InvalidInput as exc:
                field = exc.details.get("field")
                form.add_error(field if field in form.fields else None, str(exc))
            else:
                messages.success(request, _("Settings saved."))
                return redirect("dashboard:settings")
    else:
        form = StoreSettingsForm(initial=StoreSettingsForm.initial_for(store))
    return render(
        request,
        "dashboard/settings/general.html",
        {
            "form": form,
            "tabs": settings_tabs(staff=staff, current="general"),
            "time_zones": sorted(settings_services.time_zones()),
        },
    )


urlpatterns = [path("settings/", general, name="settings")]
