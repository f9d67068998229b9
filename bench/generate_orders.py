"""Generate an NDJSON file of WooCommerce REST v3 order objects, shaped like `GET /wc/v3/orders`
(the real store's order.json): billing/shipping, line items with meta, coupons, refund summaries,
`_links`. Deterministic for a seed, so two benchmark runs import the same bytes.

    .venv/bin/python bench/generate_orders.py /tmp/orders.ndjson --orders 50000

The mix is a small shop's history: ~2.5 line items per order, repeat customers (by default
30 % as many distinct emails as orders, 40 % of them registered accounts), mostly completed
orders, some refunds, cancellations and coupons."""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_STATUSES = (
    ("completed", 80),
    ("processing", 7),
    ("cancelled", 3),
    ("refunded", 2),
    ("on-hold", 2),
    ("pending", 4),
    ("failed", 2),
)
_LINE_COUNTS = ((1, 30), (2, 25), (3, 20), (4, 15), (5, 10))  # mean 2.5
_COUNTRIES = ("US", "GB", "DE", "FR", "NL", "CA", "AU", "KR", "JP", "ES")
_FIRST = ("Jane", "John", "Ana", "Lee", "Mina", "Yuki", "Omar", "Eva", "Noah", "Iris", "Max")
_LAST = ("Buyer", "Smith", "Kim", "Sato", "Müller", "Dubois", "Garcia", "Jansen", "Brown")
_START = datetime(2023, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 3 * 365 * 86400


def _weighted(rng: random.Random, table: tuple[tuple[Any, int], ...], count: int) -> list[Any]:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table], k=count)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _products(rng: random.Random, count: int) -> list[tuple[int, str, str, int]]:
    """(product_id, name, sku, price in cents)."""
    return [
        (100 + i, f"Product {i} {rng.choice(('Mug', 'Tee', 'Cap', 'Sticker', 'Tote'))}",
         f"SKU-{i:05d}", rng.randrange(300, 12000, 5))
        for i in range(count)
    ]  # fmt: skip


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _order(
    rng: random.Random,
    *,
    order_id: int,
    created: datetime,
    line_id: int,
    lines: int,
    status: str,
    email_index: int,
    products: list[tuple[int, str, str, int]],
) -> tuple[dict[str, Any], int]:
    paid = created + timedelta(seconds=30) if status not in ("pending", "failed") else None
    completed = created + timedelta(days=2) if status in ("completed", "refunded") else None
    modified = (completed or paid or created) + timedelta(minutes=5)
    registered = email_index % 5 < 2
    first, last = _FIRST[email_index % len(_FIRST)], _LAST[email_index % len(_LAST)]
    country = _COUNTRIES[email_index % len(_COUNTRIES)]
    items = []
    subtotal = 0
    for _ in range(lines):
        product_id, name, sku, price = products[rng.randrange(len(products))]
        quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        amount = price * quantity
        subtotal += amount
        items.append(
            {"id": line_id, "name": name, "product_id": product_id, "variation_id": 0,
             "quantity": quantity, "tax_class": "", "subtotal": _money(amount),
             "subtotal_tax": "0.00", "total": _money(amount), "total_tax": "0.00", "taxes": [],
             "meta_data": [{"id": line_id * 3, "key": "_reduced_stock", "value": str(quantity),
                            "display_key": "_reduced_stock", "display_value": str(quantity)}],
             "sku": sku, "price": price / 100, "image": {"id": "", "src": ""},
             "parent_name": None}
        )  # fmt: skip
        line_id += 1
    coupons = []
    discount = 0
    if rng.random() < 0.1:
        discount = subtotal // 10
        coupons.append(
            {"id": line_id, "code": "thankyou10", "discount": _money(discount),
             "discount_tax": "0", "meta_data": [], "discount_type": "percent",
             "nominal_amount": 10, "free_shipping": False}
        )  # fmt: skip
        line_id += 1
    shipping = 500
    total = subtotal - discount + shipping
    refunds = []
    if status == "refunded":
        refunds.append({"id": line_id, "reason": "Returned", "total": "-" + _money(total)})
        line_id += 1
    elif status == "completed" and rng.random() < 0.05:
        refunds.append({"id": line_id, "reason": "Damaged", "total": "-" + _money(total // 4)})
        line_id += 1
    customer_id = email_index + 1 if registered else 0
    address = {
        "first_name": first, "last_name": last, "company": "", "address_1": "1 Main St",
        "address_2": "", "city": "Springfield", "state": "",
        "postcode": f"{email_index % 99999:05d}", "country": country,
    }  # fmt: skip
    order = {
        "id": order_id, "parent_id": 0, "status": status, "currency": "USD", "version": "10.0.2",
        "prices_include_tax": False, "date_created": _stamp(created),
        "date_modified": _stamp(modified), "discount_total": _money(discount),
        "discount_tax": "0.00", "shipping_total": _money(shipping), "shipping_tax": "0.00",
        "cart_tax": "0.00", "total": _money(total), "total_tax": "0.00",
        "customer_id": customer_id, "order_key": f"wc_order_{order_id:013d}",
        "billing": {**address, "email": f"customer{email_index}@example.com",
                    "phone": f"+1 415 555 {email_index % 10000:04d}"},
        "shipping": {**address, "phone": ""},
        "payment_method": "stripe", "payment_method_title": "Credit card",
        "transaction_id": f"ch_{order_id}", "customer_ip_address": "", "customer_user_agent": "",
        "created_via": "checkout", "customer_note": "", "cart_hash": "",
        "date_completed": _stamp(completed) if completed else None,
        "date_paid": _stamp(paid) if paid else None,
        "number": str(order_id),
        "meta_data": [{"id": order_id, "key": "_wc_order_attribution_source_type",
                       "value": "organic"}],
        "line_items": items, "tax_lines": [],
        "shipping_lines": [{"id": line_id, "method_title": "Flat Rate", "method_id": "flat_rate",
                            "instance_id": "", "total": _money(shipping), "total_tax": "0.00",
                            "taxes": [], "tax_status": "taxable", "meta_data": []}],
        "fee_lines": [], "coupon_lines": coupons, "refunds": refunds,
        "payment_url": "", "is_editable": False, "needs_payment": False,
        "needs_processing": True,
        "date_created_gmt": _stamp(created), "date_modified_gmt": _stamp(modified),
        "date_completed_gmt": _stamp(completed) if completed else None,
        "date_paid_gmt": _stamp(paid) if paid else None, "currency_symbol": "$",
        "_links": {"self": [{"href": f"https://shop.example/wp-json/wc/v3/orders/{order_id}"}],
                   "collection": [{"href": "https://shop.example/wp-json/wc/v3/orders"}]},
    }  # fmt: skip
    return order, line_id + 1


def generate(*, path: Path, orders: int, distinct_emails: int | None = None, seed: int = 7) -> int:
    """Write `orders` orders to `path`; returns the file size in bytes."""
    rng = random.Random(seed)
    emails = distinct_emails or max(1, orders * 3 // 10)
    products = _products(rng, 2000)
    line_id = 1
    chunk = 10_000
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, orders, chunk):
            count = min(chunk, orders - start)
            statuses = _weighted(rng, _STATUSES, count)
            line_counts = _weighted(rng, _LINE_COUNTS, count)
            rows = []
            for offset in range(count):
                order, line_id = _order(
                    rng,
                    order_id=start + offset + 1,
                    created=_START + timedelta(seconds=(start + offset) * _SPAN_SECONDS // orders),
                    line_id=line_id,
                    lines=line_counts[offset],
                    status=statuses[offset],
                    email_index=rng.randrange(emails),
                    products=products,
                )
                rows.append(json.dumps(order, separators=(",", ":")))
            out.write("\n".join(rows))
            out.write("\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=None, help="distinct customer emails")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    size = generate(path=args.path, orders=args.orders, distinct_emails=args.emails, seed=args.seed)
    seconds = time.perf_counter() - started
    print(f"{args.orders:,} orders, {size / 1e6:,.1f} MB in {seconds:.1f} s -> {args.path}")


if __name__ == "__main__":
    main()
