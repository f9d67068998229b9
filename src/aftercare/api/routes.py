"""API v1 routes: parse, make one selector call, return. No business logic here.

(No `from __future__ import annotations`: django-ninja resolves `Query[...]` at import time.)"""

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aftercare.api import schemas
from aftercare.api.auth import store_of
from aftercare.catalog import selectors as catalog_selectors
from aftercare.customers import selectors as customer_selectors
from aftercare.events import selectors as event_selectors
from aftercare.orders import selectors as order_selectors
from aftercare.stores.models import Store

router = Router()


@router.get("/store", response=schemas.StoreOut, tags=["store"])
def current_store(request: HttpRequest) -> Store:
    """The store this token belongs to."""
    return store_of(request)


class OrderFilters(Schema):
    external_id: int | None = None
    number: str | None = None
    status: str | None = None
    customer_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@router.get("/orders", response=list[schemas.OrderOut], tags=["orders"])
@paginate(LimitOffsetPagination)
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> QuerySet:  # type: ignore[type-arg]
    """Orders, newest first. `external_id` is the shop's order id."""
    return order_selectors.orders_for_store(store=store_of(request), **filters.dict())


@router.get("/orders/{order_id}", response=schemas.OrderDetailOut, tags=["orders"])
def get_order(request: HttpRequest, order_id: int) -> object:
    return order_selectors.get_order(store=store_of(request), order_id=order_id)


class CustomerFilters(Schema):
    email: str | None = None
    search: str | None = None
    external_id: int | None = None


@router.get("/customers", response=list[schemas.CustomerOut], tags=["customers"])
@paginate(LimitOffsetPagination)
def list_customers(request: HttpRequest, filters: Query[CustomerFilters]) -> QuerySet:  # type: ignore[type-arg]
    """Customers, newest first. `email` matches exactly (case-insensitive)."""
    return customer_selectors.customers_for_store(store=store_of(request), **filters.dict())


@router.get("/customers/{customer_id}", response=schemas.CustomerDetailOut, tags=["customers"])
def get_customer(request: HttpRequest, customer_id: int) -> object:
    return customer_selectors.get_customer(store=store_of(request), customer_id=customer_id)


class ProductFilters(Schema):
    sku: str | None = None
    external_id: int | None = None


@router.get("/products", response=list[schemas.ProductOut], tags=["products"])
@paginate(LimitOffsetPagination)
def list_products(request: HttpRequest, filters: Query[ProductFilters]) -> QuerySet:  # type: ignore[type-arg]
    return catalog_selectors.products_for_store(store=store_of(request), **filters.dict())


@router.get("/products/{product_id}", response=schemas.ProductOut, tags=["products"])
def get_product(request: HttpRequest, product_id: int) -> object:
    return catalog_selectors.get_product(store=store_of(request), product_id=product_id)


class EventFilters(Schema):
    type: str | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    customer_id: int | None = None
    since: datetime | None = None


@router.get("/events", response=list[schemas.EventOut], tags=["events"])
@paginate(LimitOffsetPagination)
def list_events(request: HttpRequest, filters: Query[EventFilters]) -> QuerySet:  # type: ignore[type-arg]
    """The event log, newest first. `type` may end in `*` (`order.*`)."""
    return event_selectors.events_for_store(store=store_of(request), **filters.dict())
