"""Which store a staff request may see. A store the user is not a member of does not exist for
them (404, never 403: no probing for other stores' slugs)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from aftercare.stores import selectors as store_selectors
from aftercare.stores.models import StaffMembership, Store


def store_for_request(request: HttpRequest, *, store_slug: str) -> tuple[Store, StaffMembership]:
    store = (
        store_selectors.stores_for_user(user_id=int(request.user.pk or 0))
        .filter(slug=store_slug)
        .first()
    )
    if store is None:
        raise Http404("no such store")
    membership = store_selectors.membership(user_id=int(request.user.pk or 0), store=store)
    assert membership is not None
    return store, membership
