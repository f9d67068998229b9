"""The records the mirror applies: what `woo_mapping` makes of WooCommerce REST objects, and
what any other source (file import, demo) produces the same way. Plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class CustomerIdentity:
    """Who placed an order, as far as the order itself tells."""

    email: str  # normalised; "" when the order has no usable email
    external_id: int | None  # WooCommerce user id; None for guests
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    country: str = ""
    locale: str = ""
    time_zone: str = ""
    birthday: date | None = None
    consent: bool | None = None  # None: the order says nothing about consent
    consent_source: str = ""


@dataclass(slots=True)
class LineRecord:
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


@dataclass(slots=True)
class RefundLineRecord:
    line_external_id: int | None
    quantity: int
    amount: Decimal


@dataclass(slots=True)
class RefundRecord:
    external_id: int
    amount: Decimal  # positive
    reason: str
    created_at: datetime | None = None
    lines: list[RefundLineRecord] | None = None  # None: only the order's summary was seen


@dataclass(slots=True)
class OrderRecord:
    external_id: int
    number: str
    status: str
    currency: str
    customer: CustomerIdentity
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    total_tax: Decimal
    total: Decimal
    billing_country: str
    billing_postcode: str
    shipping_country: str
    shipping_postcode: str
    customer_note: str
    created_via: str
    payment_method: str
    coupon_codes: list[str]
    meta: dict[str, Any]
    date_created: datetime
    date_paid: datetime | None
    date_completed: datetime | None
    date_modified: datetime
    lines: list[LineRecord]
    refunds: list[RefundRecord]
    # A digest of what we mirror: equal timestamps with different content still get applied.
    content_hash: str = ""


@dataclass(slots=True)
class CustomerRecord:
    external_id: int
    identity: CustomerIdentity
    date_created: datetime | None
    date_modified: datetime | None
    is_paying: bool = False


@dataclass(slots=True)
class CategoryRecord:
    external_id: int
    name: str
    slug: str


@dataclass(slots=True)
class ProductRecord:
    external_id: int
    parent_external_id: int | None
    type: str
    status: str
    sku: str
    name: str
    slug: str
    permalink: str
    price: Decimal
    regular_price: Decimal | None
    sale_price: Decimal | None
    categories: list[CategoryRecord]
    images: list[dict[str, str]]
    upsell_ids: list[int]
    cross_sell_ids: list[int]
    stock_status: str
    date_modified: datetime | None


@dataclass(slots=True)
class CouponRecord:
    external_id: int
    code: str
    discount_type: str
    amount: Decimal
    date_expires: datetime | None
    usage_count: int
    usage_limit: int | None
    email_restrictions: list[str]
    date_modified: datetime | None


@dataclass(slots=True)
class ReviewRecord:
    external_id: int
    product_external_id: int
    reviewer: str
    reviewer_email: str
    rating: int
    review: str
    status: str
    verified: bool
    date_created: datetime | None


@dataclass(slots=True)
class DeletedRecord:
    """`*.deleted` bodies are only `{"id": N}`, and may name another resource type (SPEC §4)."""

    external_id: int
    extra: dict[str, Any] = field(default_factory=dict)
