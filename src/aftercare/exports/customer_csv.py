"""The customer list as CSV lines: the same search and filters as the dashboard list
(analytics.customer_directory), in the list's order, one line per customer.

    for line in customer_csv.lines(store=store, filters=filters, include_money=True): ...

The first line starts with a UTF-8 byte order mark so Excel reads names in any script; every
text cell is made formula-safe (csv_cells)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from itertools import islice

from aftercare.analytics import customer_directory
from aftercare.analytics.customer_directory import DirectoryFilters
from aftercare.analytics.models import CustomerStats
from aftercare.customers.models import Customer, CustomerTag
from aftercare.exports.csv_cells import BOM, safe_cell
from aftercare.stores.models import Store

CHUNK = 1000
PROFILE_COLUMNS = [
    "id", "email", "first_name", "last_name", "phone", "locale", "time_zone", "country",
    "registered", "woocommerce_id", "marketing_consent", "first_seen_at", "orders_count",
]  # fmt: skip
MONEY_COLUMNS = ["total_spent", "currency"]
TAIL_COLUMNS = ["first_order_at", "last_order_at", "segment", "tags"]


def header(*, include_money: bool) -> list[str]:
    return [*PROFILE_COLUMNS, *(MONEY_COLUMNS if include_money else []), *TAIL_COLUMNS]


def lines(
    *,
    store: Store,
    filters: DirectoryFilters,
    include_money: bool,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """CSV text, a chunk of rows at a time. `progress(rows_so_far)` is called after each chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(include_money=include_money))
    yield BOM + _take(buffer)
    found = customer_directory.customers(store=store, filters=filters)
    done = 0
    rows = found.iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        tags = _tags_by_customer([c.pk for c in chunk])
        for customer in chunk:
            writer.writerow([safe_cell(v) for v in _values(customer, store, tags, include_money)])
        done += len(chunk)
        yield _take(buffer)
        if progress is not None:
            progress(done)


def _values(
    customer: Customer, store: Store, tags: dict[int, list[str]], include_money: bool
) -> list[object]:
    try:
        stats: CustomerStats | None = customer.stats
    except CustomerStats.DoesNotExist:
        stats = None
    values: list[object] = [
        customer.pk, customer.email, customer.first_name, customer.last_name, customer.phone,
        customer.locale, customer.time_zone, customer.country, customer.is_registered,
        customer.external_id, customer.marketing_consent, customer.first_seen_at,
        stats.orders_count if stats else 0,
    ]  # fmt: skip
    if include_money:
        values += [stats.total_spent if stats else 0, store.currency]
    values += [
        stats.first_order_at if stats else None,
        stats.last_order_at if stats else None,
        stats.segment if stats else "",
        ", ".join(tags.get(customer.pk, [])),
    ]
    return values


def _tags_by_customer(customer_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    links = (
        CustomerTag.objects.filter(customer_id__in=customer_ids)
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    )
    for customer_id, name in links:
        found.setdefault(customer_id, []).append(name)
    return found


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
