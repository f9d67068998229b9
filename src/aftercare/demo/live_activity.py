"""Today in the demo store: presets switched on and a little *live* activity, so a new user sees
flows at work on first start — mails in the outbox, steps waiting in the queue.

    today = live_activity.add_today(store=store, now=anchor, customers=1500, seed=42)
    today.presets, today.placed, today.completed, today.refunded, today.added

Why: the demo history is published as backfill, and flows rightly ignore history, so a store
with history alone shows empty flows, queue and messages pages. A real shop has a "today":
this adds one, through the same path as the history (planned orders rendered as WooCommerce
orders, parsed by `ingest.woo_mapping`, applied with `ingest.mirror`) but as live events.

In this order — only events recorded after a flow is activated start runs:
1. the store writes to its customers in their languages (en, ko, ja) and the presets a shop
   owner would switch on first are enabled — only those the store has no flow for yet, so a
   flow the owner paused or archived stays as it is;
2. a few existing customers place orders in the hours before `now` (Korean and Japanese ones
   among them, so the outbox shows ko and ja mails; some tick the newsletter box), and the
   most recent processing orders are completed;
3. the matcher catches up, as the worker would a second later: the runs start;
4. one of the orders just completed is refunded in full. Its review request, cross-sell and
   survey wait in the queue and are skipped when due, with the reason — the re-check at work.
   (Refunded before the runs started, the filters would have kept them from starting at all.)

Then the worker (`aftercare serve` runs it) sends the thank-you and order-status mails at once —
to the local outbox when EMAIL_URL is unset — while review requests, cross-sells and surveys
wait with their due dates.

Deterministic and idempotent: the same (customers, seed, now) gives the same orders with the
next WooCommerce ids after the history's, all dated before `now` (the command's anchor: the
history's end, so "today" is the anchor's day); once the refund is in the mirror, calling again
does nothing.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import transaction

from aftercare.demo.builder import plan_demo_store, site_url
from aftercare.demo.checkout import draw_basket, price_order
from aftercare.demo.history import DemoPlan, PlannedOrder, Shopper
from aftercare.demo.lifecycle import Fate, RefundPlan
from aftercare.demo.order_payloads import render_order
from aftercare.demo.payloads import Renderer
from aftercare.events import high_water
from aftercare.flows import matcher
from aftercare.flows import selectors as flows_selectors
from aftercare.flows import services as flows_services
from aftercare.ingest import mirror, woo_mapping
from aftercare.ingest.woo_records import OrderRecord
from aftercare.orders.models import Refund
from aftercare.stores import settings_services
from aftercare.stores.models import Store

# The presets a shop owner switches on first (transactional ones, then the marketing ones).
PRESETS = (
    "thank-you", "order-status", "review-request", "cross-sell", "survey", "win-back", "birthday",
)  # fmt: skip
LANGUAGES = ("en", "ko", "ja")  # the demo's customers speak these (people.py)
# Today's buyers: (language, ticks the newsletter box). Fewer when the store has fewer people.
BUYERS = (("ko", True), ("ja", False), ("en", True), ("en", False))
PLACED_WITHIN = (timedelta(hours=2), timedelta(hours=6))  # before `now`
COMPLETED = 4  # the most recent processing orders completed today
MIN_COMPLETED = 3  # topped up with today's own orders in a small store (same-day dispatch)
PAID_AT_LEAST = timedelta(hours=2)  # an order is dispatched hours after payment, not at once
REGULAR_BREAK = timedelta(days=14)  # today's buyers had not bought in the last two weeks
REFUND_REASON = "Customer changed their mind"


@dataclass(frozen=True)
class Today:
    """What `add_today` did (`added` False: the store already had this day; nothing changed)."""

    presets: tuple[str, ...]  # presets switched on by this call
    placed: int  # new orders
    completed: int  # orders completed today (the refunded one included)
    refunded: int
    added: bool


@dataclass(frozen=True, slots=True)
class _Day:
    placed: list[PlannedOrder]  # new orders, each in its state before the refund
    completed: list[PlannedOrder]  # history orders completed today
    refunded: PlannedOrder  # one of the orders completed today, refunded in full
    completions: int


def _order_key(rng: random.Random) -> str:
    return "wc_order_" + "".join(rng.choices(string.ascii_letters + string.digits, k=13))


def _next_ids(plan: DemoPlan) -> tuple[int, int]:
    """The next free post id (products, coupons, orders and refunds share one sequence) and the
    next free order item id after the history's."""
    posts = [
        *plan.product_ids.values(),
        *plan.coupon_ids.values(),
        *(order.order_id for order in plan.orders),
        *(refund_id for order in plan.orders for refund_id in order.refund_ids),
    ]
    items = [item_id for order in plan.orders for item_id in order.item_ids]
    return max(posts, default=9) + 1, max(items, default=0) + 1


def _buyers(*, plan: DemoPlan, rng: random.Random) -> list[Shopper]:
    """Existing customers who come back today: people who bought before, not in the last two
    weeks, matched to BUYERS as far as the store's people allow."""
    last: dict[int, datetime] = {}
    for order in plan.orders:
        last[order.shopper.serial] = order.created
    pool = [
        s
        for s in plan.shoppers
        if s.serial in last and last[s.serial] <= plan.anchor - REGULAR_BREAK
    ]
    chosen: list[Shopper] = []
    for locale, ticks in BUYERS:
        taken = {s.serial for s in chosen}
        free = [s for s in pool if s.serial not in taken]
        exact = [s for s in free if (s.person.locale, s.person.wants_newsletter) == (locale, ticks)]
        speaking = [s for s in free if s.person.locale == locale]
        candidates = exact or speaking or free
        if candidates:
            chosen.append(rng.choice(candidates))
    return chosen


def _new_order(
    *, plan: DemoPlan, shopper: Shopper, created: datetime, rng: random.Random
) -> PlannedOrder:
    person = shopper.person
    usual = next(
        (o.priced.lines[0].sku for o in plan.orders if o.shopper is shopper and o.priced.lines),
        None,
    )
    basket = draw_basket(shelf=plan.shelf, at=created, locale=person.locale, usual=usual, rng=rng)
    priced = price_order(
        shelf=plan.shelf, basket=basket, at=created, coupon=None, place=person.place
    )
    paid = created + timedelta(seconds=rng.randint(3, 40))
    device = rng.choice(("Mobile", "Mobile", "Desktop"))
    return PlannedOrder(
        shopper=shopper,
        created=created,
        priced=priced,
        method="stripe" if rng.random() < 0.7 else "ppcp-gateway",  # paid at once: a thank-you
        fate=Fate(status="processing", paid=paid, completed=None, modified=paid),
        as_customer=shopper.registered_at is not None and shopper.registered_at <= created,
        opt_in=person.wants_newsletter,  # the checkout's newsletter box is offered by now
        note="",
        order_key=_order_key(rng),
        attribution=("utm", "newsletter", device)
        if rng.random() < 0.4
        else ("typein", "(direct)", device),
    )


def _plan_day(*, plan: DemoPlan, seed: int) -> _Day | None:
    """Today's orders, pure: the same plan and seed give the same day. None for a store with
    nobody to come back and nothing to complete (a history of a handful of people)."""
    rng = random.Random(f"{seed}:today")
    now = plan.anchor
    post_id, item_id = _next_ids(plan)
    buyers = _buyers(plan=plan, rng=rng)
    # One order in each slice of PLACED_WITHIN, the oldest first (WooCommerce numbers by time).
    low, high = (int(bound.total_seconds()) for bound in PLACED_WITHIN)
    share = (high - low) // max(1, len(buyers))
    ages = [high - i * share - rng.randrange(share) for i in range(len(buyers))]
    placed = []
    for shopper, age in zip(buyers, ages, strict=True):
        order = _new_order(
            plan=plan, shopper=shopper, created=now - timedelta(seconds=age), rng=rng
        )
        order.order_id, post_id = post_id, post_id + 1
        count = len(order.priced.lines) + 1 + (1 if order.priced.tax_rate else 0)  # + shipping
        order.item_ids, item_id = list(range(item_id, item_id + count)), item_id + count
        placed.append(order)
    waiting = sorted(
        (
            o
            for o in plan.orders
            if o.fate.status == "processing" and o.fate.modified <= now - PAID_AT_LEAST
        ),
        key=lambda o: (o.created, o.order_id),
        reverse=True,
    )[:COMPLETED]
    shortfall = max(0, MIN_COMPLETED - len(waiting))
    to_complete = waiting + placed[:shortfall]  # the oldest of today's orders ship the same day
    if not to_complete:
        return None
    done: dict[int, PlannedOrder] = {}
    for index, order in enumerate(to_complete):
        at = now - timedelta(minutes=45 - 8 * index)
        paid = order.fate.paid or at  # cash on delivery: the courier collected it
        done[order.order_id] = replace(
            order, fate=Fate(status="completed", paid=paid, completed=at, modified=at)
        )
    first = done[to_complete[0].order_id]
    refund_at = now - timedelta(minutes=10)
    refunded = replace(
        first,
        fate=replace(
            first.fate,
            status="refunded",
            modified=refund_at,
            refunds=(RefundPlan(at=refund_at, amount=first.priced.total, reason=REFUND_REASON),),
        ),
        refund_ids=[post_id],
    )
    return _Day(
        placed=[done.get(o.order_id, o) for o in placed],
        completed=[done[o.order_id] for o in waiting],
        refunded=refunded,
        completions=len(done),
    )


def _switch_on_presets(*, store: Store) -> tuple[str, ...]:
    existing = set(
        flows_selectors.flows(store=store, include_archived=True).values_list("preset", flat=True)
    )
    enabled = []
    for name in PRESETS:
        if name not in existing:
            flows_services.enable_preset(store=store, name=name)
            enabled.append(name)
    return tuple(enabled)


def _speak_their_languages(*, store: Store) -> None:
    missing = [code for code in LANGUAGES if code not in store.languages]
    if missing:
        settings_services.update_store_settings(store=store, languages=[*store.languages, *missing])


def add_today(*, store: Store, now: datetime, customers: int, seed: int) -> Today:
    """Switch presets on and add today's live activity to the demo store holding the history
    of (customers, seed, now) — see the module docstring. Call it after the history is built."""
    plan = plan_demo_store(customers=customers, seed=seed, now=now, currency=store.currency)
    day = _plan_day(plan=plan, seed=seed)
    if day is None:
        return Today(presets=(), placed=0, completed=0, refunded=0, added=False)
    if Refund.objects.filter(
        order__store=store,
        order__external_id=day.refunded.order_id,
        external_id=day.refunded.refund_ids[0],
    ).exists():
        return Today(
            presets=(), placed=len(day.placed), completed=day.completions, refunded=1, added=False
        )
    renderer = Renderer(plan=plan, site=site_url(store=store), time_zone=store.time_zone)

    def records(orders: list[PlannedOrder]) -> list[OrderRecord]:
        return [woo_mapping.parse_order(render_order(renderer=renderer, order=o)) for o in orders]

    with transaction.atomic():
        _speak_their_languages(store=store)
        presets = _switch_on_presets(store=store)
        mirror.apply_orders(
            store=store, records=records(day.placed + day.completed), source="demo", backfill=False
        )
    matcher.match_store(store_id=store.pk, up_to=high_water.advance())
    mirror.apply_orders(store=store, records=records([day.refunded]), source="demo", backfill=False)
    return Today(
        presets=presets, placed=len(day.placed), completed=day.completions, refunded=1, added=True
    )
