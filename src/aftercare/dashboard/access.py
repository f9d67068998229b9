"""Who is looking, at which store, with which rights — for every dashboard request.

    @staff_page(permission=Permission.MANAGE_SETTINGS)
    def settings_page(request: HttpRequest, staff: Staff) -> HttpResponse: ...

The current store lives in the session (the store switcher changes it). Objects in URLs are
looked up through store-scoped selectors with `staff.store`, so another store's object does not
exist for this user (404, never 403: no probing). A page the role may not open answers 403 with
a page that says so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aftercare.stores import permissions
from aftercare.stores import selectors as store_selectors
from aftercare.stores.models import StaffMembership, Store
from aftercare.stores.permissions import Permission

SESSION_STORE_KEY = "aftercare_store_id"


@dataclass(frozen=True)
class Staff:
    store: Store
    membership: StaffMembership
    permissions: frozenset[Permission]
    stores: list[Store]  # every store this user works on (the switcher)

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions


def current_staff(request: HttpRequest) -> Staff | None:
    """The signed-in user's current store and role, or None if they work on no store."""
    user_id = int(request.user.pk or 0)
    stores = list(store_selectors.stores_for_user(user_id=user_id).order_by("name", "id"))
    if not stores:
        return None
    wanted = request.session.get(SESSION_STORE_KEY)
    store = next((s for s in stores if s.pk == wanted), stores[0])
    membership = store_selectors.membership(user_id=user_id, store=store)
    assert membership is not None  # stores_for_user only lists stores with a membership
    membership.store = store
    return Staff(
        store=store,
        membership=membership,
        permissions=permissions.granted(membership=membership),
        stores=stores,
    )


def switch_store(request: HttpRequest, *, store_slug: str) -> bool:
    """Make `store_slug` the current store if the user works on it; False otherwise."""
    user_id = int(request.user.pk or 0)
    store = store_selectors.stores_for_user(user_id=user_id).filter(slug=store_slug).first()
    if store is None:
        return False
    request.session[SESSION_STORE_KEY] = store.pk
    return True


StaffView = Callable[..., HttpResponse]


def staff_page(*, permission: Permission | None = None) -> Callable[[StaffView], StaffView]:
    """Login required; passes `staff` to the view; 403 page when the role lacks `permission`."""

    def decorate(view: StaffView) -> StaffView:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = current_staff(request)
            if staff is None:
                return render(request, "dashboard/no_store.html", status=403)
            request.staff = staff  # type: ignore[attr-defined]  # read by the shell context
            if permission is not None and not staff.can(permission):
                return render(
                    request, "dashboard/forbidden.html", {"permission": permission}, status=403
                )
            return view(request, staff, *args, **kwargs)

        return wrapper

    return decorate
