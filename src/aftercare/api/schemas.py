"""Response schemas of API v1 (the public contract: add fields, never rename or remove)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema


class StoreOut(Schema):
    slug: str
    name: str
    currency: str
    time_zone: str
    default_locale: str


class CustomerOut(Schema):
    id: int
    email: str
    external_id: int | None
    is_registered: bool
    first_name: str
    last_name: str
    phone: str
    locale: str
    time_zone: str
    birthday: date | None
    country: str
    marketing_consent: str
    consent_source: str
    consent_at: datetime | None
    first_seen_at: datetime | None
    deleted_at: datetime | None


class CustomerDetailOut(CustomerOut):
    order_count: int = 0
    total_spent: Decimal | None = None


class LineItemOut(Schema):
    external_id: int
    product_external_id: int | None
    variation_external_id: int | None
    name: str
    sku: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    total: Decimal
    total_tax: Decimal


class RefundOut(Schema):
    external_id: int
    amount: Decimal
    reason: str
    created_at: datetime | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    changed_at: datetime
    inferred: bool
    source: str


class OrderOut(Schema):
    id: int
    external_id: int
    number: str
    status: str
    currency: str
    customer_id: int | None
    billing_email: str
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    total_tax: Decimal
    total: Decimal
    refunded_total: Decimal
    billing_country: str
    billing_postcode: str
    shipping_country: str
    shipping_postcode: str
    customer_note: str
    created_via: str
    payment_method: str
    coupon_codes: list[str]
    source: str
    date_created: datetime
    date_paid: datetime | None
    date_completed: datetime | None
    date_modified: datetime
    deleted_at: datetime | None


class OrderDetailOut(OrderOut):
    meta: dict[str, Any]
    lines: list[LineItemOut]
    refunds: list[RefundOut]
    status_changes: list[StatusChangeOut]


class CategoryOut(Schema):
    external_id: int
    name: str
    slug: str


class ProductOut(Schema):
    id: int
    external_id: int
    parent_external_id: int | None
    type: str
    status: str
    sku: str
    name: str
    permalink: str
    price: Decimal
    regular_price: Decimal | None
    sale_price: Decimal | None
    categories: list[CategoryOut]
    images: list[dict[str, str]]
    upsell_ids: list[int]
    cross_sell_ids: list[int]
    stock_status: str


class EventOut(Schema):
    id: int
    type: str
    subject_type: str
    subject_id: int
    customer_id: int | None
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
