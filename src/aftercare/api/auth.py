"""API authentication: `Authorization: Bearer <token>`; `request.auth` becomes the token's Store,
and every route reads through store-scoped selectors with it."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from aftercare.stores import selectors as store_selectors
from aftercare.stores.models import Store


class StoreToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Store | None:
        return store_selectors.store_for_token(token=token)


def store_of(request: HttpRequest) -> Store:
    """The store of the request's token (every authenticated route's first line)."""
    store = request.auth  # type: ignore[attr-defined]
    assert isinstance(store, Store)
    return store
