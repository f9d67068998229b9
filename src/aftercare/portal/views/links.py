"""The fresh-link request of an expired page (/c/<token>/fresh/<purpose>/, POST with CSRF),
and the neutral answer to any other /c/ address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, re_path, reverse

from aftercare.core import signed_links
from aftercare.portal import services
from aftercare.portal.page import invalid_link_response, render_page, serve
from aftercare.portal.selectors import ORDER, PREFERENCES, PortalLink

PORTAL_PURPOSES = (PREFERENCES, ORDER)


def _send(request: HttpRequest, link: PortalLink) -> HttpResponse:
    if not link.expired:  # nothing to renew: go to the page itself
        page = reverse(signed_links.get_purpose(link.purpose).url_name, args=[link.token])
        return HttpResponseRedirect(page)
    outcome = services.request_fresh_link(link=link)
    minutes = None
    if outcome.retry_after is not None:
        minutes = max(1, -(-int(outcome.retry_after.total_seconds()) // 60))
    return render_page(
        request,
        "portal/fresh_link_sent.html",
        {"queued": outcome.queued, "retry_minutes": minutes},
        link=link,
    )


def fresh_link(request: HttpRequest, token: str, purpose: str) -> HttpResponse:
    if purpose not in PORTAL_PURPOSES:
        return invalid_link_response(request)
    return serve(
        request, purpose=purpose, token=token, view=_send, methods=("POST",), expired_ok=True
    )


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return invalid_link_response(request)


urlpatterns = [
    path("<str:token>/fresh/<slug:purpose>/", fresh_link, name="fresh_link"),
    # Last: any other /c/ address ending in "/" (others get APPEND_SLASH's redirect first).
    re_path(r"^(?P<rest>(?:.*/)?)$", not_found, name="not_found"),
]
