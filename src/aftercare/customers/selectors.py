"""Store-scoped reads of customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Lower

from aftercare.core.errors import NotFound
from aftercare.customers.models import ConsentChange, Customer, MergedCustomer, Tag
from aftercare.events.models import Event
from aftercare.stores.models import Store


def customers_for_store(
    *,
    store: Store,
    email: str | None = None,
    search: str | None = None,
    external_id: int | None = None,
) -> QuerySet[Customer]:
    customers = Customer.objects.filter(store=store)
    if email:
        customers = customers.filter(email=email.strip().lower())
    if external_id is not None:
        customers = customers.filter(external_id=external_id)
    if search:
        customers = customers.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return customers.order_by("-first_seen_at", "-id")


def with_order_stats(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    paid = Q(orders__status__in=["processing", "completed"], orders__deleted_at__isnull=True)
    return customers.annotate(
        order_count=Count("orders", filter=paid),
        total_spent=Sum("orders__total", filter=paid),
    )


def get_customer(*, store: Store, customer_id: int) -> Customer:
    customer = with_order_stats(Customer.objects.filter(store=store, pk=customer_id)).first()
    if customer is None:
        raise NotFound(f"no customer {customer_id} in this store")
    return customer


def current_customer(*, store: Store, customer_id: int) -> Customer | None:
    """The living customer a link's customer id stands for: that row, or the account it was
    merged into (customers.merging); None when neither exists or the customer was deleted."""
    customer = Customer.objects.filter(store=store, pk=customer_id).first()
    if customer is None:
        alias = MergedCustomer.objects.filter(store=store, merged_id=customer_id).first()
        customer = alias.customer if alias is not None else None
    if customer is None or customer.deleted_at is not None:
        return None
    return customer


def find_customer(*, store: Store, customer_id: int) -> Customer:
    """One customer of the store, without aggregates (the 360 page reads figures from
    analytics' CustomerStats instead of summing orders)."""
    customer = Customer.objects.filter(store=store, pk=customer_id).first()
    if customer is None:
        raise NotFound(f"no customer {customer_id} in this store")
    return customer


def tags_of(*, customer: Customer) -> list[Tag]:
    return list(Tag.objects.filter(links__customer=customer).order_by(Lower("name"), "id"))


def tags_for_store(*, store: Store) -> list[Tag]:
    """Every tag of the store with `customers_count` (how many customers have it)."""
    return list(
        Tag.objects.filter(store=store)
        .annotate(customers_count=Count("links"))
        .order_by(Lower("name"), "id")
    )


def consent_history(*, customer: Customer, limit: int = 50) -> list[ConsentChange]:
    return list(customer.consent_history.order_by("-occurred_at", "-id")[:limit])


@dataclass(frozen=True)
class ActivityPage:
    events: list[Event]
    next_cursor: str | None  # pass back as `before` for the next (older) page


def activity(
    *, store: Store, customer: Customer, before: str | None = None, limit: int = 25
) -> ActivityPage:
    """Every event about the customer, newest first, a page at a time (keyset pagination on
    (occurred_at, id), served by the (store, customer_id, occurred_at) index)."""
    events = Event.objects.filter(store=store, customer_id=customer.pk)
    cursor = _parse_cursor(before)
    if cursor is not None:
        at, event_id = cursor
        events = events.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=event_id))
    rows = list(events.order_by("-occurred_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = f"{rows[-1].occurred_at.isoformat()}|{rows[-1].pk}" if more and rows else None
    return ActivityPage(events=rows, next_cursor=next_cursor)


def _parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value or "|" not in value:
        return None
    at, _, event_id = value.rpartition("|")
    try:
        parsed = datetime.fromisoformat(at)
        return (parsed, int(event_id)) if parsed.tzinfo is not None else None
    except ValueError:
        return None


def prefix(column: str, value: str) -> Q:
    """`column` starts with `value`, asked so that an index serves it on both databases.

    PostgreSQL: LIKE 'abc%' (the search indexes of migration 0002 use pattern operator
    classes). SQLite: LIKE is case-insensitive there and never uses an index, so the same
    prefix is asked as a range [abc, abd) — exact under SQLite's BINARY collation."""
    if not value:
        return Q()
    if connection.vendor == "sqlite":
        upper = value[:-1] + chr(min(ord(value[-1]) + 1, 0x10FFFF))
        return Q(**{f"{column}__gte": value, f"{column}__lt": upper})
    return Q(**{f"{column}__startswith": value})
