"""The dashboard speaks the language each staff member chose (their profile), falling back to
the browser's (LocaleMiddleware, which runs before this)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from aftercare.stores import selectors as store_selectors


class StaffLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _is_dashboard(request):
            language = store_selectors.staff_language(user_id=int(user.pk))
            if language in self.languages:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


def _is_dashboard(request: HttpRequest) -> bool:
    return request.path.startswith("/dashboard/")
