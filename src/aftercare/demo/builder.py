"""Filling a store with a believable demo history — through the real ingest path.

    summary = build_demo_store(store=store, customers=1500, seed=42, now=anchor)
    summary.orders, summary.one_time_share

The history is planned in memory (`history`), rendered as WooCommerce REST v3 objects
(`payloads`, `order_payloads`), parsed by `ingest.woo_mapping` and applied with
`ingest.mirror` in batches, as a REST backfill of a real shop would be: the demo exercises the
same parser, upserts and events (flagged `backfill`) as production data.

Idempotent: the same (customers, seed, now, store currency) gives the same WooCommerce ids and
content, so building again finds everything unchanged and writes nothing new. Everything runs
in one transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, TypeVar

from django.db import transaction

from aftercare.demo.history import DemoPlan, PlannedOrder, history_marker, plan_history
from aftercare.demo.order_payloads import DEMO_META_KEY, render_order
from aftercare.demo.payloads import Renderer
from aftercare.ingest import mirror, woo_mapping
from aftercare.orders.models import Order, OrderSource
from aftercare.stores.models import Store

ORDER_BATCH = 500
CUSTOMER_BATCH = 250
LOYAL_ORDERS = 5
_T = TypeVar("_T")


class Progress(Protocol):
    def __call__(self, *, stage: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class DemoSummary:
    """What the demo history holds, and what this run added to the mirror."""

    store: str
    seed: int
    anchor: datetime
    products: int
    coupons: int
    customers: int  # people: registered accounts and guests
    accounts: int  # of which registered
    orders: int
    statuses: dict[str, int]
    partial_refunds: int
    full_refunds: int
    one_time_share: float  # of customers with at least one order, those with exactly one
    loyal: int  # customers with LOYAL_ORDERS orders or more
    created: dict[str, int] = field(default_factory=dict)  # rows this run created, per kind

    @property
    def unchanged(self) -> bool:
        """Nothing was created: the store already held this history."""
        return not any(self.created.values())


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def site_url(*, store: Store) -> str:
    """The demo shop's address: a reserved `.example` name, so links never reach a real site."""
    return f"https://{store.slug}.shop.example"


def summarise(*, plan: DemoPlan, store: str, seed: int) -> DemoSummary:
    """Counts of a planned history (the command's dry run prints these without writing)."""
    per_customer = Counter(order.shopper.serial for order in plan.orders)
    buyers = len(per_customer)
    partial = full = 0
    for order in plan.orders:
        for refund in order.fate.refunds:
            if refund.amount >= order.priced.total:
                full += 1
            else:
                partial += 1
    return DemoSummary(
        store=store,
        seed=seed,
        anchor=plan.anchor,
        products=len(plan.product_ids),
        coupons=len(plan.coupon_ids),
        customers=len(plan.shoppers),
        accounts=sum(1 for s in plan.shoppers if s.registered_at is not None),
        orders=len(plan.orders),
        statuses=dict(Counter(order.fate.status for order in plan.orders).most_common()),
        partial_refunds=partial,
        full_refunds=full,
        one_time_share=(sum(1 for n in per_customer.values() if n == 1) / buyers)
        if buyers
        else 0.0,
        loyal=sum(1 for n in per_customer.values() if n >= LOYAL_ORDERS),
    )


def existing_history(*, store: Store) -> str | None:
    """The marker of the demo history `store` already holds ("seed=… customers=… anchor=…"),
    or None when it holds no demo orders."""
    meta = (
        Order.objects.filter(store=store, source=OrderSource.DEMO)
        .order_by("external_id")
        .values_list("meta", flat=True)
        .first()
    )
    if meta is None:
        return None
    return str(meta.get(DEMO_META_KEY, ""))


def marker(*, customers: int, seed: int, now: datetime) -> str:
    return history_marker(seed=seed, customers=customers, anchor=now)


def has_shop_orders(*, store: Store) -> bool:
    """Whether `store` holds orders from a real shop (the demo never mixes into those)."""
    return Order.objects.filter(store=store).exclude(source=OrderSource.DEMO).exists()


def plan_demo_store(*, customers: int, seed: int, now: datetime, currency: str) -> DemoPlan:
    return plan_history(customers=customers, seed=seed, anchor=now, currency=currency)


def _apply_orders(
    *, store: Store, renderer: Renderer, orders: Sequence[PlannedOrder], progress: Progress | None
) -> int:
    created = 0
    done = 0
    for batch in _chunks(orders, ORDER_BATCH):
        records = [woo_mapping.parse_order(render_order(renderer=renderer, order=o)) for o in batch]
        result = mirror.apply_orders(store=store, records=records, source="demo", backfill=True)
        created += result.created
        done += len(batch)
        if progress is not None:
            progress(stage="orders", done=done, total=len(orders))
    return created


def build_demo_store(
    *,
    store: Store,
    now: datetime,
    customers: int = 1500,
    seed: int = 42,
    progress: Progress | None = None,
) -> DemoSummary:
    """Give `store` two years of history ending at `now` (see the module docstring).

    `now` is the anchor: pass the same one to rebuild the same history (the command uses the
    store's creation time). Prices are converted into the store's currency; site-local dates
    are in the store's time zone."""
    plan = plan_demo_store(customers=customers, seed=seed, now=now, currency=store.currency)
    renderer = Renderer(plan=plan, site=site_url(store=store), time_zone=store.time_zone)
    created: dict[str, int] = {}
    with transaction.atomic():
        products = [woo_mapping.parse_product(p) for p in renderer.products()]
        created["products"] = mirror.apply_products(
            store=store, records=products, backfill=True
        ).created
        coupons = [woo_mapping.parse_coupon(c) for c in renderer.coupons()]
        created["coupons"] = mirror.apply_coupons(
            store=store, records=coupons, backfill=True
        ).created
        if progress is not None:
            done = len(products) + len(coupons)
            progress(stage="catalogue", done=done, total=done)
        accounts = [woo_mapping.parse_customer(c) for c in renderer.customers()]
        created["accounts"] = 0
        for done, batch in enumerate(_chunks(accounts, CUSTOMER_BATCH), start=1):
            result = mirror.apply_customers(store=store, records=batch, backfill=True)
            created["accounts"] += result.created
            if progress is not None:
                progress(
                    stage="customers",
                    done=min(done * CUSTOMER_BATCH, len(accounts)),
                    total=len(accounts),
                )
        created["orders"] = _apply_orders(
            store=store, renderer=renderer, orders=plan.orders, progress=progress
        )
    return replace(summarise(plan=plan, store=store.slug, seed=seed), created=created)
