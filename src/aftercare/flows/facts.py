"""Loading the facts conditions ask about, fresh from the mirror, for many subjects at once.

    table = facts.load(store=store, subjects=[Subject(customer_id=5, order_id=9), …],
                       sources={"order", "history"}, now=now)
    table[Subject(5, 9)]["order.status"]   # "completed"

A batch of due steps or matched events costs a handful of queries, whatever its size: one per
source, each over all the batch's orders or customers (in chunks of 900 ids for SQLite).
Customer history (paid orders, net spend, first order) is computed from the orders themselves,
not from analytics' figures, which trail the event log by up to a minute: a thank-you sent a
second after payment must already know whether this was the first order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Q

from aftercare.analytics.models import CustomerStats
from aftercare.catalog.models import Product
from aftercare.customers.models import Customer, CustomerTag
from aftercare.orders.models import LineItem, Order
from aftercare.stores.models import Store

PAID_STATUSES = ("processing", "completed", "refunded")
ALL_SOURCES = frozenset({"order", "lines", "customer", "history", "stats", "tags"})
CHUNK = 900


class Subject(NamedTuple):
    customer_id: int | None
    order_id: int | None


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _paid(order: dict[str, Any]) -> bool:
    return order["date_paid"] is not None or order["status"] in PAID_STATUSES


def load(
    *, store: Store, subjects: Iterable[Subject], sources: Iterable[str], now: datetime
) -> dict[Subject, dict[str, Any]]:
    subjects = list(dict.fromkeys(subjects))
    wanted = set(sources) & ALL_SOURCES
    table: dict[Subject, dict[str, Any]] = {s: {} for s in subjects}
    order_ids = [s.order_id for s in subjects if s.order_id is not None]
    customer_ids = [s.customer_id for s in subjects if s.customer_id is not None]
    orders = _orders(store=store, order_ids=order_ids) if wanted & {"order", "history"} else {}
    by_order: dict[int, dict[str, Any]] = {}
    by_customer: dict[int, dict[str, Any]] = defaultdict(dict)
    if "order" in wanted:
        by_order = {order_id: _order_facts(row) for order_id, row in orders.items()}
    if "lines" in wanted and order_ids:
        for order_id, facts in _line_facts(store=store, order_ids=order_ids).items():
            by_order.setdefault(order_id, {}).update(facts)
    if "customer" in wanted and customer_ids:
        for customer_id, facts in _customer_facts(store=store, customer_ids=customer_ids).items():
            by_customer[customer_id].update(facts)
    if "stats" in wanted and customer_ids:
        for customer_id, segment in _segments(store=store, customer_ids=customer_ids).items():
            by_customer[customer_id]["customer.segment"] = segment
    if "tags" in wanted and customer_ids:
        tags = _tags(store=store, customer_ids=customer_ids)
        for customer_id in customer_ids:
            by_customer[customer_id]["customer.tags"] = sorted(tags.get(customer_id, []))
    history = _history(store=store, customer_ids=customer_ids) if "history" in wanted else {}
    for subject in subjects:
        row = table[subject]
        if subject.order_id is not None:
            row.update(by_order.get(subject.order_id, {}))
        if subject.customer_id is not None:
            row.update(by_customer.get(subject.customer_id, {}))
        if "history" in wanted and subject.customer_id is not None:
            paid = history.get(subject.customer_id, [])
            row.update(_history_facts(paid, subject.order_id, orders, now))
    return table


def _orders(*, store: Store, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    orders: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(order_ids):
        for row in Order.objects.filter(store=store, id__in=chunk).values(
            "id", "status", "total", "currency", "refunded_total", "date_paid", "deleted_at",
            "payment_method", "created_via", "shipping_country", "coupon_codes", "date_created",
        ):  # fmt: skip
            orders[row["id"]] = dict(row)
    return orders


def _segments(*, store: Store, customer_ids: list[int]) -> dict[int, str]:
    segments: dict[int, str] = {}
    for chunk in _chunks(customer_ids):
        segments.update(
            CustomerStats.objects.filter(store=store, customer_id__in=chunk).values_list(
                "customer_id", "segment"
            )
        )
    return segments


def _tags(*, store: Store, customer_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(customer_ids):
        for customer_id, name in CustomerTag.objects.filter(
            customer_id__in=chunk, tag__store=store
        ).values_list("customer_id", "tag__name"):
            tags[customer_id].append(name)
    return tags


def _order_facts(row: dict[str, Any]) -> dict[str, Any]:
    total, refunded = Decimal(row["total"]), Decimal(row["refunded_total"])
    return {
        "order.status": row["status"],
        "order.total": total,
        "order.currency": row["currency"],
        "order.refunded_total": refunded,
        "order.is_refunded": refunded > 0 or row["status"] == "refunded",
        "order.is_fully_refunded": row["status"] == "refunded" or (total > 0 and refunded >= total),
        "order.is_paid": _paid(row),
        "order.is_deleted": row["deleted_at"] is not None,
        "order.payment_method": row["payment_method"],
        "order.created_via": row["created_via"],
        "order.shipping_country": row["shipping_country"],
        "order.coupon_codes": list(row["coupon_codes"] or []),
    }


def _line_facts(*, store: Store, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows: dict[int, list[tuple[int | None, str, int]]] = defaultdict(list)
    product_ids: set[int] = set()
    for chunk in _chunks(order_ids):
        for order_id, product_id, sku, quantity in LineItem.objects.filter(
            order_id__in=chunk
        ).values_list("order_id", "product_external_id", "sku", "quantity"):
            rows[order_id].append((product_id, sku, quantity))
            if product_id is not None:
                product_ids.add(product_id)
    categories: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(product_ids):
        for product_id, name in Product.objects.filter(
            store=store, external_id__in=chunk
        ).values_list("external_id", "categories__name"):
            if name:
                categories[product_id].add(name)
    facts = {}
    for order_id, lines in rows.items():
        ids = [p for p, _, _ in lines if p is not None]
        facts[order_id] = {
            "order.item_count": sum(q for _, _, q in lines),
            "order.product_ids": ids,
            "order.skus": [s for _, s, _ in lines if s],
            "order.categories": sorted({c for p in ids for c in categories.get(p, ())}),
        }
    return facts


def _customer_facts(*, store: Store, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    facts = {}
    for chunk in _chunks(customer_ids):
        for row in Customer.objects.filter(store=store, id__in=chunk).values(
            "id", "locale", "country", "is_registered", "marketing_consent", "email", "phone",
            "deleted_at", "birthday", "time_zone",
        ):  # fmt: skip
            facts[row["id"]] = {
                "customer.language": (row["locale"] or "").split("_")[0].split("-")[0],
                "customer.country": row["country"],
                "customer.is_registered": row["is_registered"],
                "customer.marketing_consent": row["marketing_consent"],
                "customer.has_email": bool(row["email"]),
                "customer.has_phone": bool(row["phone"]),
                "customer.email": row["email"],
                "customer.is_deleted": row["deleted_at"] is not None,
                "customer.birthday": row["birthday"],
                "customer.time_zone": row["time_zone"],
            }
    return facts


def _history(*, store: Store, customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each customer's paid, not deleted orders, oldest first."""
    paid: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(customer_ids):
        for row in (
            Order.objects.filter(store=store, customer_id__in=chunk, deleted_at__isnull=True)
            .filter(Q(date_paid__isnull=False) | Q(status__in=PAID_STATUSES))
            .order_by("date_created", "id")
            .values("id", "customer_id", "total", "refunded_total", "date_created", "date_paid")
        ):
            paid[row["customer_id"]].append(dict(row))
    return paid


def _history_facts(
    paid: list[dict[str, Any]],
    order_id: int | None,
    orders: dict[int, dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    spent = sum((Decimal(o["total"]) - Decimal(o["refunded_total"]) for o in paid), Decimal(0))
    last = max((o["date_paid"] or o["date_created"] for o in paid), default=None)
    facts: dict[str, Any] = {
        "customer.first_order_date": (paid[0]["date_paid"] or paid[0]["date_created"]).date()
        if paid
        else None,
        "customer.orders_count": len(paid),
        "customer.total_spent": spent,
        "customer.days_since_last_order": (now - last).days if last is not None else None,
    }
    if order_id is not None:
        order = orders.get(order_id)
        if paid:
            facts["order.is_first"] = paid[0]["id"] == order_id
        elif order is not None:  # not paid (yet): first if nothing was paid before it
            facts["order.is_first"] = True
    return facts


def with_trigger(row: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The subject's facts plus what the trigger saw ("trigger.to": the status the order moved
    to, even if it has moved on since)."""
    return {**row, **{f"trigger.{key}": value for key, value in context.items()}}
