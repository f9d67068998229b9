"""Parsing real WooCommerce REST objects (the store's own and the docs' examples)."""

from __future__ import annotations

import contextlib
import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercare.ingest import woo_mapping
from aftercare.ingest.woo_mapping import MappingError
from tests.shared_data import woo_json


def test_real_order() -> None:
    record = woo_mapping.parse_order(woo_json("order.json"))
    assert record.external_id == 14 and record.status == "completed"
    assert record.total == Decimal("53.15") and record.discount_total == Decimal("5.35")
    assert record.shipping_total == Decimal("5.00") and record.currency == "USD"
    assert record.date_created == datetime(2026, 11, 22, 7, 46, 16, tzinfo=UTC)
    assert record.date_paid is not None and record.date_completed is not None
    assert record.customer.email == "jane.buyer@example.com"
    assert record.customer.external_id == 2
    assert record.customer.phone == "555-0100"  # a fictional 555 number: kept as given
    assert record.coupon_codes == ["thankyou10"]
    assert record.meta == {"campaign": "spring"}
    assert record.customer_note == "Please gift wrap"
    assert [(r.external_id, r.amount) for r in record.refunds] == [(15, Decimal("5.00"))]
    line = record.lines[0]
    assert (line.name, line.sku, line.quantity) == ("Thank-You Mug", "MUG-001", 2)
    assert line.subtotal == Decimal("50.00") and line.total == Decimal("45.00")


def test_docs_order_example() -> None:
    record = woo_mapping.parse_order(woo_json("docs/order.json")["example"])
    assert record.lines and record.currency


def test_real_customer_product_coupon_review_refund() -> None:
    customer = woo_mapping.parse_customer(woo_json("customer.json"))
    assert customer.external_id == 2 and customer.identity.first_name == "Janet"
    product = woo_mapping.parse_product(woo_json("product.json"))
    assert product.sku == "MUG-001" and product.price == Decimal("19.99")
    assert product.categories[0].name == "Uncategorized"
    coupon = woo_mapping.parse_coupon(woo_json("coupon.json"))
    assert coupon.code == "thankyou10" and coupon.usage_limit == 100
    review = woo_mapping.parse_review(woo_json("product_review.json"))
    assert review.rating == 5 and review.verified
    refund = woo_mapping.parse_refund(woo_json("order_refund.json"))
    assert refund.amount == Decimal("5.00") and refund.lines == []


def test_guest_order_has_no_customer_id() -> None:
    order = copy.deepcopy(woo_json("order.json"))
    order["customer_id"] = 0
    assert woo_mapping.parse_order(order).customer.external_id is None


def test_consent_locale_and_birthday_from_meta() -> None:
    order = copy.deepcopy(woo_json("order.json"))
    order["meta_data"] += [
        {"id": 90, "key": "marketing_opt_in", "value": "yes"},
        {"id": 91, "key": "wpml_language", "value": "ko"},
        {"id": 92, "key": "billing_birthday", "value": "1990-04-02"},
    ]
    order["billing"]["country"] = "KR"
    order["billing"]["phone"] = "010-1234-5678"
    identity = woo_mapping.parse_order(order).customer
    assert identity.consent is True and "marketing_opt_in" in identity.consent_source
    assert identity.locale == "ko" and str(identity.birthday) == "1990-04-02"
    assert identity.phone == "+821012345678"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": "abc"}, "id"),
        ({"id": None}, "id"),
        ({"status": ""}, "status"),
        ({"currency": "dollars"}, "currency"),
        ({"total": "12,50"}, "total"),
        ({"date_created_gmt": "yesterday", "date_created": None}, "date_created"),
        ({"date_created_gmt": None, "date_created": None}, "date_created"),
        ({"line_items": "nope"}, "line_items"),
        ({"billing": "Jane"}, "billing"),
    ],
)
def test_bad_orders_say_what_is_wrong(change: dict, reason: str) -> None:
    order = copy.deepcopy(woo_json("order.json"))
    order.update(change)
    with pytest.raises(MappingError, match=reason):
        woo_mapping.parse_order(order)


def test_invalid_email_leaves_order_without_customer_email() -> None:
    order = copy.deepcopy(woo_json("order.json"))
    order["billing"]["email"] = "not an email"
    assert woo_mapping.parse_order(order).customer.email == ""


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_money_round_trips_through_strings(amount: Decimal) -> None:
    order = copy.deepcopy(woo_json("order.json"))
    order["total"] = str(amount)
    assert woo_mapping.parse_order(order).total == amount


@given(st.dictionaries(st.text(max_size=8), st.none() | st.integers() | st.text(max_size=8)))
def test_arbitrary_json_objects_never_crash_the_parser(payload: dict) -> None:
    with contextlib.suppress(MappingError):
        woo_mapping.parse_order(payload)
