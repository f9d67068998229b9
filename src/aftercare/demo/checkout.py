"""What goes into a demo order and what it costs: basket (1-4 lines, cross-sells, a customer's
usual product, seasonal gifts), coupon, shipping and sales tax, with totals that add up the way
WooCommerce's do (sum of line subtotals - discount + shipping + tax = total, to the cent).

    shelf = Shelf(opened=..., anchor=..., currency="USD")
    basket = draw_basket(shelf=shelf, at=when, locale="ko", usual=None, rng=rng)
    priced = price_order(shelf=shelf, basket=basket, at=when, coupon=None, place=place)

Pure: time and randomness are parameters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from aftercare.demo.catalog_data import (
    PRODUCTS,
    ZERO_DECIMAL_CURRENCIES,
    CouponSpec,
    ProductSpec,
    price_in,
)
from aftercare.demo.people import Place

# Sales tax the shop collects (state-level rates, shipping untaxed); other countries: none.
TAX_RATES: dict[tuple[str, str], Decimal] = {
    ("US", "NY"): Decimal("8.875"),
    ("US", "MA"): Decimal("6.25"),
    ("US", "PA"): Decimal("6.0"),
    ("US", "IL"): Decimal("10.25"),
    ("US", "TX"): Decimal("8.25"),
    ("US", "CO"): Decimal("8.81"),
    ("US", "WA"): Decimal("10.25"),
    ("US", "CA"): Decimal("8.625"),
    ("CA", "ON"): Decimal("13.0"),
    ("CA", "BC"): Decimal("5.0"),
}
# (method id, title, WooCommerce zone instance, price in USD, free from a subtotal in USD)
_SHIPPING = {
    "US": ("flat_rate", "Flat rate", "1", "6.95", "50.00"),
    "CA": ("flat_rate", "Canada Post", "3", "12.00", "90.00"),
}
_INTERNATIONAL = ("flat_rate", "International shipping", "4", "18.00", "120.00")
SALE_DAYS = 21  # products with a sale price are on sale for the last three weeks


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    subtotal: Decimal  # quantity x unit price
    total: Decimal  # after the coupon's share
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Shipping:
    method_id: str
    title: str
    instance_id: str
    total: Decimal


@dataclass(frozen=True, slots=True)
class PricedOrder:
    lines: tuple[PricedLine, ...]
    coupon: CouponSpec | None
    discount: Decimal
    shipping: Shipping
    tax_rate: Decimal  # percent; 0 when no tax is collected
    cart_tax: Decimal
    total: Decimal

    @property
    def subtotal(self) -> Decimal:
        return sum((line.subtotal for line in self.lines), start=Decimal("0"))


class Shelf:
    """The catalogue as it stood at a moment: what was on sale, at which price."""

    def __init__(self, *, opened: datetime, anchor: datetime, currency: str) -> None:
        self.opened, self.anchor, self.currency = opened, anchor, currency
        self.specs = {spec.sku: spec for spec in PRODUCTS}
        self.quantum = Decimal("1") if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
        self.sale_from = anchor - timedelta(days=SALE_DAYS)

    def launched(self, spec: ProductSpec) -> datetime:
        return self.opened + timedelta(weeks=spec.launch_week)

    def available(self, spec: ProductSpec, at: datetime) -> bool:
        if at < self.launched(spec):
            return False
        return not spec.holiday_only or at.month in (11, 12)

    def unit_price(self, spec: ProductSpec, at: datetime) -> Decimal:
        usd = spec.sale_usd if spec.sale_usd and at >= self.sale_from else spec.usd
        return price_in(usd=usd, currency=self.currency)

    def money(self, value: Decimal) -> Decimal:
        return value.quantize(self.quantum, rounding=ROUND_HALF_UP)


def _weight(spec: ProductSpec, *, locale: str, at: datetime) -> float:
    weight = spec.popularity
    if spec.favoured_by == locale:
        weight *= 3.0
    if spec.category == "gifts" and at.month in (11, 12):
        weight *= 4.0
    return weight


def draw_basket(
    *, shelf: Shelf, at: datetime, locale: str, usual: str | None, rng: random.Random
) -> list[tuple[str, int]]:
    """[(sku, quantity)]: 1 to 4 distinct products. Returning customers often reorder their usual
    product; further lines often come from the cross-sells of what is already in the cart."""
    on_shelf = [spec for spec in shelf.specs.values() if shelf.available(spec, at)]
    weights = [_weight(spec, locale=locale, at=at) for spec in on_shelf]
    wanted = rng.choices((1, 2, 3, 4), weights=(52, 29, 13, 6))[0]
    chosen: list[ProductSpec] = []
    if usual is not None and rng.random() < 0.55 and shelf.available(shelf.specs[usual], at):
        chosen.append(shelf.specs[usual])
    for _ in range(wanted * 3):  # a few tries: duplicates are skipped
        if len(chosen) >= wanted:
            break
        pick: ProductSpec | None = None
        if chosen and rng.random() < 0.45:
            related = [
                shelf.specs[sku]
                for spec in chosen
                for sku in spec.cross_sells
                if shelf.available(shelf.specs[sku], at)
            ]
            pick = rng.choice(related) if related else None
        if pick is None:
            pick = rng.choices(on_shelf, weights=weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    basket = []
    for spec in chosen:
        if spec.consumable:
            quantity = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        else:
            quantity = 2 if rng.random() < 0.05 else 1
        basket.append((spec.sku, quantity))
    return basket


def pick_coupon(
    *,
    coupons: dict[str, tuple[CouponSpec, datetime]],
    at: datetime,
    first_order: bool,
    subtotal: Decimal,
    shelf: Shelf,
    rng: random.Random,
) -> CouponSpec | None:
    """At most one code per order (they are all individual-use), only once it exists."""

    def live(code: str) -> CouponSpec | None:
        spec, created = coupons[code]
        return spec if created <= at else None

    roll = rng.random()
    gift_season = (at.month == 11 and at.day >= 15) or at.month == 12
    if first_order and roll < 0.18:
        return live("welcome10")
    if gift_season and roll < 0.22:
        return live("holiday15")
    if not first_order and roll < 0.07:
        return live("thankyou10")
    minimum = price_in(usd=coupons["brewbetter5"][0].minimum_usd, currency=shelf.currency)
    if subtotal >= minimum and roll < 0.10:
        return live("brewbetter5")
    if roll < 0.115:
        return live("freeship")
    return None


def _split(amount: Decimal, *, weights: list[Decimal], shelf: Shelf) -> list[Decimal]:
    """`amount` shared in proportion to `weights`; rounding leftovers go to the largest share
    so the parts add up exactly."""
    whole = sum(weights, start=Decimal("0"))
    if not whole:
        return [Decimal("0") for _ in weights]
    parts = [shelf.money(amount * w / whole) for w in weights]
    largest = max(range(len(weights)), key=lambda i: weights[i])
    parts[largest] += amount - sum(parts, start=Decimal("0"))
    return parts


def price_order(
    *,
    shelf: Shelf,
    basket: list[tuple[str, int]],
    at: datetime,
    coupon: CouponSpec | None,
    place: Place,
) -> PricedOrder:
    specs = [shelf.specs[sku] for sku, _ in basket]
    subtotals = [
        shelf.money(shelf.unit_price(spec, at) * quantity)
        for spec, (_, quantity) in zip(specs, basket, strict=True)
    ]
    subtotal = sum(subtotals, start=Decimal("0"))
    discount = Decimal("0")
    if coupon is not None and coupon.discount_type == "percent":
        discount = shelf.money(subtotal * Decimal(coupon.amount) / 100)
    elif coupon is not None and coupon.discount_type == "fixed_cart":
        discount = min(subtotal, price_in(usd=coupon.amount, currency=shelf.currency))
    shares = _split(discount, weights=subtotals, shelf=shelf)
    rate = TAX_RATES.get((place.country, place.state), Decimal("0"))
    lines = []
    for spec, (_, quantity), line_subtotal, share in zip(
        specs, basket, subtotals, shares, strict=True
    ):
        total = line_subtotal - share
        lines.append(
            PricedLine(
                sku=spec.sku,
                name=spec.name,
                quantity=quantity,
                subtotal=line_subtotal,
                total=total,
                tax=shelf.money(total * rate / 100),
            )
        )
    method_id, title, instance, fee_usd, free_usd = _SHIPPING.get(place.country, _INTERNATIONAL)
    after_discount = subtotal - discount
    if (coupon is not None and coupon.free_shipping) or after_discount >= price_in(
        usd=free_usd, currency=shelf.currency
    ):
        shipping = Shipping("free_shipping", "Free shipping", "2", Decimal("0"))
    else:
        shipping = Shipping(
            method_id, title, instance, price_in(usd=fee_usd, currency=shelf.currency)
        )
    cart_tax = sum((line.tax for line in lines), start=Decimal("0"))
    return PricedOrder(
        lines=tuple(lines),
        coupon=coupon,
        discount=discount,
        shipping=shipping,
        tax_rate=rate,
        cart_tax=cart_tax,
        total=subtotal - discount + shipping.total + cart_tax,
    )
