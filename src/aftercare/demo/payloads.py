"""The demo plan rendered as WooCommerce REST v3 objects — the same JSON shapes the real store
returns (see shared/data/woocommerce/*.json), so the demo store goes through the parser and the
mirror exactly as a synced store does.

    render = Renderer(plan=plan, site="https://demo.aftercare.example", time_zone="UTC")
    products, customers = render.products(), render.customers()
    order_json = order_payloads.render_order(renderer=render, order=plan.orders[0])

Site-local dates (`date_created`) are in the store's time zone without an offset, as WooCommerce
sends them; the `*_gmt` twins are UTC. Money is a string with the currency's decimals, except a
line's `price`, which WooCommerce sends as a float.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.text import slugify

from aftercare.demo.catalog_data import (
    CATEGORIES,
    COUPONS,
    ZERO_DECIMAL_CURRENCIES,
    price_in,
)
from aftercare.demo.history import OPT_IN_OFFERED, DemoPlan, Shopper

WOO_VERSION = "10.0.2"
SOLD = frozenset({"processing", "completed", "on-hold", "refunded"})  # stock was reduced


def links(site: str, resource: str, object_id: int, **extra: str) -> dict[str, Any]:
    links: dict[str, Any] = {
        "self": [{"href": f"{site}/wp-json/wc/v3/{resource}/{object_id}"}],
        "collection": [{"href": f"{site}/wp-json/wc/v3/{resource}"}],
    }
    for name, href in extra.items():
        links[name] = [{"href": href}]
    return links


def meta(base: int, pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": base + i, "key": key, "value": value} for i, (key, value) in enumerate(pairs)]


class Renderer:
    def __init__(self, *, plan: DemoPlan, site: str, time_zone: str) -> None:
        self.plan, self.site, self.zone = plan, site.rstrip("/"), ZoneInfo(time_zone)
        self.places = 0 if plan.currency in ZERO_DECIMAL_CURRENCIES else 2
        self.sold: Counter[str] = Counter()
        self.coupon_uses: dict[str, list[str]] = {c.code: [] for c in COUPONS}
        self.coupon_last_use: dict[str, datetime] = {}
        for order in plan.orders:
            if order.fate.status in SOLD:
                for line in order.priced.lines:
                    self.sold[line.sku] += line.quantity
            coupon = order.priced.coupon
            if coupon is not None and order.fate.status not in ("failed", "cancelled"):
                who = order.shopper
                self.coupon_uses[coupon.code].append(
                    str(who.user_id) if order.as_customer else who.email
                )
                self.coupon_last_use[coupon.code] = order.created

    # -- formatting ------------------------------------------------------------------------

    def money(self, value: Decimal) -> str:
        return f"{value:.{self.places}f}"

    def dates(self, name: str, at: datetime | None) -> dict[str, str | None]:
        if at is None:
            return {name: None, f"{name}_gmt": None}
        return {
            name: at.astimezone(self.zone).replace(tzinfo=None).isoformat(timespec="seconds"),
            f"{name}_gmt": at.astimezone(ZoneInfo("UTC"))
            .replace(tzinfo=None)
            .isoformat(timespec="seconds"),
        }

    # -- catalogue -------------------------------------------------------------------------

    def products(self) -> list[dict[str, Any]]:
        shelf = self.plan.shelf
        names = {c.key: c for c in CATEGORIES}
        payloads = []
        for spec in shelf.specs.values():
            product_id = self.plan.product_ids[spec.sku]
            category = names[spec.category]
            slug = slugify(spec.name)
            regular = price_in(usd=spec.usd, currency=self.plan.currency)
            sale = (
                price_in(usd=spec.sale_usd, currency=self.plan.currency) if spec.sale_usd else None
            )
            created = shelf.launched(spec)
            in_season = not spec.holiday_only or self.plan.anchor.month in (11, 12)
            siblings = [
                self.plan.product_ids[other.sku]
                for other in shelf.specs.values()
                if other.category == spec.category and other.sku != spec.sku
            ][:5]
            payloads.append(
                {
                    "id": product_id,
                    "name": spec.name,
                    "slug": slug,
                    "permalink": f"{self.site}/product/{slug}/",
                    **self.dates("date_created", created),
                    **self.dates("date_modified", shelf.sale_from if sale else created),
                    "type": "simple",
                    "status": "publish",
                    "featured": spec.popularity >= 8,
                    "catalog_visibility": "visible",
                    "description": f"<p>{spec.description}</p>",
                    "short_description": f"<p>{spec.description}</p>",
                    "sku": spec.sku,
                    "price": self.money(sale or regular),
                    "regular_price": self.money(regular),
                    "sale_price": self.money(sale) if sale else "",
                    **self.dates("date_on_sale_from", shelf.sale_from if sale else None),
                    **self.dates("date_on_sale_to", None),
                    "on_sale": sale is not None,
                    "purchasable": True,
                    "total_sales": self.sold[spec.sku],
                    "virtual": False,
                    "downloadable": False,
                    "tax_status": "taxable",
                    "tax_class": "",
                    "manage_stock": False,  # roasted to order
                    "stock_quantity": None,
                    "backorders": "no",
                    "stock_status": "instock" if in_season else "outofstock",
                    "shipping_required": True,
                    "reviews_allowed": True,
                    "average_rating": "0",
                    "rating_count": 0,
                    "upsell_ids": [self.plan.product_ids[s] for s in spec.upsells],
                    "cross_sell_ids": [self.plan.product_ids[s] for s in spec.cross_sells],
                    "related_ids": siblings,
                    "parent_id": 0,
                    "categories": [
                        {
                            "id": self.plan.category_ids[category.key],
                            "name": category.name,
                            "slug": category.slug,
                        }
                    ],
                    "tags": [],
                    "images": [],
                    "attributes": [],
                    "variations": [],
                    "menu_order": 0,
                    "meta_data": [],
                    "_links": links(self.site, "products", product_id),
                }
            )
        return payloads

    def coupons(self) -> list[dict[str, Any]]:
        payloads = []
        for spec in COUPONS:
            coupon_id = self.plan.coupon_ids[spec.code]
            created = self.plan.coupon_created[spec.code]
            amount = (
                price_in(usd=spec.amount, currency=self.plan.currency)
                if spec.discount_type == "fixed_cart"
                else Decimal(spec.amount)
            )
            uses = self.coupon_uses[spec.code]
            payloads.append(
                {
                    "id": coupon_id,
                    "code": spec.code,
                    "amount": f"{amount:.2f}",
                    "status": "publish",
                    **self.dates("date_created", created),
                    **self.dates("date_modified", self.coupon_last_use.get(spec.code, created)),
                    "discount_type": spec.discount_type,
                    "description": spec.description,
                    **self.dates("date_expires", None),
                    "usage_count": len(uses),
                    "individual_use": True,
                    "product_ids": [],
                    "excluded_product_ids": [],
                    "usage_limit": None,
                    "usage_limit_per_user": 1 if spec.code == "welcome10" else None,
                    "limit_usage_to_x_items": None,
                    "free_shipping": spec.free_shipping,
                    "product_categories": [],
                    "excluded_product_categories": [],
                    "exclude_sale_items": False,
                    "minimum_amount": self.money(
                        price_in(usd=spec.minimum_usd, currency=self.plan.currency)
                    ),
                    "maximum_amount": self.money(Decimal("0")),
                    "email_restrictions": [],
                    "used_by": uses,
                    "meta_data": [],
                    "_links": links(self.site, "coupons", coupon_id),
                }
            )
        return payloads

    # -- people ----------------------------------------------------------------------------

    def address(self, shopper: Shopper, *, with_email: bool) -> dict[str, str]:
        person, place = shopper.person, shopper.person.place
        address = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company": person.company,
            "address_1": person.address_1,
            "address_2": person.address_2,
            "city": place.city,
            "state": place.state,
            "postcode": place.postcode,
            "country": place.country,
        }
        if with_email:
            address["email"] = shopper.email
            address["phone"] = person.phone
        else:
            address["phone"] = ""
        return address

    def customers(self) -> list[dict[str, Any]]:
        """Registered accounts, in the order they signed up."""
        last_seen: dict[int, datetime] = {}
        paying: set[int] = set()
        for order in self.plan.orders:
            if order.as_customer:
                last_seen[order.shopper.serial] = order.created
                if order.fate.paid is not None:
                    paying.add(order.shopper.serial)
        registered = sorted(
            (s for s in self.plan.shoppers if s.registered_at is not None), key=lambda s: s.user_id
        )
        payloads = []
        offered_from = self.plan.anchor - OPT_IN_OFFERED
        for shopper in registered:
            person = shopper.person
            assert shopper.registered_at is not None
            pairs: list[tuple[str, Any]] = [
                ("wpml_language", person.locale),
                ("timezone", person.place.time_zone),
            ]
            if person.birthday is not None:
                pairs.append(("birthday", person.birthday.isoformat()))
            if shopper.registered_at >= offered_from:
                pairs.append(("marketing_opt_in", "yes" if person.wants_newsletter else "no"))
            payloads.append(
                {
                    "id": shopper.user_id,
                    **self.dates("date_created", shopper.registered_at),
                    **self.dates(
                        "date_modified", last_seen.get(shopper.serial, shopper.registered_at)
                    ),
                    "email": shopper.email,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "role": "customer",
                    "username": shopper.email.partition("@")[0],
                    "billing": self.address(shopper, with_email=True),
                    "shipping": self.address(shopper, with_email=False),
                    "is_paying_customer": shopper.serial in paying,
                    "avatar_url": "",
                    "meta_data": meta(shopper.user_id * 10, pairs),
                    "_links": links(self.site, "customers", shopper.user_id),
                }
            )
        return payloads
