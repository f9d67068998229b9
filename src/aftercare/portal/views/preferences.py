"""Preferences (/c/<token>/preferences/) and unsubscribe (/c/<token>/unsubscribe/).

The unsubscribe URL is the one in `List-Unsubscribe` (RFC 8058): mail providers POST
`List-Unsubscribe=One-Click` to it with no cookie and no CSRF token, so it is csrf-exempt —
the signed token authenticates the request. A GET only shows a confirmation page: mail
scanners and link previews fetch links, and must not unsubscribe anyone."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt

from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.portal import masking, services
from aftercare.portal.forms import CHANNEL_LABELS, PreferencesForm
from aftercare.portal.page import portal_page, render_page
from aftercare.portal.selectors import PREFERENCES, PortalLink


@portal_page(purpose=PREFERENCES, methods=("GET", "HEAD", "POST"))
def preferences(request: HttpRequest, link: PortalLink) -> HttpResponse:
    customer, store = link.customer, link.store
    channels = consent.channels_for(customer=customer)
    current = {
        channel: consent.is_subscribed(
            store=store, state=consent.current_state(customer=customer, channel=channel)
        )
        for channel in channels
    }
    if request.method == "POST":
        form = PreferencesForm(request.POST, channels=channels)
        if form.is_valid():
            services.save_preferences(link=link, subscribed=form.subscribed())
            query = urlencode({"lang": request.LANGUAGE_CODE, "saved": "1"})
            return HttpResponseRedirect(f"{request.path}?{query}")
    else:
        form = PreferencesForm(initial={str(c): v for c, v in current.items()}, channels=channels)
    rows = [
        {
            "field": form[str(channel)],
            "label": CHANNEL_LABELS[channel],
            "address": masking.mask_email(customer.email)
            if channel is ConsentChannel.EMAIL
            else masking.mask_phone(customer.phone),
            "subscribed": current[channel],
        }
        for channel in channels
    ]
    return render_page(
        request,
        "portal/preferences.html",
        {"form": form, "rows": rows, "saved": request.GET.get("saved") == "1"},
        link=link,
    )


@csrf_exempt  # authenticated by the signed token; see the module docstring
@portal_page(purpose=PREFERENCES, methods=("GET", "HEAD", "POST"), expired_ok=True)
def unsubscribe(request: HttpRequest, link: PortalLink) -> HttpResponse:
    preferences_url = ""
    if not link.expired:
        preferences_url = reverse("portal:preferences", kwargs={"token": link.token})
    context = {"preferences_url": preferences_url}
    if request.method != "POST":
        return render_page(request, "portal/unsubscribe.html", context, link=link)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    if not one_click and request.POST.get("confirm") != "1":
        return render_page(request, "portal/unsubscribe.html", context, link=link, status=400)
    source = services.ONE_CLICK_SOURCE if one_click else services.UNSUBSCRIBE_PAGE_SOURCE
    services.unsubscribe(link=link, source=source)
    return render_page(request, "portal/unsubscribed.html", context, link=link)


urlpatterns = [
    path("<str:token>/preferences/", preferences, name="preferences"),
    path("<str:token>/unsubscribe/", unsubscribe, name="unsubscribe"),
]
