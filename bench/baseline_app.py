"""The "empty 200" baselines that bench/webhook_load.py compares the webhook receiver with, served
by the same gunicorn command line (`--pythonpath bench`):

    baseline_app:wsgi_empty       plain WSGI: read the body, answer 200 with no content
    baseline_app:django_empty()   the project's Django (settings, all middleware) routing the
                                  webhook URL to a view that reads the body and returns
                                  HttpResponse() — no signature check, no database

The gap between the two is Django's own cost per request; the gap between `django_empty()` and
the real receiver is what receiving a delivery costs (HMAC, JSON parse, one INSERT)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def wsgi_empty(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


@csrf_exempt
def empty_view(request: HttpRequest, store_slug: str) -> HttpResponse:
    request.body  # noqa: B018 - read it, as the receiver does
    return HttpResponse()


urlpatterns = [path("webhooks/woocommerce/<slug:store_slug>/", empty_view)]


def django_empty() -> Callable[..., Any]:
    """gunicorn app factory: the project's WSGI app with this module as ROOT_URLCONF."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = __name__
    return application
