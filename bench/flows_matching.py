"""Benchmark: event → flow matching (`flows.matcher.match_store`), one process = one worker.

    .venv/bin/python bench/flows_matching.py                      # 100,000 events, SQLite
    .venv/bin/python bench/flows_matching.py --events 20000       # smoke (~1 min)
    .venv/bin/python bench/flows_matching.py --profile            # + cProfile of the matching
    .venv/bin/python bench/flows_matching.py \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_matching

A store with 50 active flows: the 12 presets (`services.enable_preset`; the three scheduled
ones — birthday, anniversary, win-back — have no event trigger and cost the matcher nothing)
and 38 custom flows (`services.create_flow`) on order.* triggers with the filters shops write:
order total, status, payment method, shipping country, product categories (line items →
products → categories), first order, customer tags, language, consent, RFM segment, paid-order
count and spend thresholds, refunds full/partial, status moves from/to; some with a
once-per-customer or once-per-30-days re-entry rule. Most events match few flows.

The mirror is written in bulk (core.bulk_rows, no events of its own): a catalogue (60 products
in 12 categories), customers (35 % of orders from returning ones; en/ko/ja; tags; consent;
analytics' CustomerStats with segments), orders with 1-5 lines whose final state is the end of
their life below. Then, *after the flows were activated*, `--events` order events in the shapes
and order the mirror publishes them (order.created, .paid, .completed, .cancelled,
.status_changed, .refunded, and order.updated for every change — a type no flow listens to, so
the matcher's SQL skips it): pending → processing → completed, on-hold, failed, cancellations,
full and partial refunds, interleaved in time across orders. ANALYZE runs after loading (the
worker does it every 6 h on SQLite, autovacuum on PostgreSQL).

Timed: `matcher.match_store(store_id=…, up_to=<last event id>)` over the whole log in this one
process (default batch: 500 events per transaction on SQLite, 2,000 on PostgreSQL; `--batch`).
Printed: events/s over the log and over the events of types some flow listens to (the
conservative figure, compared with the target), queries per batch (counted with
`connection.execute_wrapper`, with the time spent executing them), runs and first steps
started per flow, CPU of this process (and of its PostgreSQL backend), the machine's load and
"other" CPU (other people's work on the shared machine). Checks the runs of a few flows against
counts made independently from the generated events. Target (issue): >= 5,000 events/s per
worker with 50 active flows.

The shop-building and CPU-metering helpers here are shared with email_sending.py and
flows_drain.py (they import this module).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import benchlib

_CLK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------------------------------------
# CPU and load: this process, other processes we start or talk to, and the rest of the machine


def proc_cpu(pid: int) -> float | None:
    """User + system CPU-seconds of a live process (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK


def machine_busy() -> float:
    """Busy CPU-seconds of the whole machine since boot (all cores, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / _CLK  # minus idle and iowait


@dataclass
class MeterReport:
    wall: float
    own_cpu: float  # this process
    groups: dict[str, float]  # label → CPU-seconds of the watched processes
    machine_busy: float  # every process on the machine
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    @property
    def other(self) -> float:
        """CPU-seconds of everything else: other people's work on the shared machine."""
        return max(0.0, self.machine_busy - self.own_cpu - sum(self.groups.values()))

    def line(self) -> str:
        groups = ", ".join(f"{label} {cpu:.1f}" for label, cpu in self.groups.items())
        return (
            f"CPU-s over {self.wall:.1f} s wall ({os.cpu_count()} cores = "
            f"{self.wall * (os.cpu_count() or 1):.0f} available): this process {self.own_cpu:.1f}"
            + (f", {groups}" if groups else "")
            + f", other processes {self.other:.1f}; load average before "
            f"{self.load_before[0]:.2f}, after {self.load_after[0]:.2f}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall, 2),
            "own_cpu_s": round(self.own_cpu, 2),
            **{f"{label}_cpu_s": round(cpu, 2) for label, cpu in self.groups.items()},
            "other_cpu_s": round(self.other, 2),
            "loadavg_before": round(self.load_before[0], 2),
            "loadavg_after": round(self.load_after[0], 2),
        }


class Meter:
    """Wall time and CPU over a window. `watch(label, pid)` adds a process (its CPU from the
    moment it is first seen); `sample()` refreshes the watched ones, so a process that dies
    keeps what it had used at the last sample; `add(label, cpu)` adds CPU measured another way
    (e.g. wait4 of a killed child)."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[str, float]] = {}
        self._last: dict[int, float] = {}
        self._added: defaultdict[str, float] = defaultdict(float)
        self.load_before = os.getloadavg()
        self._busy0 = machine_busy()
        self._own0 = time.process_time()
        self._wall0 = time.perf_counter()

    def watch(self, label: str, pid: int) -> None:
        if pid not in self._first and (cpu := proc_cpu(pid)) is not None:
            self._first[pid] = (label, cpu)
            self._last[pid] = cpu

    def forget(self, pid: int) -> None:
        """Stop sampling `pid` (its CPU so far is kept)."""
        if pid in self._first:
            label, first = self._first.pop(pid)
            self._added[label] += self._last.pop(pid) - first

    def add(self, label: str, cpu: float) -> None:
        self._added[label] += cpu

    def sample(self) -> None:
        for pid in list(self._first):
            cpu = proc_cpu(pid)
            if cpu is not None:
                self._last[pid] = cpu

    def stop(self) -> MeterReport:
        self.sample()
        wall = time.perf_counter() - self._wall0
        own = time.process_time() - self._own0
        groups: defaultdict[str, float] = defaultdict(float, self._added)
        for pid, (label, first) in self._first.items():
            groups[label] += self._last[pid] - first
        return MeterReport(
            wall=wall,
            own_cpu=own,
            groups=dict(groups),
            machine_busy=machine_busy() - self._busy0,
            load_before=self.load_before,
            load_after=os.getloadavg(),
        )


def backend_pids() -> list[int]:
    """PostgreSQL server processes serving this database (empty on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend'"
        )
        return [pid for (pid,) in cursor.fetchall()]


@dataclass
class QueryCount:
    """connection.execute_wrapper target: statements executed and time inside execute()."""

    count: int = 0
    seconds: float = 0.0
    by_kind: Counter[str] = field(default_factory=Counter)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1
            self.by_kind[_statement_kind(sql)] += 1


def _statement_kind(sql: str) -> str:
    words = sql.lstrip().split(None, 1)
    verb = words[0].upper() if words else "?"
    for table in ("flows_", "orders_", "customers_", "catalog_", "analytics_", "events_"):
        at = sql.find(f'"{table}')
        if at >= 0:
            return f"{verb} {sql[at + 1 : sql.find(chr(34), at + 1)]}"
    return verb


@contextmanager
def profiled(enabled: bool, *, top: int = 25) -> Iterator[None]:
    """cProfile the block when `enabled`; print the top functions by own and cumulative time."""
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        for order, restrict in (("tottime", ()), ("cumulative", ("src/aftercare",))):
            out = io.StringIO()
            limit = top * 2 if restrict else top
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(*restrict, limit)
            text = out.getvalue()
            start = text.find("   ncalls")
            where = " (aftercare's own functions)" if restrict else ""
            print(f"\n--- cProfile, top {limit} by {order}{where} ---\n{text[start:].rstrip()}\n")


def code_state() -> str:
    """The commit, and a digest of the engine's working tree (flows, messaging, jobs, events,
    core): figures are only comparable between runs of the same code, and these files change
    while people work."""
    import hashlib
    import subprocess

    src = benchlib.REPO / "src" / "aftercare"
    digest = hashlib.sha256()
    for part in ("flows", "messaging", "jobs", "events", "core"):
        for path in sorted((src / part).rglob("*.py")):
            digest.update(path.read_bytes())
    head = subprocess.run(
        ["git", "-C", str(benchlib.REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"HEAD {head or '?'} + working tree, engine digest {digest.hexdigest()[:10]}"


# ---------------------------------------------------------------------------------------------
# the shop: catalogue, customers, orders and lines, written in bulk (core.bulk_rows)

CATEGORY_NAMES = (
    "Coffee", "Tea", "Mugs", "Brewing", "Gifts", "Snacks", "Apparel", "Books", "Kitchen",
    "Outdoor", "Beauty", "Stationery",
)  # fmt: skip
_ADJECTIVES = ("Classic", "Organic", "Everyday", "Travel", "Deluxe", "Mini", "Smoky", "Bright")
_NOUNS = {
    "Coffee": "Roast", "Tea": "Sencha", "Mugs": "Mug", "Brewing": "Dripper", "Gifts": "Gift box",
    "Snacks": "Biscotti", "Apparel": "Apron", "Books": "Brew guide", "Kitchen": "Scale",
    "Outdoor": "Flask", "Beauty": "Coffee scrub", "Stationery": "Notebook",
}  # fmt: skip

FIRST_NAMES = {
    "en": ["Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sophia", "Mason",
           "Isabella", "Logan", "Amelia", "James", "Harper", "Elijah", "Evelyn", "Henry",
           "Abigail", "Jack", "Ella", "Owen", "Grace", "Leo", "Chloe", "Ryan", "Zoe", "Adam",
           "Nora", "Caleb"],
    "ko": ["민준", "서연", "지호", "하은", "도윤", "지우", "서준", "하린", "예준", "수아",
           "시우", "지유", "주원", "윤서", "하준", "채원", "지훈", "다은", "건우", "소율"],
    "ja": ["陽翔", "結菜", "蓮", "葵", "湊", "陽葵", "樹", "凛", "大和", "芽依", "悠真", "結衣",
           "朝陽", "咲良", "律", "美桜", "颯真", "莉子", "碧", "紬"],
}  # fmt: skip
LAST_NAMES = {
    "en": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
           "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "White",
           "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott",
           "Green", "Baker", "Adams", "Nelson", "Hill"],
    "ko": ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신",
           "권"],
    "ja": ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
           "吉田", "山田", "佐々木", "山口", "松本"],
}  # fmt: skip
LOCALE_OF = {"en": "en_US", "ko": "ko_KR", "ja": "ja"}
ZONE_OF = {"en": "America/New_York", "ko": "Asia/Seoul", "ja": "Asia/Tokyo"}
COUNTRY_OF = {"en": "US", "ko": "KR", "ja": "JP"}


def person(index: int, language: str) -> tuple[str, str]:
    """(first, last): consecutive indexes get different names (first x last combinations)."""
    first, last = FIRST_NAMES[language], LAST_NAMES[language]
    return first[index % len(first)], last[(index // len(first)) % len(last)]


@dataclass(frozen=True)
class ProductInfo:
    external_id: int
    name: str
    sku: str
    price: Decimal
    categories: tuple[str, ...]


def configure_store(store: Any, *, shop_url: str = "https://shop.example") -> Any:
    """Languages en/ko/ja, a sender, a WooConnection (the shop URL templates link to)."""
    from aftercare.core import clock
    from aftercare.stores.models import WooConnection

    store.name = "Acme Coffee"
    store.languages = ["en", "ko", "ja"]
    store.time_zone = "America/New_York"
    store.sender_name = "Acme Coffee"
    store.sender_email = "orders@acme-coffee.example"
    store.reply_to_email = "help@acme-coffee.example"
    store.save()
    WooConnection.objects.create(
        store=store,
        url=shop_url,
        consumer_key="ck_bench",
        consumer_secret="cs_bench",  # noqa: S106 - a throw-away database
        connected_at=clock.now(),
    )
    return store


def make_catalog(store: Any, rng: random.Random, *, products: int = 60) -> list[ProductInfo]:
    """Categories, published products (images, permalinks, some cross-sells and upsells) and
    their category links."""
    from aftercare.catalog.models import Category, Product

    categories = Category.objects.bulk_create(
        Category(store=store, external_id=10 + i, name=name, slug=name.lower())
        for i, name in enumerate(CATEGORY_NAMES)
    )
    by_name = {c.name: c for c in categories}
    infos: list[ProductInfo] = []
    rows: list[Product] = []
    for i in range(products):
        main = CATEGORY_NAMES[i % len(CATEGORY_NAMES)]
        names = (main,) if i % 3 else (main, CATEGORY_NAMES[(i + 4) % len(CATEGORY_NAMES)])
        external_id = 500 + i
        name = f"{_ADJECTIVES[(i // len(CATEGORY_NAMES)) % len(_ADJECTIVES)]} {_NOUNS[main]}"
        price = Decimal(rng.randrange(6, 90)) + Decimal("0.50") * (i % 2)
        others = [500 + (i + k) % products for k in (7, 13)]
        infos.append(ProductInfo(external_id, name, f"SKU-{external_id}", price, names))
        slug = name.lower().replace(" ", "-")
        rows.append(
            Product(
                store=store,
                external_id=external_id,
                name=name,
                slug=slug,
                sku=f"SKU-{external_id}",
                price=price,
                regular_price=price,
                permalink=f"https://shop.example/product/{slug}-{external_id}/",
                images=[{"src": f"https://shop.example/img/{external_id}.jpg", "alt": name}],
                cross_sell_ids=others if i % 3 == 0 else [],
                upsell_ids=others[:1] if i % 5 == 0 else [],
                stock_status="instock",
            )
        )
    saved = Product.objects.bulk_create(rows)
    through = Product.categories.through
    through.objects.bulk_create(
        through(product_id=product.pk, category_id=by_name[category].pk)
        for product, info in zip(saved, infos, strict=True)
        for category in info.categories
    )
    return infos


CUSTOMER_COLUMNS = (
    "store_id", "email", "external_id", "is_registered", "first_name", "last_name", "locale",
    "time_zone", "country", "marketing_consent", "first_seen_at",
)  # fmt: skip
ORDER_COLUMNS = (
    "store_id", "external_id", "number", "status", "currency", "customer_id", "billing_email",
    "subtotal", "discount_total", "shipping_total", "total", "refunded_total", "billing_country",
    "shipping_country", "created_via", "payment_method", "coupon_codes", "source",
    "date_created", "date_paid", "date_completed", "date_modified",
)  # fmt: skip
LINE_COLUMNS = (
    "order_id", "external_id", "product_external_id", "name", "sku", "quantity", "unit_price",
    "subtotal", "total",
)  # fmt: skip
STATS_COLUMNS = (
    "customer_id", "store_id", "orders_count", "total_spent", "first_order_at", "last_order_at",
    "segment",
)  # fmt: skip
CHUNK = 20_000


def insert_ids(model: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """bulk_rows.insert_returning_ids in chunks (ids in the order of `rows`)."""
    from aftercare.core import bulk_rows

    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        ids += bulk_rows.insert_returning_ids(model=model, columns=columns, rows=chunk)
    return ids


def insert_all(model: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from aftercare.core import bulk_rows

    for start in range(0, len(rows), CHUNK):
        bulk_rows.insert_tuples(model=model, columns=columns, rows=rows[start : start + CHUNK])


def analyze() -> None:
    """Planner statistics, as production has them (autovacuum; the worker's 6-hourly ANALYZE
    on SQLite)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# ---------------------------------------------------------------------------------------------
# the orders' lives: what the mirror would publish, in time order

_PAID = ("processing", "completed", "refunded")
_PAYMENT = (("stripe", 55), ("paypal", 25), ("bacs", 8), ("cod", 7), ("kakaopay", 5))
_FIRST: tuple[tuple[str, int], ...] = (
    ("pending", 22), ("processing", 40), ("on-hold", 8), ("completed", 22), ("failed", 4),
    ("cancelled", 4),
)  # fmt: skip
_SEGMENTS = ("champions", "loyal", "promising", "new", "at_risk", "hibernating")
START = datetime(2026, 1, 5, tzinfo=UTC)


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


@dataclass
class OrderLife:
    index: int
    customer: int  # index into the customers
    created: datetime
    lines: list[tuple[ProductInfo, int]]
    shipping: Decimal
    payment_method: str
    country: str
    coupons: list[str]
    status: str = ""
    date_paid: datetime | None = None
    date_completed: datetime | None = None
    modified: datetime | None = None
    refunded: Decimal = Decimal(0)
    # (occurred_at, type, payload); subject and customer are the order's
    events: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((p.price * q for p, q in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping


def _life(order: OrderLife, rng: random.Random) -> None:
    """Statuses over time, with the events the mirror publishes for each change."""
    number, total = str(1000 + order.index), str(order.total)
    base = {"number": number, "total": total, "currency": "USD", "backfill": False}
    status = _pick(rng, _FIRST)
    at = order.created
    order.events.append(
        (at, "order.created", {**base, "status": status, "created_via": "checkout",
                               "source": "woocommerce"})
    )  # fmt: skip
    was_paid = False

    def milestones(new: str, old: str | None, when: datetime) -> None:
        nonlocal was_paid
        if not was_paid and new in _PAID:
            was_paid = True
            order.date_paid = when
            order.events.append((when, "order.paid", dict(base)))
        if new == "completed" and old != new:
            order.date_completed = when
            order.events.append((when, "order.completed", dict(base)))
        if new == "cancelled" and old != new:
            order.events.append((when, "order.cancelled", {**base, "from": old or ""}))

    def move(new: str, when: datetime) -> None:
        nonlocal status
        order.events.append((when, "order.updated", {**base, "status": new}))
        order.events.append(
            (when, "order.status_changed",
             {"from": status, "to": new, "inferred": False, "number": number, "backfill": False})
        )  # fmt: skip
        milestones(new, status, when)
        status = new

    milestones(status, None, at)
    if status == "failed" and rng.random() < 0.5:
        at += timedelta(minutes=rng.uniform(2, 30))
        move("pending", at)
    if status == "pending":
        roll = rng.random()
        if roll < 0.6:
            at += timedelta(minutes=rng.uniform(3, 180))
            move("processing", at)
        elif roll < 0.75:
            at += timedelta(days=rng.uniform(1, 3))
            move("cancelled", at)
    elif status == "on-hold":
        at += timedelta(hours=rng.uniform(1, 48))
        move("processing" if rng.random() < 0.8 else "cancelled", at)
    if status == "processing" and rng.random() < 0.9:
        at += timedelta(days=rng.uniform(0.5, 5))
        move("completed", at)
    if status == "completed":
        roll = rng.random()
        if roll < 0.14:
            at += timedelta(days=rng.uniform(2, 20))
            full = roll < 0.06
            amount = order.total if full else min(order.total, Decimal(rng.randrange(5, 30)))
            order.refunded = amount
            refund = {
                "number": number, "refund_id": 900_000 + order.index, "amount": str(amount),
                "reason": "Damaged in transit", "refunded_total": str(amount),
                "order_total": total, "currency": "USD", "full": full, "partial": not full,
                "backfill": False,
            }  # fmt: skip
            order.events.append((at, "order.updated", {**base, "status": status}))
            if full:
                order.events.append(
                    (at, "order.status_changed",
                     {"from": "completed", "to": "refunded", "inferred": False, "number": number,
                      "backfill": False})
                )  # fmt: skip
                status = "refunded"
            order.events.append((at, "order.refunded", refund))
    order.status = status
    order.modified = at


@dataclass
class MatchShop:
    store: Any
    customer_ids: list[int]
    customer_language: list[str]
    orders: list[OrderLife]
    order_ids: list[int]
    events: list[tuple[datetime, str, int, int, dict[str, Any]]]  # at, type, order, customer


def build_matching_shop(store: Any, *, events: int, seed: int) -> MatchShop:
    """Customers, orders, lines, stats and tags (final states), then the events in time order
    (the first `events` of the merged timeline)."""
    from django.db import transaction

    from aftercare.analytics.models import CustomerStats
    from aftercare.customers.models import Customer, CustomerTag, Tag
    from aftercare.orders.models import LineItem, Order

    rng = random.Random(seed)
    catalog = make_catalog(store, rng)
    n_orders = max(10, int(events / 3.4))
    orders: list[OrderLife] = []
    languages: list[str] = []
    spacing = timedelta(days=30) / n_orders
    for index in range(n_orders):
        if languages and rng.random() < 0.35:  # returning: recent customers more often
            customer = len(languages) - 1 - min(len(languages) - 1, int(rng.expovariate(1 / 300)))
        else:
            customer = len(languages)
            languages.append(rng.choices(("en", "ko", "ja"), weights=(60, 20, 20))[0])
        picks = rng.sample(catalog, rng.choice((1, 1, 2, 2, 3, 3, 4, 5)))
        country = COUNTRY_OF[languages[customer]]
        if languages[customer] == "en" and rng.random() < 0.3:
            country = rng.choice(("GB", "DE", "CA", "AT"))
        order = OrderLife(
            index=index,
            customer=customer,
            created=START + spacing * index,
            lines=[(p, rng.choice((1, 1, 1, 2, 3))) for p in picks],
            shipping=Decimal(rng.choice((0, 0, 5, 8))),
            payment_method=_pick(rng, _PAYMENT),
            country=country,
            coupons=["WELCOME10"] if rng.random() < 0.08 else [],
        )
        _life(order, rng)
        orders.append(order)

    now = START + timedelta(days=60)
    consent = [rng.choices(("granted", "unknown", "denied"), (45, 45, 10))[0] for _ in languages]
    customer_rows = []
    for i, language in enumerate(languages):
        first, last = person(i, language)
        customer_rows.append(
            (store.pk, f"customer{i}@example.com", 7000 + i if i % 5 < 2 else None, i % 5 < 2,
             first, last, LOCALE_OF[language], ZONE_OF[language], COUNTRY_OF[language],
             consent[i], START)
        )  # fmt: skip
    with transaction.atomic():
        customer_ids = insert_ids(Customer, CUSTOMER_COLUMNS, customer_rows)
        order_rows = [
            (store.pk, 1000 + o.index, str(1000 + o.index), o.status, "USD",
             customer_ids[o.customer], f"customer{o.customer}@example.com", o.subtotal,
             Decimal(0), o.shipping, o.total, o.refunded, o.country, o.country, "checkout",
             o.payment_method, o.coupons, "woocommerce", o.created, o.date_paid,
             o.date_completed, o.modified)
            for o in orders
        ]  # fmt: skip
        order_ids = insert_ids(Order, ORDER_COLUMNS, order_rows)
        line_rows = [
            (order_ids[o.index], 10 * (1000 + o.index) + n, p.external_id, p.name, p.sku, q,
             p.price, p.price * q, p.price * q)
            for o in orders
            for n, (p, q) in enumerate(o.lines)
        ]  # fmt: skip
        insert_all(LineItem, LINE_COLUMNS, line_rows)
        paid: dict[int, list[OrderLife]] = defaultdict(list)
        for o in orders:
            if o.date_paid is not None:
                paid[o.customer].append(o)
        insert_all(
            CustomerStats,
            STATS_COLUMNS,
            [
                (customer_ids[c], store.pk, len(os_), sum(o.total - o.refunded for o in os_),
                 os_[0].date_paid, os_[-1].date_paid, rng.choice(_SEGMENTS))
                for c, os_ in paid.items()
            ],
        )  # fmt: skip
        tags = {
            name: Tag.objects.create(store=store, name=name, created_at=now)
            for name in ("VIP", "wholesale", "newsletter")
        }
        shares = {"VIP": 0.05, "wholesale": 0.03, "newsletter": 0.2}
        CustomerTag.objects.bulk_create(
            (
                CustomerTag(customer_id=cid, tag=tags[name], added_at=now, source="bench")
                for cid in customer_ids
                for name, share in shares.items()
                if rng.random() < share
            ),
            batch_size=5000,
        )
    timeline = sorted(
        (
            (at, type_, o.index, o.customer, payload)
            for o in orders
            for at, type_, payload in o.events
        ),
        key=lambda item: item[0],
    )[:events]
    return MatchShop(store, customer_ids, languages, orders, order_ids, timeline)


def record_events(shop: MatchShop) -> tuple[int, int]:
    """Insert the timeline into the event log (recorded now: after activation). Returns the
    (first, last) event id."""
    from django.db import transaction

    from aftercare.events.models import Event

    columns = ("store_id", "type", "subject_type", "subject_id", "customer_id", "occurred_at",
               "payload")  # fmt: skip
    rows = [
        (shop.store.pk, type_, "order", shop.order_ids[order], shop.customer_ids[customer], at,
         payload)
        for at, type_, order, customer, payload in shop.events
    ]  # fmt: skip
    with transaction.atomic():
        ids = insert_ids(Event, columns, rows)
    return ids[0], ids[-1]


# ---------------------------------------------------------------------------------------------
# the 50 flows


def _step_send(template: str, *, days: int = 0, hours: int = 0) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    if days or hours:
        wait: dict[str, Any] = {"key": "wait", "type": "wait", "days": days, "hours": hours}
        if days:
            wait["at"] = "10:00:00"
        steps.append(wait)
    steps.append(
        {"key": "send", "type": "action", "action": "send_email", "params": {"template": template}}
    )
    return steps


def _f(fact: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"fact": fact, "op": op, "value": value}


def custom_flows() -> list[dict[str, Any]]:
    """38 flows a shop might write (module docstring)."""
    flows: list[dict[str, Any]] = []

    def add(name: str, trigger: str, filters: list[dict[str, Any]], **extra: Any) -> None:
        config = extra.pop("config", {})
        steps = extra.pop("steps", None) or _step_send(extra.pop("template", "cross-sell"), days=3)
        flows.append(
            {"name": name, "category": extra.pop("category", "marketing"),
             "trigger": {"type": trigger, "config": config}, "filters": filters, "steps": steps,
             **extra}
        )  # fmt: skip

    not_refunded = _f("order.is_refunded", "eq", False)
    add("Big order thank-you", "order.paid", [_f("order.total", "gte", 250)])
    add("Small order nudge", "order.completed", [_f("order.total", "lt", 25), not_refunded])
    add("First order welcome", "order.paid", [_f("order.is_first", "eq", True)],
        reentry="once_per_customer", template="onboarding")  # fmt: skip
    add("Third paid order", "customer.threshold_reached", [],
        config={"measure": "orders_count", "value": 3})  # fmt: skip
    add("Spent 500", "customer.threshold_reached", [],
        config={"measure": "total_spent", "value": 500})  # fmt: skip
    add("VIP order completed", "order.completed", [_f("customer.tags", "contains", "VIP")])
    add("Wholesale paid", "order.paid",
        [_f("customer.tags", "contains", "wholesale"), _f("order.total", "gte", 100)])  # fmt: skip
    for category in CATEGORY_NAMES[:8]:
        add(f"Onboarding: {category}", "order.completed",
            [_f("order.categories", "contains", category), _f("order.is_first", "eq", True),
             not_refunded],
            reentry="once_per_days", reentry_days=30, template="onboarding")  # fmt: skip
    add("Korean first order", "order.completed",
        [_f("customer.language", "eq", "ko"), _f("order.is_first", "eq", True)])  # fmt: skip
    add("Japan big order", "order.paid",
        [_f("order.shipping_country", "eq", "JP"), _f("order.total", "gte", 100)])  # fmt: skip
    add("Many items", "order.completed", [_f("order.item_count", "gte", 8)])
    add("Welcome coupon used", "order.paid",
        [_f("order.coupon_codes", "contains", "WELCOME10")])  # fmt: skip
    add("Bank transfer reminder", "order.created",
        [_f("order.payment_method", "eq", "bacs"), _f("trigger.event_type", "eq", "order.created"),
         _f("order.is_paid", "eq", False)],
        category="transactional", steps=[
            {"key": "wait", "type": "wait", "hours": 24},
            {"key": "still-unpaid", "type": "condition",
             "conditions": [_f("order.is_paid", "eq", False)]},
            {"key": "remind", "type": "action", "action": "send_email",
             "params": {"template": "order-processing"}},
        ])  # fmt: skip
    add("COD cancelled", "order.cancelled", [_f("order.payment_method", "eq", "cod")],
        template="win-back")  # fmt: skip
    add("Full refund: sorry", "order.refunded", [], config={"refund": "full"},
        category="transactional", template="delay-notice")  # fmt: skip
    add("Partial refund check-in", "order.refunded", [_f("order.total", "gte", 50)],
        config={"refund": "partial"}, template="survey")  # fmt: skip
    add("Hold released", "order.status_changed", [], config={"from": ["on-hold"],
        "to": ["processing"]}, category="transactional", template="order-processing")  # fmt: skip
    add("Payment failed rescue", "order.created", [_f("order.status", "eq", "failed")],
        category="transactional", template="order-processing")  # fmt: skip
    add("Big pending order", "order.created",
        [_f("order.status", "eq", "pending"), _f("order.total", "gte", 150)],
        steps=[
            {"key": "wait", "type": "wait", "days": 2},
            {"key": "unpaid", "type": "condition",
             "conditions": [_f("order.is_paid", "eq", False)]},
            {"key": "send", "type": "action", "action": "send_email",
             "params": {"template": "win-back"}},
        ])  # fmt: skip
    add("Champions completed", "order.completed", [_f("customer.segment", "eq", "champions")])
    add("At risk came back", "order.paid",
        [_f("customer.segment", "in", ["at_risk", "hibernating"])])  # fmt: skip
    add("Newsletter readers", "order.completed",
        [_f("customer.tags", "contains", "newsletter"),
         _f("customer.marketing_consent", "eq", "granted")])  # fmt: skip
    add("Stripe big spenders", "order.paid",
        [_f("order.payment_method", "eq", "stripe"), _f("order.total", "gte", 200)])  # fmt: skip
    add("PayPal first order", "order.paid",
        [_f("order.payment_method", "eq", "paypal"), _f("order.is_first", "eq", True)])  # fmt: skip
    add("UK orders", "order.completed", [_f("order.shipping_country", "eq", "GB")])
    add("DACH orders", "order.completed", [_f("order.shipping_country", "in", ["DE", "AT", "CH"])])
    add("Loyal: 5+ orders", "order.completed", [_f("customer.orders_count", "gte", 5)])
    add("Spent 1000+", "order.completed", [_f("customer.total_spent", "gte", 1000)])
    add("Registered repeat buyer", "order.paid",
        [_f("customer.is_registered", "eq", True), _f("order.is_first", "eq", False)])  # fmt: skip
    add("Tag gift buyers", "order.completed", [_f("order.categories", "contains", "Gifts")],
        steps=[{"key": "tag", "type": "action", "action": "add_tag",
                "params": {"tag": "gift-buyer"}}])  # fmt: skip
    add("Cancelled after payment", "order.cancelled", [_f("order.is_paid", "eq", True)],
        category="transactional",
        steps=[{"key": "tag", "type": "action", "action": "add_tag",
                "params": {"tag": "cancelled-after-paid"}}])  # fmt: skip
    assert len(flows) == 38, len(flows)
    return flows


def create_flows(store: Any) -> dict[int, str]:
    """The 12 presets and the 38 custom flows, all active. Returns {flow id: name}."""
    from aftercare.flows import presets, services

    made = [services.enable_preset(store=store, name=name) for name in presets.names()]
    made += [
        services.create_flow(store=store, data=data, status="active") for data in custom_flows()
    ]
    return {flow.pk: flow.name for flow in made}


# ---------------------------------------------------------------------------------------------
# checks: a few flows' runs counted independently from the generated events


def expected_runs(shop: MatchShop) -> dict[str, int]:
    paid_orders = {order for _, type_, order, _, _ in shop.events if type_ == "order.paid"}
    # order-status: a move to processing/shipped/completed, or an order that arrives with one
    # of those statuses (order.created counts as a move from nothing).
    wanted = ("processing", "completed")
    status_moves = {
        (order, payload["to"])
        for _, type_, order, _, payload in shop.events
        if type_ == "order.status_changed" and payload["to"] in wanted
    } | {
        (order, payload["status"])
        for _, type_, order, _, payload in shop.events
        if type_ == "order.created" and payload["status"] in wanted
    }
    final_paid: Counter[int] = Counter(o.customer for o in shop.orders if o.date_paid is not None)
    paying = {customer for _, type_, _, customer, _ in shop.events if type_ == "order.paid"}
    return {
        "Thank you": len(paid_orders),
        "Order status updates": len(status_moves),
        # The history facts are the orders' final state (written before matching), so "this
        # paid order took them to 2 paid orders" holds for customers with exactly 2 in the end.
        "Loyalty invitation": sum(1 for c in paying if final_paid[c] == 2),
        "Third paid order": sum(1 for c in paying if final_paid[c] == 3),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="order events (100000)")
    parser.add_argument("--batch", type=int, default=None, help="events per matcher batch")
    parser.add_argument("--database-url", default=None, help="postgres://… (default: SQLite)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", action="store_true", help="cProfile the matching")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    db = benchlib.BenchDatabase(database_url=args.database_url, keep=args.keep)
    try:
        return run(args, db)
    finally:
        db.close()


def run(args: argparse.Namespace, db: benchlib.BenchDatabase) -> int:
    from django.db import connection

    from aftercare.flows import matcher, triggers
    from aftercare.flows.models import Flow, FlowRun, ScheduledStep

    started = time.perf_counter()
    store = configure_store(db.reset())
    flow_names = create_flows(store)  # activated before any event is recorded
    active = Flow.objects.filter(store=store, status="active").count()
    shop = build_matching_shop(store, events=args.events, seed=args.seed)
    first_id, last_id = record_events(shop)
    analyze()
    listened = triggers.event_types_of(set(Flow.objects.values_list("trigger", flat=True)))
    types = Counter(type_ for _, type_, _, _, _ in shop.events)
    matched_types = sum(n for type_, n in types.items() if type_ in listened)
    print(
        f"{db.vendor}: {active} active flows; {len(shop.customer_ids)} customers, "
        f"{len(shop.orders)} orders, {sum(len(o.lines) for o in shop.orders)} lines; "
        f"{len(shop.events)} events (ids {first_id}-{last_id}) of which {matched_types} of "
        f"types some flow listens to: {dict(sorted(types.items()))}; "
        f"set up in {time.perf_counter() - started:.0f} s; code: {code_state()}",
        flush=True,
    )

    queries = QueryCount()
    meter = Meter()
    for pid in backend_pids():
        meter.watch("postgres", pid)
    with connection.execute_wrapper(queries), profiled(args.profile):
        read = matcher.match_store(store_id=store.pk, up_to=last_id, batch=args.batch)
    report = meter.stop()

    size = args.batch or matcher._batch_size()
    batches = queries.by_kind.get("UPDATE flows_flowcursor", 0)
    runs = Counter(
        flow_names[flow_id] for flow_id in FlowRun.objects.values_list("flow_id", flat=True)
    )
    steps = ScheduledStep.objects.count()
    expected = expected_runs(shop)
    checks = {name: (runs.get(name, 0), want) for name, want in expected.items()}
    ok = read == matched_types and all(got == want for got, want in checks.values())
    result = {
        "database": db.vendor,
        "active_flows": active,
        "events": len(shop.events),
        "events_of_listened_types": matched_types,
        "read": read,
        "batch": size,
        "batches": batches,
        "seconds": round(report.wall, 2),
        "events_per_s": round(len(shop.events) / report.wall),
        "listened_events_per_s": round(matched_types / report.wall),
        "listened_events_per_cpu_s": round(matched_types / max(report.own_cpu, 1e-9)),
        "queries": queries.count,
        "queries_per_batch": round(queries.count / max(batches, 1), 1),
        "sql_execute_s": round(queries.seconds, 2),
        "runs": sum(runs.values()),
        "first_steps": steps,
        "runs_by_flow": dict(runs.most_common()),
        "checks": {k: {"runs": g, "expected": w} for k, (g, w) in checks.items()},
        **report.as_dict(),
        "profiled": args.profile,
        "code": code_state(),
    }
    rate = result["listened_events_per_s"]
    print(
        f"matched {read} events of listened types ({len(shop.events)} in the log) in "
        f"{report.wall:.2f} s = {rate:,} events/s per worker "
        f"({result['events_per_s']:,}/s over the whole log; "
        f"{result['listened_events_per_cpu_s']:,} per CPU-second of this process)"
    )
    print(
        f"{batches} batches of {size}: {queries.count} queries = "
        f"{result['queries_per_batch']} per batch ({queries.seconds:.2f} s inside execute); "
        f"by kind: {dict(queries.by_kind.most_common(12))}"
    )
    print(f"{sum(runs.values())} runs started, {steps} first steps planned; by flow:")
    for name, n in runs.most_common():
        print(f"  {n:7d}  {name}")
    for name, (got, want) in checks.items():
        verdict = "ok" if got == want else "MISMATCH"
        print(f"check {name!r}: {got} runs, {want} expected from the events: {verdict}")
    print(report.line())
    if args.profile:
        print("(profiled run: cProfile slows the matching, the rate above is not the figure)")
    target = "MET" if rate >= 5000 else "MISSED"
    print(f"target >= 5,000 events/s per worker: {target}; checks: {'OK' if ok else 'FAILED'}")
    if args.json:
        print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
