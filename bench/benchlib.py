"""What the benchmarks share: a throw-away database with one store, and real WooCommerce order
deliveries made distinct and signed.

    db = benchlib.BenchDatabase(database_url=None)    # before Django is imported; sets the env
    store = db.reset()                                # fresh schema (migrate) + store "bench"
    maker = benchlib.OrderDeliveries.from_shared_data()
    body, headers = maker.delivery(order=..., topic="order.updated")
    db.close()                                        # drops the database, removes the temp dir

The deliveries are the captured `order.updated` bodies of the real WooCommerce 10 store
(../shared/data/woocommerce/run1-legacy-post-storage/, read at run time, never copied here) with
the id, number, email, status, dates and refunds replaced, re-encoded the way `wp_json_encode`
does it (compact, `\\/`, `\\uXXXX`; checked byte for byte against the captures) and signed like
WooCommerce: base64(HMAC-SHA256(secret, body))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
STORE_SLUG = "bench"
# The bench store's secret (like secrets.token_urlsafe: no '&', SPEC §3); only for temp databases.
WEBHOOK_SECRET = "bench-secret-Yx7Qv2LkP9sT4wZr"  # noqa: S105
WOO_DATA_ENV = "AFTERCARE_BENCH_WOO_DATA"
_DROPPED_HEADERS = {"host", "content-length", "connection"}


def woo_data_dir() -> Path:
    """The shared WooCommerce captures: $AFTERCARE_BENCH_WOO_DATA or ../shared/data/woocommerce."""
    configured = os.environ.get(WOO_DATA_ENV)
    return Path(configured) if configured else REPO.parent / "shared" / "data" / "woocommerce"


# ---------------------------------------------------------------------------------------------
# the database


class BenchDatabase:
    """A temporary SQLite file (default) or a PostgreSQL database created for the run.

    Sets AFTERCARE_DATA_DIR / DATABASE_URL / DJANGO_SETTINGS_MODULE in os.environ, so it must be
    made before Django is imported; child processes (gunicorn) inherit them."""

    def __init__(self, *, database_url: str | None, keep: bool = False) -> None:
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
        self.sqlite_path: Path | None = None
        if database_url:
            if not database_url.startswith(("postgres://", "postgresql://")):
                raise SystemExit("--database-url must be postgres://… (SQLite is the default)")
            self.url = database_url
        else:
            self.sqlite_path = self.tmp / "aftercare.sqlite3"
            self.url = f"sqlite:///{self.sqlite_path}"
        os.environ["AFTERCARE_DATA_DIR"] = str(self.tmp)
        os.environ["DATABASE_URL"] = self.url
        os.environ["DJANGO_SETTINGS_MODULE"] = "aftercare.settings"
        os.environ.setdefault("AFTERCARE_LOG_LEVEL", "WARNING")
        (self.tmp / "static").mkdir()  # whitenoise warns about a missing STATIC_ROOT otherwise
        import django

        django.setup()

    @property
    def vendor(self) -> str:
        return "sqlite" if self.sqlite_path else "postgresql"

    def _maintenance(self, sql: str) -> None:
        import psycopg

        parts = urlsplit(self.url)
        admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    def _pg_name(self) -> str:
        name = urlsplit(self.url).path.lstrip("/")
        if not name.replace("_", "").isalnum():
            raise SystemExit(f"refusing to create/drop database {name!r}: use [a-z0-9_]")
        return name

    def _drop(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.sqlite_path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
        else:
            self._maintenance(f'DROP DATABASE IF EXISTS "{self._pg_name()}" WITH (FORCE)')

    def reset(self) -> Any:
        """Drop and re-create the database, migrate, create the store. Returns the Store."""
        from django.core.management import call_command

        from aftercare.ingest.webhooks import receiver
        from aftercare.stores.services import create_store

        self._drop()
        if self.sqlite_path is None:
            self._maintenance(f'CREATE DATABASE "{self._pg_name()}"')
        call_command("migrate", verbosity=0)
        receiver.forget_cached_stores()
        return create_store(slug=STORE_SLUG, name="Bench shop", webhook_secret=WEBHOOK_SECRET)

    def size_bytes(self) -> int:
        if self.sqlite_path is not None:
            return sum(
                Path(f"{self.sqlite_path}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{self.sqlite_path}{s}").exists()
            )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])

    def close(self) -> None:
        if self.keep:
            print(f"kept: {self.url}")
            from django.db import connections

            connections.close_all()
            return
        self._drop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def delivery_counts() -> dict[str, int]:
    """WebhookDelivery rows by status, plus "total"."""
    from django.db.models import Count

    from aftercare.ingest.models import WebhookDelivery

    counts = {
        row["status"]: row["n"]
        for row in WebhookDelivery.objects.values("status").annotate(n=Count("id"))
    }
    counts["total"] = sum(counts.values())
    return counts


def mirror_counts() -> dict[str, int]:
    from aftercare.customers.models import Customer
    from aftercare.events.models import Event
    from aftercare.orders.models import LineItem, Order, OrderStatusChange, Refund

    return {
        "orders": Order.objects.count(),
        "customers": Customer.objects.count(),
        "line_items": LineItem.objects.count(),
        "refunds": Refund.objects.count(),
        "status_changes": OrderStatusChange.objects.count(),
        "events": Event.objects.count(),
    }


# ---------------------------------------------------------------------------------------------
# deliveries


def wp_json_encode(payload: Any) -> bytes:
    """PHP's `wp_json_encode` output: compact, non-ASCII as \\uXXXX, slashes escaped."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode()


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(slots=True)
class OrderVersion:
    """One state of an order as the shop would send it."""

    order_id: int
    email: str
    customer_id: int  # 0 = guest
    status: str
    created: datetime
    modified: datetime
    # (refund id, amount like "5.00"; "" = the whole order total)
    refunds: list[tuple[int, str]] = field(default_factory=list)
    template: int = 0  # which captured body to start from


_PAID = {"processing", "completed", "refunded"}


class OrderDeliveries:
    """Builds signed `order.*` deliveries from the captured real ones."""

    def __init__(self, captures: list[dict[str, Any]]) -> None:
        if not captures:
            raise SystemExit("no *order.updated.json captures found")
        self.templates = [json.loads(c["body_raw"]) for c in captures]
        self.headers = [
            {k: v for k, v in c["headers"].items() if k.lower() not in _DROPPED_HEADERS}
            for c in captures
        ]
        for capture in captures:  # the encoder must reproduce WooCommerce's bytes exactly
            if wp_json_encode(json.loads(capture["body_raw"])) != capture["body_raw"].encode():
                raise SystemExit("wp_json_encode does not reproduce a captured body byte for byte")

    @classmethod
    def from_shared_data(cls, data_dir: Path | None = None) -> OrderDeliveries:
        root = (data_dir or woo_data_dir()) / "run1-legacy-post-storage"
        files = sorted(root.glob("*order.updated.json"))
        if not files:
            raise SystemExit(
                f"no captures in {root}: set {WOO_DATA_ENV} to the shared woocommerce data dir"
            )
        captures, seen = [], set()
        for path in files:
            capture = json.loads(path.read_text())
            if capture["body_raw"] not in seen:  # the run has each body twice (two webhooks)
                seen.add(capture["body_raw"])
                captures.append(capture)
        return cls(captures)

    def body(self, version: OrderVersion) -> bytes:
        order = json.loads(json.dumps(self.templates[version.template % len(self.templates)]))
        oid = version.order_id
        order["id"] = oid
        order["number"] = str(oid)
        order["order_key"] = "wc_order_" + hashlib.md5(str(oid).encode()).hexdigest()[:13]  # noqa: S324
        order["status"] = version.status
        order["customer_id"] = version.customer_id
        order["billing"]["email"] = version.email
        created, modified = _stamp(version.created), _stamp(version.modified)
        order["date_created"] = order["date_created_gmt"] = created
        order["date_modified"] = order["date_modified_gmt"] = modified
        paid = _stamp(version.created + timedelta(seconds=40))
        paid_now = version.status in _PAID
        order["date_paid"] = order["date_paid_gmt"] = paid if paid_now else None
        done = version.status in ("completed", "refunded")
        order["date_completed"] = order["date_completed_gmt"] = modified if done else None
        order["needs_payment"] = not paid_now
        for index, line in enumerate(order.get("line_items") or []):
            line["id"] = oid * 10 + index
        order["refunds"] = [
            {"id": rid, "reason": "Damaged in transit", "total": f"-{amount or order['total']}"}
            for rid, amount in version.refunds
        ]
        for key in ("payment_url",):
            if isinstance(order.get(key), str):
                order[key] = order[key].replace("/14/", f"/{oid}/").replace("/16/", f"/{oid}/")
        links = order.get("_links") or {}
        for entries in links.values():
            for entry in entries:
                href = entry.get("href", "")
                if "/orders/" in href:
                    prefix, _, rest = href.partition("/orders/")
                    tail = rest.partition("/")[2]
                    entry["href"] = f"{prefix}/orders/{oid}" + (f"/{tail}" if tail else "")
        if version.customer_id == 0:
            links.pop("customer", None)
        return wp_json_encode(order)

    def delivery(
        self, version: OrderVersion, *, topic: str = "order.updated", secret: str = WEBHOOK_SECRET
    ) -> tuple[bytes, dict[str, str]]:
        """(raw body, headers) of one delivery, signed with `secret`."""
        body = self.body(version)
        headers = dict(self.headers[version.template % len(self.headers)])
        resource, _, event = topic.partition(".")
        headers["X-WC-Webhook-Topic"] = topic
        headers["X-WC-Webhook-Resource"] = resource
        headers["X-WC-Webhook-Event"] = event
        headers["X-WC-Webhook-Signature"] = sign(body, secret)
        seed = f"{headers.get('X-WC-Webhook-ID', '')}{version.order_id}{version.modified}"
        headers["X-WC-Webhook-Delivery-ID"] = hashlib.md5(seed.encode()).hexdigest()  # noqa: S324
        return body, headers


# ---------------------------------------------------------------------------------------------
# a shop's history of order versions


_FIRST_STATUS = (("pending", 25), ("processing", 35), ("completed", 30), ("on-hold", 6))
_FIRST_STATUS += (("failed", 2), ("cancelled", 2))
_NEXT_STATUS = {
    "pending": (("processing", 60), ("completed", 25), ("cancelled", 15)),
    "on-hold": (("processing", 80), ("cancelled", 20)),
    "failed": (("pending", 100),),
    "processing": (("completed", 100),),
    "cancelled": (("cancelled", 100),),  # a note or address change: same status, new content
    "completed": (("completed", 100),),  # a partial refund (below) or an edit
}
_START = datetime(2025, 1, 1, tzinfo=UTC)


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def order_history(
    *,
    orders: int,
    update_share: float,
    repeat_share: float,
    duplicate_share: float = 0.0,
    first_order_id: int = 1000,
    seed: int = 7,
    min_gap: int = 1000,
    max_gap: int = 6000,
) -> list[tuple[str, OrderVersion]]:
    """(topic, version) in delivery order for `orders` distinct orders.

    Every order is created once (`order.created`); `update_share` of them get one later
    `order.updated` (status change, partial or full refund), between `min_gap` and `max_gap`
    deliveries after the creation (so a create and its update are rarely in one batch).
    `repeat_share` of orders are placed by a customer who ordered before (same email); 40 % of
    customers have an account (customer_id), the rest are guests. `duplicate_share` of the
    versions are delivered twice (WooCommerce re-sends; the copy changes nothing)."""
    rng = random.Random(seed)
    timeline: list[tuple[float, int, str, OrderVersion]] = []
    customers: list[tuple[str, int]] = []
    seq = 0
    for index in range(orders):
        if customers and rng.random() < repeat_share:
            email, customer_id = customers[rng.randrange(len(customers))]
        else:
            n = len(customers)
            email = f"buyer{n}.{rng.randrange(10**6)}@example.com"
            customer_id = 5000 + n if n % 5 < 2 else 0
            customers.append((email, customer_id))
        order_id = first_order_id + index
        created = _START + timedelta(seconds=index * 37)
        status = _pick(rng, _FIRST_STATUS)
        template = rng.randrange(1 << 16)
        first = OrderVersion(order_id, email, customer_id, status, created, created, [], template)
        timeline.append((float(index), seq, "order.created", first))
        seq += 1
        if rng.random() < duplicate_share:
            timeline.append((index + rng.uniform(min_gap, max_gap), seq, "order.updated", first))
            seq += 1
        if rng.random() >= update_share:
            continue
        new_status = _pick(rng, _NEXT_STATUS[status])
        refunds: list[tuple[int, str]] = []
        if status == "completed":
            if rng.random() < 0.3:
                new_status = "refunded"
                refunds = [(order_id * 10 + 9, "")]
            else:
                refunds = [(order_id * 10 + 9, f"{rng.randrange(1, 20)}.00")]
        at = index + rng.uniform(min_gap, max_gap)
        modified = created + timedelta(hours=rng.uniform(1, 72))
        later = OrderVersion(
            order_id, email, customer_id, new_status, created, modified, refunds, template
        )
        timeline.append((at, seq, "order.updated", later))
        seq += 1
    timeline.sort(key=lambda item: (item[0], item[1]))
    return [(topic, version) for _, _, topic, version in timeline]
