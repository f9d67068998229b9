"""API tokens (owners only): list, create (the token is shown once, on the response to the
create request, and never again: only its SHA-256 is stored), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftercare.core.errors import InvalidInput, NotFound
from aftercare.dashboard.access import Staff, staff_page
from aftercare.dashboard.forms.settings_tokens import TokenForm
from aftercare.dashboard.views.settings.tabs import settings_tabs
from aftercare.stores import settings_services
from aftercare.stores.permissions import Permission


@require_http_methods(["GET", "POST"])
@staff_page(permission=Permission.MANAGE_STAFF)
def token_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = settings_services.create_api_token(
                store=staff.store, name=form.cleaned_data["name"]
            )
        except InvalidInput as exc:
            form.add_error("name", str(exc))
        else:
            form = TokenForm()
    response = render(
        request,
        "dashboard/settings/tokens.html",
        {
            "tabs": settings_tabs(staff=staff, current="tokens"),
            "tokens": list(settings_services.api_tokens(store=staff.store)),
            "form": form,
            "issued": issued,
        },
    )
    if issued is not None:
        # The one page that carries the token: no browser or proxy keeps a copy.
        add_never_cache_headers(response)
        response["Cache-Control"] += ", no-store"
    return response


@require_POST
@staff_page(permission=Permission.MANAGE_STAFF)
def revoke(request: HttpRequest, staff: Staff, token_id: int) -> HttpResponse:
    try:
        token = settings_services.revoke_api_token(store=staff.store, token_id=token_id)
    except NotFound as exc:  # another store's token does not exist here
        raise Http404(str(exc)) from exc
    messages.success(
        request,
        _("Token %(prefix)s… is revoked: programs using it are refused from now on.")
        % {"prefix": token.prefix},
    )
    return redirect("dashboard:settings_tokens")


urlpatterns = [
    path("settings/tokens/", token_list, name="settings_tokens"),
    path("settings/tokens/<int:token_id>/revoke/", revoke, name="settings_tokens_revoke"),
]
