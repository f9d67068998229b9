"""Two years of a shop's life, planned in memory: who its customers are, when each of them buys
(a BG/NBD process thinned by the seasons, first purchases spread over the two years with growing
acquisition), what they buy and what became of each order — then the ids WooCommerce would have
given every product, coupon, order and refund.

    plan = plan_history(customers=1500, seed=42, anchor=anchor, currency="USD")
    len(plan.orders), plan.orders[-1].fate.status

Pure and deterministic: the same (customers, seed, anchor, currency) gives the same plan. Each
customer draws from their own random stream, so the first 300 customers of a 1,500-customer
store are the same people as in a 300-customer store.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from aftercare.demo import bgnbd, seasons
from aftercare.demo.catalog_data import CATEGORIES, COUPONS, PRODUCTS, CouponSpec
from aftercare.demo.checkout import PricedOrder, Shelf, draw_basket, pick_coupon, price_order
from aftercare.demo.lifecycle import Fate, draw_fate, draw_payment_method, failed_attempt
from aftercare.demo.people import Person, draw_person, unique_email

HISTORY = timedelta(weeks=104)
GUEST_SHARE = 0.35  # buyers who never open an account
LATE_SIGN_UP = 0.15  # of account holders: checked out as a guest first, registered next time
ACCOUNT_ONLY = 0.05  # signed up but never ordered
FAILED_CARD = 0.03  # a declined attempt just before the order that went through
OPT_IN_OFFERED = timedelta(weeks=40)  # the checkout's newsletter box exists for the last 40 weeks
FIRST_CATEGORY_ID = 16  # WooCommerce term ids; 15 is "Uncategorized"
FIRST_USER_ID = 2  # 1 is the shop's administrator
_NOTES = (
    "Please leave the parcel with the concierge.",
    "It's a gift — please don't include the receipt.",
    "Leave at the back door, thanks!",
    "부재 시 문 앞에 놓아주세요.",
    "置き配を希望します。",
    "Whole beans please, not ground.",
)


@dataclass(slots=True)
class Shopper:
    serial: int
    person: Person
    email: str
    purchases: list[datetime]
    registered_at: datetime | None  # None: a guest
    user_id: int = 0


@dataclass(slots=True)
class PlannedOrder:
    shopper: Shopper
    created: datetime
    priced: PricedOrder
    method: str
    fate: Fate
    as_customer: bool  # placed while logged in (customer_id set)
    opt_in: bool | None  # None: the newsletter box was not on the checkout yet
    note: str
    order_key: str
    attribution: tuple[str, str, str]  # (source type, utm source, device)
    order_id: int = 0
    refund_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)  # lines, shipping, tax, coupon


@dataclass(slots=True)
class DemoPlan:
    marker: str  # "seed=42 customers=1500 anchor=…": which history this is
    anchor: datetime
    opened: datetime
    currency: str
    shelf: Shelf
    shoppers: list[Shopper]
    orders: list[PlannedOrder]  # by creation time
    category_ids: dict[str, int]
    product_ids: dict[str, int]
    coupon_ids: dict[str, int]
    coupon_created: dict[str, datetime]


def _whole_seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def _purchase_times(*, start: datetime, anchor: datetime, rng: random.Random) -> list[datetime]:
    first = seasons.draw_acquisition(start=start, end=anchor, rng=rng)
    end_weeks = (anchor - start) / timedelta(weeks=1)
    weeks = bgnbd.simulate_purchases(
        params=bgnbd.CDNOW,
        first=(first - start) / timedelta(weeks=1),
        end=end_weeks,
        rng=rng,
        weight=lambda t: seasons.seasonal_weight(at=start + timedelta(weeks=t)),
        weight_max=seasons.WEIGHT_MAX,
    )
    return [start + timedelta(weeks=w) for w in weeks]


def _shopper(
    *, serial: int, seed: int, start: datetime, anchor: datetime, taken: set[str]
) -> Shopper:
    rng = random.Random(f"{seed}:shopper:{serial}")
    person = draw_person(rng=rng, today=anchor.date())
    email = unique_email(email=person.email, taken=taken)
    zone = ZoneInfo(person.place.time_zone)
    if rng.random() < ACCOUNT_ONLY:
        signed_up = _whole_seconds(seasons.draw_acquisition(start=start, end=anchor, rng=rng))
        return Shopper(serial, person, email, [], signed_up)
    purchases = sorted(
        _whole_seconds(seasons.local_checkout_time(at=at, zone=zone, rng=rng, not_after=anchor))
        for at in _purchase_times(start=start, anchor=anchor, rng=rng)
    )
    registered_at: datetime | None = None
    if rng.random() >= GUEST_SHARE:
        late = len(purchases) > 1 and rng.random() < LATE_SIGN_UP
        registered_at = purchases[1 if late else 0] - timedelta(seconds=rng.randint(40, 400))
    return Shopper(serial, person, email, purchases, registered_at)


def _attribution(rng: random.Random, *, returning: bool) -> tuple[str, str, str]:
    device = rng.choices(("Mobile", "Desktop", "Tablet"), weights=(58, 36, 6))[0]
    if returning and rng.random() < 0.4:
        return "utm", "newsletter", device
    kind = rng.choices(("organic", "typein", "referral", "utm"), weights=(40, 30, 12, 18))[0]
    source = {
        "organic": rng.choice(("google", "google", "bing", "naver", "yahoo")),
        "typein": "(direct)",
        "referral": rng.choice(("instagram.com", "reddit.com", "pinterest.com")),
        "utm": rng.choice(("instagram", "facebook", "google-ads")),
    }[kind]
    return kind, source, device


def _orders_of(
    *,
    shopper: Shopper,
    seed: int,
    shelf: Shelf,
    coupons: dict[str, tuple[CouponSpec, datetime]],
) -> list[PlannedOrder]:
    rng = random.Random(f"{seed}:orders:{shopper.serial}")
    person, anchor = shopper.person, shelf.anchor
    orders: list[PlannedOrder] = []
    usual: str | None = None
    for number, created in enumerate(shopper.purchases):
        basket = draw_basket(shelf=shelf, at=created, locale=person.locale, usual=usual, rng=rng)
        usual = usual or basket[0][0]
        plain = price_order(shelf=shelf, basket=basket, at=created, coupon=None, place=person.place)
        coupon = pick_coupon(
            coupons=coupons,
            at=created,
            first_order=number == 0,
            subtotal=plain.subtotal,
            shelf=shelf,
            rng=rng,
        )
        priced = price_order(
            shelf=shelf, basket=basket, at=created, coupon=coupon, place=person.place
        )
        method = draw_payment_method(country=person.place.country, rng=rng)
        line_amounts = [line.total + line.tax for line in priced.lines]
        fate = draw_fate(
            created=created,
            anchor=anchor,
            method=method,
            total=priced.total,
            line_amounts=line_amounts,
            quantum=shelf.quantum,
            rng=rng,
        )
        offered = created >= anchor - OPT_IN_OFFERED
        order = PlannedOrder(
            shopper=shopper,
            created=created,
            priced=priced,
            method=method,
            fate=fate,
            as_customer=shopper.registered_at is not None and shopper.registered_at <= created,
            opt_in=(person.wants_newsletter or rng.random() < 0.05) if offered else None,
            note=rng.choice(_NOTES) if rng.random() < 0.05 else "",
            order_key=_order_key(rng),
            attribution=_attribution(rng, returning=number > 0),
        )
        if method in ("stripe", "ppcp-gateway") and rng.random() < FAILED_CARD:
            tried = created - timedelta(seconds=rng.randint(90, 900))
            orders.append(
                replace(
                    order,
                    created=tried,
                    fate=failed_attempt(created=tried),
                    order_key=_order_key(rng),
                    refund_ids=[],
                    item_ids=[],
                )
            )
        orders.append(order)
    return orders


def _order_key(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "wc_order_" + "".join(rng.choices(alphabet, k=13))


def _allocate_ids(plan: DemoPlan) -> None:
    """WooCommerce numbers products, coupons, orders and refunds from one sequence (they are all
    posts), in the order they were created; order items and users have sequences of their own."""
    posts: list[tuple[datetime, int, int, Callable[[int], None]]] = []
    for rank, spec in enumerate(PRODUCTS):
        posts.append(
            (plan.shelf.launched(spec), 0, rank, partial(plan.product_ids.__setitem__, spec.sku))
        )
    for rank, (code, created) in enumerate(plan.coupon_created.items()):
        posts.append((created, 1, rank, partial(plan.coupon_ids.__setitem__, code)))
    for rank, order in enumerate(plan.orders):
        posts.append((order.created, 2, rank, partial(setattr, order, "order_id")))
        for refund in order.fate.refunds:
            posts.append((refund.at, 3, rank, order.refund_ids.append))
    posts.sort(key=lambda post: post[:3])
    for post_id, (*_, assign) in enumerate(posts, start=10):  # a few pages and posts came first
        assign(post_id)
    item_id = 1
    for order in plan.orders:
        count = len(order.priced.lines) + 1 + (1 if order.priced.tax_rate else 0)
        count += 1 if order.priced.coupon else 0
        order.item_ids = list(range(item_id, item_id + count))
        item_id += count
    registered = sorted(
        (s for s in plan.shoppers if s.registered_at is not None),
        key=lambda s: (s.registered_at, s.serial),
    )
    for user_id, shopper in enumerate(registered, start=FIRST_USER_ID):
        shopper.user_id = user_id


def history_marker(*, seed: int, customers: int, anchor: datetime) -> str:
    """Names a history: orders carry it, so a run with other parameters can be refused."""
    return f"seed={seed} customers={customers} anchor={_whole_seconds(anchor).isoformat()}"


def plan_history(*, customers: int, seed: int, anchor: datetime, currency: str) -> DemoPlan:
    """The whole history up to `anchor` (aware), in memory (see the module docstring)."""
    if customers < 0:
        raise ValueError("customers must not be negative")
    anchor = _whole_seconds(anchor)
    start = anchor - HISTORY
    opened = start - timedelta(days=10)
    shelf = Shelf(opened=opened, anchor=anchor, currency=currency)
    coupon_created = {c.code: opened + timedelta(weeks=c.created_week) for c in COUPONS}
    coupons = {c.code: (c, coupon_created[c.code]) for c in COUPONS}
    taken: set[str] = set()
    shoppers = [
        _shopper(serial=serial, seed=seed, start=start, anchor=anchor, taken=taken)
        for serial in range(customers)
    ]
    orders = [
        order
        for shopper in shoppers
        for order in _orders_of(shopper=shopper, seed=seed, shelf=shelf, coupons=coupons)
    ]
    orders.sort(key=lambda o: (o.created, o.shopper.serial))
    plan = DemoPlan(
        marker=history_marker(seed=seed, customers=customers, anchor=anchor),
        anchor=anchor,
        opened=opened,
        currency=currency,
        shelf=shelf,
        shoppers=shoppers,
        orders=orders,
        category_ids={c.key: FIRST_CATEGORY_ID + i for i, c in enumerate(CATEGORIES)},
        product_ids={},
        coupon_ids={},
        coupon_created=coupon_created,
    )
    _allocate_ids(plan)
    return plan
