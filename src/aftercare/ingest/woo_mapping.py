"""Pure parsing of WooCommerce REST v3 objects (webhook bodies are the same objects) into records
the mirror applies. No ORM, no I/O: every function here is safe to call on untrusted input and
raises `MappingError` with a reason a person can act on.

    record = parse_order(json.loads(delivery.body))
    mirror.apply_orders(store=store, records=[record], source="woocommerce")

The record types live in `woo_records`; they are importable from here too (callers parse and
apply in one breath).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from aftercare.core.clock import parse_gmt
from aftercare.core.money import InvalidAmount, to_decimal
from aftercare.ingest.time_zone_guess import guess_time_zone
from aftercare.ingest.woo_records import (
    CategoryRecord,
    CouponRecord,
    CustomerIdentity,
    CustomerRecord,
    DeletedRecord,
    LineRecord,
    OrderRecord,
    ProductRecord,
    RefundLineRecord,
    RefundRecord,
    ReviewRecord,
)


class MappingError(ValueError):
    """The object cannot be mirrored; `str()` says which field and why."""


# Order meta keys that plugins use to record a marketing opt-in at checkout. Values that mean
# yes/no are interpreted by `_consent_from_meta`.
CONSENT_META_KEYS = (
    "_marketing_consent",
    "marketing_consent",
    "marketing_opt_in",
    "_marketing_opt_in",
    "newsletter_opt_in",
    "kl_newsletter_checkbox",  # Klaviyo for WooCommerce
    "_mailchimp_woocommerce_is_subscribed",  # Mailchimp for WooCommerce
    "mailpoet_woocommerce_checkout_optin",  # MailPoet
    "_wc_terms_marketing",
)
LOCALE_META_KEYS = ("wpml_language", "_wpml_language", "trp_language", "pll_language", "locale")
BIRTHDAY_META_KEYS = ("birthday", "_birthday", "billing_birthday", "date_of_birth", "birth_date")
TIME_ZONE_META_KEYS = ("timezone", "time_zone", "_timezone")
_YES = {"1", "yes", "true", "on", "subscribed", "opt-in", "optin", "granted"}
_NO = {"0", "no", "false", "off", "unsubscribed", "opt-out", "optout", "denied"}


# ---------------------------------------------------------------------------------------------
# field readers


def _obj(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise MappingError(f"{what}: expected a JSON object, got {type(payload).__name__}")
    return payload


def _id(value: Any, what: str, *, required: bool = True) -> int | None:
    if value in (None, "", 0, "0") and not required:
        return None
    if isinstance(value, bool):
        raise MappingError(f"{what}: not an id: {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"{what}: not an id: {value!r}") from exc
    if number <= 0:
        if required:
            raise MappingError(f"{what}: must be a positive id, got {value!r}")
        return None
    return number


def _money(value: Any, what: str) -> Decimal:
    try:
        return to_decimal(value)
    except InvalidAmount as exc:
        raise MappingError(f"{what}: {exc}") from exc


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    return str(value).strip()[:limit]


def _when(payload: dict[str, Any], key: str, *, required: bool = False) -> datetime | None:
    """Prefer the `*_gmt` twin (UTC); the bare field is site-local time with no offset."""
    raw = payload.get(f"{key}_gmt") or payload.get(key)
    if raw in (None, ""):
        if required:
            raise MappingError(f"{key}_gmt: missing")
        return None
    if not isinstance(raw, str):
        raise MappingError(f"{key}_gmt: not a date: {raw!r}")
    try:
        return parse_gmt(raw)
    except ValueError as exc:
        raise MappingError(f"{key}_gmt: not a date: {raw!r}") from exc


def normalise_email(value: Any) -> str:
    """Lower-cased, stripped; "" when it is not an email address (the order is kept anyway)."""
    return _normalise_email(_text(value, 254))


@lru_cache(maxsize=65536)  # repeat customers: the same address is validated once per process
def _normalise_email(text: str) -> str:
    email = text.lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email


def normalise_phone(raw: Any, *, country: str) -> str:
    """E.164 when the number is valid (with the billing country as the region), else as given."""
    return _normalise_phone(_text(raw, 40), country)


@lru_cache(maxsize=65536)  # parsing a number costs ~100 µs; customers repeat
def _normalise_phone(text: str, country: str) -> str:
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _meta(payload: dict[str, Any]) -> dict[str, Any]:
    entries = payload.get("meta_data") or []
    if not isinstance(entries, list):
        raise MappingError("meta_data: expected a list")
    meta: dict[str, Any] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            meta[entry["key"]] = entry.get("value")
    return meta


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    for key in keys:
        if key in meta and meta[key] not in (None, ""):
            return key, meta[key]
    return None


def _consent_from_meta(meta: dict[str, Any]) -> tuple[bool | None, str]:
    found = _first(meta, CONSENT_META_KEYS)
    if found is None:
        return None, ""
    key, value = found
    text = str(value).strip().lower()
    if text in _YES:
        return True, f"woocommerce meta {key}"
    if text in _NO:
        return False, f"woocommerce meta {key}"
    return None, ""


def _birthday(meta: dict[str, Any]) -> date | None:
    found = _first(meta, BIRTHDAY_META_KEYS)
    if found is None:
        return None
    try:
        return date.fromisoformat(str(found[1])[:10])
    except ValueError:
        return None  # a plugin's odd format is not worth rejecting the order for


def _locale(meta: dict[str, Any]) -> str:
    found = _first(meta, LOCALE_META_KEYS)
    return _text(found[1], 10).replace("_", "-") if found else ""


def _identity(
    *, billing: dict[str, Any], external_id: int | None, meta: dict[str, Any], email: Any
) -> CustomerIdentity:
    country = _text(billing.get("country"), 2).upper()
    consent, consent_source = _consent_from_meta(meta)
    tz = _first(meta, TIME_ZONE_META_KEYS)
    phone = normalise_phone(billing.get("phone"), country=country)
    return CustomerIdentity(
        email=normalise_email(email),
        external_id=external_id,
        first_name=_text(billing.get("first_name"), 150),
        last_name=_text(billing.get("last_name"), 150),
        phone=phone,
        country=country,
        locale=_locale(meta),
        # What the shop says (a plugin's meta) wins; else a guess from the phone or country.
        time_zone=(_text(tz[1], 64) if tz else "") or guess_time_zone(phone=phone, country=country),
        birthday=_birthday(meta),
        consent=consent,
        consent_source=consent_source,
    )


# ---------------------------------------------------------------------------------------------
# resources


def parse_line(payload: Any) -> LineRecord:
    line = _obj(payload, "line_items[]")
    line_id = _id(line.get("id"), "line_items[].id")
    assert line_id is not None
    try:
        quantity = int(line.get("quantity") or 0)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"line {line_id}: quantity is not a number") from exc
    return LineRecord(
        external_id=line_id,
        product_external_id=_id(line.get("product_id"), "product_id", required=False),
        variation_external_id=_id(line.get("variation_id"), "variation_id", required=False),
        name=_text(line.get("name"), 300) or f"Product {line.get('product_id')}",
        sku=_text(line.get("sku"), 100),
        quantity=quantity,
        unit_price=_money(line.get("price"), f"line {line_id} price"),
        subtotal=_money(line.get("subtotal"), f"line {line_id} subtotal"),
        total=_money(line.get("total"), f"line {line_id} total"),
        total_tax=_money(line.get("total_tax"), f"line {line_id} total_tax"),
    )


def parse_refund(payload: Any) -> RefundRecord:
    """A refund: either the order's summary `{id, reason, total: "-5.00"}` or the full object of
    `GET /orders/<id>/refunds` (`amount`, `line_items` with negative quantities)."""
    refund = _obj(payload, "refund")
    refund_id = _id(refund.get("id"), "refunds[].id")
    assert refund_id is not None
    raw_amount = refund.get("amount", refund.get("total"))
    amount = abs(_money(raw_amount, f"refund {refund_id} amount"))
    lines: list[RefundLineRecord] | None = None
    if "line_items" in refund:
        lines = []
        for raw_item in refund.get("line_items") or []:
            item = _obj(raw_item, "refund line")
            meta = _meta(item)
            lines.append(
                RefundLineRecord(
                    line_external_id=_id(meta.get("_refunded_item_id"), "item", required=False),
                    quantity=abs(int(item.get("quantity") or 0)),
                    amount=abs(_money(item.get("total"), f"refund {refund_id} line total")),
                )
            )
    return RefundRecord(
        external_id=refund_id,
        amount=amount,
        reason=_text(refund.get("reason"), 2000),
        created_at=_when(refund, "date_created"),
        lines=lines,
    )


def parse_order(payload: Any) -> OrderRecord:
    order = _obj(payload, "order")
    external_id = _id(order.get("id"), "id")
    assert external_id is not None
    status = _text(order.get("status"), 32)
    if not status:
        raise MappingError(f"order {external_id}: status missing")
    currency = _text(order.get("currency"), 10).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise MappingError(
            f"order {external_id}: currency {order.get('currency')!r} is not ISO 4217"
        )
    billing = order.get("billing") or {}
    shipping = order.get("shipping") or {}
    if not isinstance(billing, dict) or not isinstance(shipping, dict):
        raise MappingError(f"order {external_id}: billing/shipping must be objects")
    items = order.get("line_items") or []
    if not isinstance(items, list):
        raise MappingError(f"order {external_id}: line_items must be a list")
    lines = [parse_line(item) for item in items]
    refunds_raw = order.get("refunds") or []
    if not isinstance(refunds_raw, list):
        raise MappingError(f"order {external_id}: refunds must be a list")
    meta = _meta(order)
    date_created = _when(order, "date_created", required=True)
    assert date_created is not None
    date_modified = _when(order, "date_modified") or date_created
    coupons = [
        _text(c.get("code"), 100) for c in order.get("coupon_lines") or [] if isinstance(c, dict)
    ]
    record = OrderRecord(
        external_id=external_id,
        number=_text(order.get("number"), 64) or str(external_id),
        status=status,
        currency=currency,
        customer=_identity(
            billing=billing,
            external_id=_id(order.get("customer_id"), "customer_id", required=False),
            meta=meta,
            email=billing.get("email"),
        ),
        subtotal=sum((line.subtotal for line in lines), start=Decimal("0.00")),
        discount_total=_money(order.get("discount_total"), "discount_total"),
        shipping_total=_money(order.get("shipping_total"), "shipping_total"),
        total_tax=_money(order.get("total_tax"), "total_tax"),
        total=_money(order.get("total"), "total"),
        billing_country=_text(billing.get("country"), 2).upper(),
        billing_postcode=_text(billing.get("postcode"), 20),
        shipping_country=_text(shipping.get("country"), 2).upper(),
        shipping_postcode=_text(shipping.get("postcode"), 20),
        customer_note=_text(order.get("customer_note"), 5000),
        created_via=_text(order.get("created_via"), 32),
        payment_method=_text(order.get("payment_method"), 64),
        coupon_codes=[code for code in coupons if code],
        meta=meta,
        date_created=date_created,
        date_paid=_when(order, "date_paid"),
        date_completed=_when(order, "date_completed"),
        date_modified=date_modified,
        lines=lines,
        refunds=[parse_refund(r) for r in refunds_raw],
    )
    record.content_hash = _digest(order, ("_links", "payment_url", "date_modified", "version"))
    return record


def _digest(payload: dict[str, Any], drop: tuple[str, ...]) -> str:
    kept = {k: v for k, v in payload.items() if k not in drop and not k.startswith("date_modified")}
    raw = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def parse_customer(payload: Any) -> CustomerRecord:
    customer = _obj(payload, "customer")
    external_id = _id(customer.get("id"), "id")
    assert external_id is not None
    billing = customer.get("billing") or {}
    if not isinstance(billing, dict):
        raise MappingError(f"customer {external_id}: billing must be an object")
    email = customer.get("email") or billing.get("email")
    identity = _identity(
        billing=billing, external_id=external_id, meta=_meta(customer), email=email
    )
    if not identity.email:
        raise MappingError(f"customer {external_id}: no valid email ({email!r})")
    # The account's own names win over the billing address's.
    identity.first_name = _text(customer.get("first_name"), 150) or identity.first_name
    identity.last_name = _text(customer.get("last_name"), 150) or identity.last_name
    return CustomerRecord(
        external_id=external_id,
        identity=identity,
        date_created=_when(customer, "date_created"),
        date_modified=_when(customer, "date_modified"),
        is_paying=bool(customer.get("is_paying_customer")),
    )


def parse_product(payload: Any) -> ProductRecord:
    product = _obj(payload, "product")
    external_id = _id(product.get("id"), "id")
    assert external_id is not None
    categories = []
    for raw_category in product.get("categories") or []:
        category = _obj(raw_category, "categories[]")
        category_id = _id(category.get("id"), "categories[].id")
        assert category_id is not None
        categories.append(
            CategoryRecord(
                external_id=category_id,
                name=_text(category.get("name"), 200),
                slug=_text(category.get("slug"), 200),
            )
        )
    images = [
        {"src": _text(image.get("src"), 500), "alt": _text(image.get("alt"), 300)}
        for image in product.get("images") or []
        if isinstance(image, dict) and image.get("src")
    ]
    return ProductRecord(
        external_id=external_id,
        parent_external_id=_id(product.get("parent_id"), "parent_id", required=False),
        type=_text(product.get("type"), 32) or "simple",
        status=_text(product.get("status"), 32) or "publish",
        sku=_text(product.get("sku"), 100),
        name=_text(product.get("name"), 300) or f"Product {external_id}",
        slug=_text(product.get("slug"), 300),
        permalink=_text(product.get("permalink"), 500),
        price=_money(product.get("price"), "price"),
        regular_price=_money(product["regular_price"], "regular_price")
        if product.get("regular_price") not in (None, "")
        else None,
        sale_price=_money(product["sale_price"], "sale_price")
        if product.get("sale_price") not in (None, "")
        else None,
        categories=categories,
        images=images,
        upsell_ids=[
            i
            for i in (_id(x, "upsell_ids", required=False) for x in product.get("upsell_ids") or [])
            if i
        ],
        cross_sell_ids=[
            i
            for i in (
                _id(x, "cross_sell_ids", required=False)
                for x in product.get("cross_sell_ids") or []
            )
            if i
        ],
        stock_status=_text(product.get("stock_status"), 32),
        date_modified=_when(product, "date_modified"),
    )


def parse_coupon(payload: Any) -> CouponRecord:
    coupon = _obj(payload, "coupon")
    external_id = _id(coupon.get("id"), "id")
    assert external_id is not None
    code = _text(coupon.get("code"), 100)
    if not code:
        raise MappingError(f"coupon {external_id}: code missing")
    limit = coupon.get("usage_limit")
    return CouponRecord(
        external_id=external_id,
        code=code,
        discount_type=_text(coupon.get("discount_type"), 32) or "fixed_cart",
        amount=_money(coupon.get("amount"), "amount"),
        date_expires=_when(coupon, "date_expires"),
        usage_count=int(coupon.get("usage_count") or 0),
        usage_limit=int(limit) if limit is not None and limit != "" else None,
        email_restrictions=[
            normalise_email(e) for e in coupon.get("email_restrictions") or [] if normalise_email(e)
        ],
        date_modified=_when(coupon, "date_modified"),
    )


def parse_review(payload: Any) -> ReviewRecord:
    review = _obj(payload, "review")
    external_id = _id(review.get("id"), "id")
    product_id = _id(review.get("product_id"), "product_id")
    assert external_id is not None and product_id is not None
    try:
        rating = max(0, min(5, int(review.get("rating") or 0)))
    except (TypeError, ValueError) as exc:
        raise MappingError(f"review {external_id}: rating is not a number") from exc
    return ReviewRecord(
        external_id=external_id,
        product_external_id=product_id,
        reviewer=_text(review.get("reviewer"), 200),
        reviewer_email=normalise_email(review.get("reviewer_email")),
        rating=rating,
        review=_text(review.get("review"), 20000),
        status=_text(review.get("status"), 16) or "approved",
        verified=bool(review.get("verified")),
        date_created=_when(review, "date_created"),
    )


def parse_deleted(payload: Any) -> DeletedRecord:
    body = _obj(payload, "deleted")
    external_id = _id(body.get("id"), "id")
    assert external_id is not None
    return DeletedRecord(
        external_id=external_id, extra={k: v for k, v in body.items() if k != "id"}
    )
