"""API v1: one NinjaAPI, token auth on every route, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from ninja import NinjaAPI

from aftercare.api import errors, flows, messaging
from aftercare.api.auth import StoreToken
from aftercare.api.routes import router

api = NinjaAPI(
    title="Aftercare API",
    version="1",
    urls_namespace="api-v1",
    auth=StoreToken(),
    docs_url="/docs",
    description=(
        "The store mirror (orders, customers, products) and its event log. Authenticate with "
        "`Authorization: Bearer <token>` (`aftercare token create --store SLUG`); a token sees "
        "only its own store."
    ),
)
errors.install(api)
api.add_router("/", router)
api.add_router("/", flows.router)
api.add_router("/", messaging.router)
