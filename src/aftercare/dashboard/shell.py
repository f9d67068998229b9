"""What every dashboard page's layout needs: the current store, the store switcher, the side
navigation (built-in items plus those other modules register in `core.slots`), the languages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from aftercare.core import slots


def shell_context(request: HttpRequest) -> dict[str, Any]:
    staff = getattr(request, "staff", None)
    if staff is None:
        return {"languages": settings.LANGUAGES}
    nav = []
    for item in slots.nav_items():
        if item.permission and not staff.can(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # a module registered an item for a page it does not route
            continue
        active = request.path == url or (
            url != reverse("dashboard:overview") and request.path.startswith(url)
        )
        nav.append({"item": item, "url": url, "active": active})
    return {"staff": staff, "nav": nav, "languages": settings.LANGUAGES}
