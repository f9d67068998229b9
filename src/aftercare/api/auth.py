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
