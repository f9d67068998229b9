"""The catalogue served by `tests.woo_server.WooServer`: N objects per resource, each a copy of a
real WooCommerce 10 REST object (../shared/data/woocommerce/*.json) with ids, emails, names and
dates varied, so every payload keeps the real shape (nesting, money as strings, *_gmt twins).

    data = ShopData.generate(orders=250, customers=40, products=20)
    data.orders[0]["id"], data.refunds[order_id]
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.shared_data import woo_json

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FORMAT = "%Y-%m-%dT%H:%M:%S"
STATUSES = ("completed", "processing", "completed", "on-hold", "completed", "refunded")

# First ids per resource: distinct ranges make a mixed-up id visible in a failing test.
FIRST_ID = {"products": 101, "customers": 1001, "orders": 5001, "coupons": 9001, "reviews": 7001}


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime(FORMAT)


def _set_dates(obj: dict[str, Any], *, created: datetime, modified: datetime | None) -> None:
    # The test shop runs in UTC, so the local fields equal their *_gmt twins.
    obj["date_created"] = obj["date_created_gmt"] = stamp(created)
    if modified is not None:
        obj["date_modified"] = obj["date_modified_gmt"] = stamp(modified)


def _relink(obj: dict[str, Any], base: str, route: str, object_id: int) -> None:
    links = obj.get("_links")
    if isinstance(links, dict):
        links["self"] = [{"href": f"{base}/wp-json/wc/v3/{route}/{object_id}"}]
        links["collection"] = [{"href": f"{base}/wp-json/wc/v3/{route}"}]


@dataclass
class ShopData:
    base: str = "http://127.0.0.1"
    products: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    coupons: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def generate(
        cls,
        *,
        orders: int = 0,
        customers: int = 0,
        products: int = 0,
        coupons: int = 0,
        reviews: int = 0,
        refund_every: int = 5,
        base: str = "http://127.0.0.1",
    ) -> ShopData:
        data = cls(base=base)
        for n in range(products):
            data.products.append(data._product(n))
        for n in range(customers):
            data.customers.append(data._customer(n))
        for n in range(orders):
            data.orders.append(data._order(n, refund_every=refund_every))
        for n in range(coupons):
            data.coupons.append(data._coupon(n))
        for n in range(reviews):
            data.reviews.append(data._review(n))
        return data

    def collection(self, resource: str) -> list[dict[str, Any]]:
        return {
            "products": self.products,
            "customers": self.customers,
            "orders": self.orders,
            "coupons": self.coupons,
            "products/reviews": self.reviews,
            "reviews": self.reviews,
        }[resource]

    # -- one object per resource, from the real template ----------------------------------------

    def _product(self, n: int) -> dict[str, Any]:
        obj = copy.deepcopy(woo_json("product.json"))
        pid = FIRST_ID["products"] + n
        obj.update(id=pid, name=f"Product {n}", slug=f"product-{n}", sku=f"SKU-{n:05d}")
        obj["permalink"] = f"{self.base}/product/product-{n}/"
        obj["related_ids"] = []
        created = EPOCH + timedelta(minutes=n)
        _set_dates(obj, created=created, modified=created + timedelta(minutes=3))
        _relink(obj, self.base, "products", pid)
        return obj

    def _customer(self, n: int) -> dict[str, Any]:
        obj = copy.deepcopy(woo_json("customer.json"))
        cid = FIRST_ID["customers"] + n
        email = f"customer{n}@example.com"
        obj.update(id=cid, email=email, username=f"customer{n}", first_name=f"Cust{n}")
        obj["billing"] = {**obj["billing"], "email": email, "first_name": f"Cust{n}"}
        created = EPOCH + timedelta(hours=1, minutes=n)
        _set_dates(obj, created=created, modified=created + timedelta(minutes=7))
        _relink(obj, self.base, "customers", cid)
        return obj

    def _order(self, n: int, *, refund_every: int) -> dict[str, Any]:
        obj = copy.deepcopy(woo_json("order.json"))
        oid = FIRST_ID["orders"] + n
        guest = n % 7 == 6 or not self.customers
        customer = None if guest else self.customers[n % len(self.customers)]
        email = customer["email"] if customer else f"guest{n}@example.com"
        obj.update(
            id=oid,
            number=str(oid),
            order_key=f"wc_order_test{oid:08d}",
            status=STATUSES[n % len(STATUSES)],
            customer_id=customer["id"] if customer else 0,
        )
        obj["billing"] = {**obj["billing"], "email": email}
        obj["payment_url"] = f"{self.base}/checkout/order-pay/{oid}/?pay_for_order=true"
        for offset, line in enumerate(obj["line_items"]):
            line["id"] = oid * 10 + offset
            if self.products:
                product = self.products[(n + offset) % len(self.products)]
                line.update(product_id=product["id"], name=product["name"], sku=product["sku"])
        for offset, other in enumerate(obj["shipping_lines"] + obj["coupon_lines"], start=5):
            other["id"] = oid * 10 + offset
        created = EPOCH + timedelta(hours=2, minutes=n)
        _set_dates(obj, created=created, modified=created + timedelta(minutes=10))
        for key in ("date_paid", "date_completed"):
            obj[key] = obj[f"{key}_gmt"] = stamp(created + timedelta(minutes=2))
        if refund_every and n % refund_every == refund_every - 1:
            refund = copy.deepcopy(woo_json("order_refund.json"))
            refund["id"] = 900_000 + n
            _set_dates(refund, created=created + timedelta(minutes=9), modified=None)
            _relink(refund, self.base, f"orders/{oid}/refunds", refund["id"])
            self.refunds[oid] = [refund]
            obj["refunds"] = [
                {"id": refund["id"], "reason": refund["reason"], "total": f"-{refund['amount']}"}
            ]
        else:
            obj["refunds"] = []
        _relink(obj, self.base, "orders", oid)
        return obj

    def _coupon(self, n: int) -> dict[str, Any]:
        obj = copy.deepcopy(woo_json("coupon.json"))
        cid = FIRST_ID["coupons"] + n
        obj.update(id=cid, code=f"thanks{n:04d}", used_by=[])
        created = EPOCH + timedelta(hours=3, minutes=n)
        _set_dates(obj, created=created, modified=created + timedelta(minutes=1))
        _relink(obj, self.base, "coupons", cid)
        return obj

    def _review(self, n: int) -> dict[str, Any]:
        obj = copy.deepcopy(woo_json("product_review.json"))
        rid = FIRST_ID["reviews"] + n
        product = self.products[n % len(self.products)] if self.products else None
        obj.update(id=rid, rating=1 + n % 5, review=f"Review number {n}.")
        obj["reviewer_email"] = f"customer{n}@example.com"
        if product is not None:
            obj.update(product_id=product["id"], product_name=product["name"])
        # Reviews have no modification date in WooCommerce, only date_created.
        _set_dates(obj, created=EPOCH + timedelta(hours=4, minutes=n), modified=None)
        _relink(obj, self.base, "products/reviews", rid)
        return obj
