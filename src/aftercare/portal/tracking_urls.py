"""Open pixel and click redirects of messages, mounted at /m/ (see aftercare.urls).

    /m/c/<token>/<position>/<signature>   → 302 to the link stored with the message
    /m/o/<token>/<signature>.gif          → a 1x1 transparent GIF

Anything not signed by us, or naming a link the message does not have, is a plain 404: the
redirect only ever goes to a URL we rendered into that message (no open redirect)."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aftercare.messaging import tracking

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_GET
def click(request: HttpRequest, token: str, index: int, signature: str) -> HttpResponse:
    message = tracking.resolve_click(token=token, index=index, signature=signature)
    if message is None:
        raise Http404
    target = tracking.record_click(
        message=message, index=index, user_agent=request.headers.get("User-Agent", "")
    )
    response = HttpResponseRedirect(target)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def open_pixel(request: HttpRequest, token: str, signature: str) -> HttpResponse:
    message = tracking.resolve_open(token=token, signature=signature)
    if message is not None:
        tracking.record_open(message=message, user_agent=request.headers.get("User-Agent", ""))
    # The same image whatever happened: a pixel never tells a prober what it found.
    return HttpResponse(PIXEL, content_type="image/gif")


app_name = "tracking"
urlpatterns = [
    path("c/<str:token>/<int:index>/<str:signature>", click, name="click"),
    path("o/<str:token>/<str:signature>.gif", open_pixel, name="open"),
]
