"""A planned demo order as the WooCommerce REST v3 order object (shared/data/woocommerce/
order.json): line items with their taxes and stock meta, shipping, tax and coupon lines, the
refunds summary, and the order meta plugins add (WPML language, the checkout's newsletter box,
WooCommerce's order attribution).

    payload = render_order(renderer=renderer, order=plan.orders[0])
    woo_mapping.parse_order(payload)

Totals hold exactly as in WooCommerce: total = sum of line subtotals - discount + shipping + tax.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from aftercare.demo.catalog_data import CURRENCY_SYMBOLS
from aftercare.demo.checkout import TAX_RATES
from aftercare.demo.history import PlannedOrder
from aftercare.demo.lifecycle import PAYMENT_METHODS
from aftercare.demo.payloads import SOLD, WOO_VERSION, Renderer, links, meta

_RATE_IDS = {key: index for index, key in enumerate(TAX_RATES, start=1)}
# Marks the history an order belongs to, so a second run with other parameters is refused.
DEMO_META_KEY = "_aftercare_demo"
_EDITABLE = frozenset({"pending", "on-hold", "checkout-draft"})


def transaction_id(*, order: PlannedOrder) -> str:
    """A gateway reference derived from the order key (stable for a seed, no extra randomness)."""
    digest = hashlib.sha256(order.order_key.encode()).hexdigest()
    if order.method == "stripe":
        return "ch_3" + digest[:24]
    if order.method == "ppcp-gateway":
        return digest[:17].upper()
    return ""


def coupon_info(*, coupon_id: int, code: str, discount_type: str, nominal: int | float) -> str:
    """WooCommerce 10's `coupon_info` line meta: `[id, code, type, nominal amount]`."""
    return json.dumps([coupon_id, code, discount_type, nominal], separators=(",", ":"))


def _line_items(renderer: Renderer, order: PlannedOrder, rate_id: int) -> list[dict[str, Any]]:
    plan, priced = renderer.plan, order.priced
    rate = priced.tax_rate
    items = []
    for item_id, line in zip(order.item_ids, priced.lines, strict=False):
        subtotal_tax = plan.shelf.money(line.subtotal * rate / 100)
        stock_meta = []
        if order.fate.status in SOLD:
            value = str(line.quantity)
            stock_meta = [
                {
                    "id": item_id * 10,
                    "key": "_reduced_stock",
                    "value": value,
                    "display_key": "_reduced_stock",
                    "display_value": value,
                },
            ]
        taxes = (
            [{"id": rate_id, "total": str(line.tax), "subtotal": str(subtotal_tax)}] if rate else []
        )
        items.append(
            {
                "id": item_id,
                "name": line.name,
                "product_id": plan.product_ids[line.sku],
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": renderer.money(line.subtotal),
                "subtotal_tax": renderer.money(subtotal_tax),
                "total": renderer.money(line.total),
                "total_tax": renderer.money(line.tax),
                "taxes": taxes,
                "meta_data": stock_meta,
                "sku": line.sku,
                "price": float(line.total) / line.quantity,  # WooCommerce sends a float here
                "image": {"id": "", "src": ""},
                "parent_name": None,
            }
        )
    return items


def _order_meta(order: PlannedOrder, marker: str) -> list[tuple[str, Any]]:
    person = order.shopper.person
    source_type, utm_source, device = order.attribution
    pairs: list[tuple[str, Any]] = [
        ("wpml_language", person.locale),
        ("timezone", person.place.time_zone),
        ("_wc_order_attribution_source_type", source_type),
        ("_wc_order_attribution_utm_source", utm_source),
        ("_wc_order_attribution_device_type", device),
    ]
    if order.opt_in is not None:
        pairs.append(("marketing_opt_in", "yes" if order.opt_in else "no"))
    pairs.append((DEMO_META_KEY, marker))
    return pairs


def render_order(*, renderer: Renderer, order: PlannedOrder) -> dict[str, Any]:
    plan, priced, fate, shopper = renderer.plan, order.priced, order.fate, order.shopper
    money = renderer.money
    place = shopper.person.place
    n_lines = len(priced.lines)
    next_item = iter(order.item_ids[n_lines:])
    rate_id = _RATE_IDS.get((place.country, place.state), 0)
    shipping_line = {
        "id": next(next_item),
        "method_title": priced.shipping.title,
        "method_id": priced.shipping.method_id,
        "instance_id": priced.shipping.instance_id,
        "total": money(priced.shipping.total),
        "total_tax": money(Decimal("0")),
        "taxes": [],
        "tax_status": "taxable",
        "meta_data": [],
    }
    tax_lines = []
    if priced.tax_rate:
        label = {"ON": "HST", "BC": "GST"}.get(place.state, "Sales tax")
        tax_lines.append(
            {
                "id": next(next_item),
                "rate_code": f"{place.country}-{place.state}-{label.upper().replace(' ', '')}-1",
                "rate_id": rate_id,
                "label": label,
                "compound": False,
                "tax_total": money(priced.cart_tax),
                "shipping_tax_total": money(Decimal("0")),
                "rate_percent": float(priced.tax_rate),
                "meta_data": [],
            }
        )
    coupon_lines = []
    if priced.coupon is not None:
        coupon = priced.coupon
        item_id = next(next_item)
        nominal = Decimal(coupon.amount)
        number: int | float = int(nominal) if nominal == nominal.to_integral() else float(nominal)
        info = coupon_info(
            coupon_id=plan.coupon_ids[coupon.code],
            code=coupon.code,
            discount_type=coupon.discount_type,
            nominal=number,
        )
        coupon_lines.append(
            {
                "id": item_id,
                "code": coupon.code,
                "discount": money(priced.discount),
                "discount_tax": "0",
                "meta_data": [
                    {
                        "id": item_id * 10,
                        "key": "coupon_info",
                        "value": info,
                        "display_key": "coupon_info",
                        "display_value": info,
                    },
                ],
                "discount_type": coupon.discount_type,
                "nominal_amount": number,
                "free_shipping": coupon.free_shipping,
            }
        )
    refunds = [
        {"id": refund_id, "reason": refund.reason, "total": f"-{money(refund.amount)}"}
        for refund_id, refund in sorted(
            zip(order.refund_ids, fate.refunds, strict=True), reverse=True, key=lambda p: p[0]
        )
    ]
    order_id = order.order_id
    customer_id = shopper.user_id if order.as_customer else 0
    extra_links = {"customer": f"{renderer.site}/wp-json/wc/v3/customers/{customer_id}"}
    return {
        "id": order_id,
        "parent_id": 0,
        "status": fate.status,
        "currency": plan.currency,
        "version": WOO_VERSION,
        "prices_include_tax": False,
        **renderer.dates("date_created", order.created),
        **renderer.dates("date_modified", fate.modified),
        "discount_total": money(priced.discount),
        "discount_tax": money(Decimal("0")),
        "shipping_total": money(priced.shipping.total),
        "shipping_tax": money(Decimal("0")),
        "cart_tax": money(priced.cart_tax),
        "total": money(priced.total),
        "total_tax": money(priced.cart_tax),
        "customer_id": customer_id,
        "order_key": order.order_key,
        "billing": renderer.address(shopper, with_email=True),
        "shipping": renderer.address(shopper, with_email=False),
        "payment_method": order.method,
        "payment_method_title": PAYMENT_METHODS[order.method],
        "transaction_id": transaction_id(order=order) if fate.paid else "",
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": "checkout",
        "customer_note": order.note,
        **renderer.dates("date_completed", fate.completed),
        **renderer.dates("date_paid", fate.paid),
        "cart_hash": "",
        "number": str(order_id),
        "meta_data": meta(order_id * 100, _order_meta(order, plan.marker)),
        "line_items": _line_items(renderer, order, rate_id),
        "tax_lines": tax_lines,
        "shipping_lines": [shipping_line],
        "fee_lines": [],
        "coupon_lines": coupon_lines,
        "refunds": refunds,
        "payment_url": (
            f"{renderer.site}/checkout/order-pay/{order_id}/"
            f"?pay_for_order=true&key={order.order_key}"
        ),
        "is_editable": fate.status in _EDITABLE,
        "needs_payment": fate.status in ("pending", "failed"),
        "needs_processing": True,
        "currency_symbol": CURRENCY_SYMBOLS.get(plan.currency, plan.currency),
        "_links": links(renderer.site, "orders", order_id, **(extra_links if customer_id else {})),
    }
