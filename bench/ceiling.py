"""The physical ceiling of an order import: the same NDJSON file written with bare `executemany`
(plain sqlite3 / psycopg, no Django) into the same tables — a copy of the migrated, empty bench
database, so columns, indexes, foreign keys and PRAGMAs are identical.

It writes what the mirror writes for a fresh import: customers (by email, from a dict), orders,
line items, refunds, one status change per order, and the events (order.created/paid/completed/
cancelled/refunded, customer.created). Ids are assigned in Python (we are the only writer) and
values go in as the JSON had them: no validation, no phone normalisation, no dedupe look-ups.

    stats = run_ceiling(connect=lambda: sqlite3.connect(path), path=ndjson, batch_size=2000)

With `copy=True` (PostgreSQL, psycopg 3) each table's batch goes through `COPY … FROM STDIN`
instead of `executemany`: the import uses COPY for big batches, so its fair ceiling does too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

TABLES: dict[str, tuple[str, ...]] = {
    "customers_customer": (
        "id", "store_id", "email", "external_id", "is_registered", "first_name", "last_name",
        "phone", "locale", "time_zone", "birthday", "country", "marketing_consent",
        "consent_source", "consent_at", "first_seen_at", "date_modified_gmt", "deleted_at",
        "created_at", "updated_at",
    ),
    "orders_order": (
        "id", "store_id", "external_id", "number", "status", "currency", "customer_id",
        "billing_email", "subtotal", "discount_total", "shipping_total", "total_tax", "total",
        "refunded_total", "billing_country", "billing_postcode", "shipping_country",
        "shipping_postcode", "customer_note", "created_via", "payment_method", "coupon_codes",
        "meta", "source", "date_created", "date_paid", "date_completed", "date_modified",
        "deleted_at", "content_hash", "updated_at",
    ),
    "orders_lineitem": (
        "id", "order_id", "external_id", "product_external_id", "variation_external_id", "name",
        "sku", "quantity", "unit_price", "subtotal", "total", "total_tax",
    ),
    "orders_refund": ("id", "order_id", "external_id", "amount", "reason", "created_at"),
    "orders_orderstatuschange": (
        "id", "order_id", "from_status", "to_status", "changed_at", "inferred", "source",
    ),
    "events_event": (
        "id", "store_id", "type", "subject_type", "subject_id", "customer_id", "occurred_at",
        "recorded_at", "payload", "dedupe_key",
    ),
}  # fmt: skip
_PAID = {"processing", "completed"}


@dataclass
class CeilingStats:
    orders: int = 0
    seconds: float = 0.0  # end to end: read + json.loads + rows + writes
    write_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def orders_and_lines_seconds(self) -> float:
        return self.write_seconds["orders_order"] + self.write_seconds["orders_lineitem"]


class _Rows:
    """Row tuples for one batch, with ids handed out in Python."""

    def __init__(self, *, store_id: int, when: Callable[[str | None], Any], now: Any) -> None:
        self.store_id, self.when, self.now = store_id, when, now
        self.next_id: dict[str, int] = defaultdict(lambda: 1)
        self.customers: dict[str, int] = {}
        self.batch: dict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _event(self, kind: str, subject: tuple[str, int], customer: int | None, at: Any) -> None:
        payload = json.dumps({"type": kind, "backfill": True})
        self.batch["events_event"].append(
            (self._id("events_event"), self.store_id, kind, subject[0], subject[1], customer, at,
             self.now, payload, f"{kind}:{subject[1]}:")
        )  # fmt: skip

    def _customer(self, billing: dict[str, Any], customer_id: int, seen: Any) -> int | None:
        email = (billing.get("email") or "").strip().lower()
        if not email:
            return None
        known = self.customers.get(email)
        if known is not None:
            return known
        pk = self.customers[email] = self._id("customers_customer")
        self.batch["customers_customer"].append(
            (pk, self.store_id, email, customer_id or None, bool(customer_id),
             billing.get("first_name", ""), billing.get("last_name", ""), billing.get("phone", ""),
             "", "", None, billing.get("country", ""), "unknown", "", None, seen, None, None,
             self.now, self.now)
        )  # fmt: skip
        self._event("customer.created", ("customer", pk), pk, seen)
        return pk

    def add(self, raw: bytes) -> None:
        o = json.loads(raw)
        when = self.when
        created, paid = when(o["date_created_gmt"]), when(o.get("date_paid_gmt"))
        completed, modified = when(o.get("date_completed_gmt")), when(o["date_modified_gmt"])
        billing, shipping = o.get("billing") or {}, o.get("shipping") or {}
        customer = self._customer(billing, o.get("customer_id") or 0, created)
        pk = self._id("orders_order")
        lines = o.get("line_items") or []
        refunds = o.get("refunds") or []
        subtotal = sum((Decimal(line["subtotal"]) for line in lines), start=Decimal(0))
        refunded = sum((-Decimal(r["total"]) for r in refunds), start=Decimal(0))
        meta = {m["key"]: m["value"] for m in o.get("meta_data") or []}
        self.batch["orders_order"].append(
            (pk, self.store_id, o["id"], o["number"], o["status"], o["currency"], customer,
             (billing.get("email") or "").lower(), str(subtotal), o["discount_total"],
             o["shipping_total"], o["total_tax"], o["total"], str(refunded),
             billing.get("country", ""), billing.get("postcode", ""), shipping.get("country", ""),
             shipping.get("postcode", ""), o.get("customer_note", ""), o.get("created_via", ""),
             o.get("payment_method", ""), json.dumps([c["code"] for c in o["coupon_lines"]]),
             json.dumps(meta), "import", created, paid, completed, modified, None,
             hashlib.blake2b(raw, digest_size=16).hexdigest(), self.now)
        )  # fmt: skip
        for line in lines:
            self.batch["orders_lineitem"].append(
                (self._id("orders_lineitem"), pk, line["id"], line["product_id"] or None,
                 line["variation_id"] or None, line["name"], line["sku"], line["quantity"],
                 str(line["price"]), line["subtotal"], line["total"], line["total_tax"])
            )  # fmt: skip
        for refund in refunds:
            self.batch["orders_refund"].append(
                (self._id("orders_refund"), pk, refund["id"], refund["total"].lstrip("-"),
                 refund["reason"], None)
            )  # fmt: skip
            self._event("order.refunded", ("order", pk), customer, modified)
        self.batch["orders_orderstatuschange"].append(
            (self._id("orders_orderstatuschange"), pk, "", o["status"], created, False, "import")
        )
        self._event("order.created", ("order", pk), customer, created)
        if paid is not None or o["status"] in _PAID:
            self._event("order.paid", ("order", pk), customer, paid or modified)
        if o["status"] == "completed":
            self._event("order.completed", ("order", pk), customer, completed or modified)
        elif o["status"] == "cancelled":
            self._event("order.cancelled", ("order", pk), customer, modified)


def run_ceiling(
    *,
    connection: Any,
    placeholder: str,
    path: Path,
    batch_size: int,
    store_id: int,
    when: Callable[[str | None], Any],
    now: Any,
    copy: bool = False,
) -> CeilingStats:
    """Write `path` into the database behind `connection` (a DB-API connection, autocommit off)."""
    stats = CeilingStats()
    rows = _Rows(store_id=store_id, when=when, now=now)
    sql = {
        table: f"INSERT INTO {table} ({', '.join(cols)}) "  # noqa: S608 - fixed table names
        f"VALUES ({', '.join([placeholder] * len(cols))})"
        for table, cols in TABLES.items()
    }
    cursor = connection.cursor()

    def flush() -> None:
        for table, columns in TABLES.items():  # parents first: foreign keys are checked
            batch = rows.batch.pop(table, [])
            if not batch:
                continue
            started = time.perf_counter()
            if copy:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
                    for row in batch:
                        out.write_row(row)
            else:
                cursor.executemany(sql[table], batch)
            stats.write_seconds[table] += time.perf_counter() - started
            stats.rows[table] += len(batch)
        started = time.perf_counter()
        connection.commit()
        stats.write_seconds["commit"] += time.perf_counter() - started

    started = time.perf_counter()
    pending = 0
    with path.open("rb", buffering=1 << 20) as handle:
        for raw in handle:
            if raw.isspace():
                continue
            rows.add(raw)
            pending += 1
            stats.orders += 1
            if pending >= batch_size:
                flush()
                pending = 0
    flush()
    stats.seconds = time.perf_counter() - started
    return stats
