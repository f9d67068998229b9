"""core/bulk_rows: plain-row INSERT/UPDATE/SELECT on both vendors; on PostgreSQL the COPY path
(big calls) and the executemany path (small calls) must write the same rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from aftercare.core import bulk_rows
from aftercare.customers.models import Customer
from aftercare.orders.models import LineItem, Order
from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db

_ORDER_COLUMNS = (
    "store_id", "external_id", "number", "status", "currency", "total", "coupon_codes", "meta",
    "source", "date_created", "date_modified", "date_paid",
)  # fmt: skip
_WHEN = datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


def _order_row(store: Store, external_id: int) -> tuple[Any, ...]:
    # fmt: off
    return (
        store.pk, external_id, str(external_id), "completed", "EUR", Decimal("12.50"),
        ["SPRING"], {"k": [1, "ü"]}, "import", _WHEN, _WHEN, None,
    )
    # fmt: on


def _stored(store: Store) -> list[tuple[Any, ...]]:
    return list(
        Order.objects.filter(store=store)
        .order_by("external_id")
        .values_list(
            "external_id",
            "total",
            "coupon_codes",
            "meta",
            "date_created",
            "date_paid",
            "refunded_total",
            "deleted_at",
            "customer_id",
        )
    )


@pytest.mark.parametrize("copy_min_rows", [1, 10**9], ids=["copy", "executemany"])
def test_insert_returning_writes_every_value_and_maps_ids(
    store: Store, monkeypatch: pytest.MonkeyPatch, copy_min_rows: int
) -> None:
    """COPY (PostgreSQL, big calls) and executemany give the same rows; defaults are filled."""
    monkeypatch.setattr(bulk_rows, "COPY_MIN_ROWS", copy_min_rows)
    rows = [_order_row(store, n) for n in (7, 3, 5)]
    ids = bulk_rows.insert_returning(
        model=Order, columns=_ORDER_COLUMNS, rows=rows, key="external_id"
    )
    assert {Order.objects.get(pk=pk).external_id: pk for pk in ids.values()} == ids
    expected = (Decimal("12.50"), ["SPRING"], {"k": [1, "ü"]}, _WHEN, None, Decimal("0"))
    expected = (*expected, None, None)
    assert _stored(store) == [(n, *expected) for n in (3, 5, 7)]
    order = Order.objects.get(external_id=3)
    assert order.updated_at is not None and order.content_hash == ""


def test_copy_and_executemany_write_identical_line_items(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY is the PostgreSQL path")
    ids = bulk_rows.insert_returning(
        model=Order, columns=_ORDER_COLUMNS, rows=[_order_row(store, 1)], key="external_id"
    )
    columns = ("order_id", "external_id", "name", "sku", "quantity", "unit_price", "subtotal",
               "total", "product_external_id")  # fmt: skip
    line = (ids[1], 0, "Mug \t tab\nnewline \\ back", "", 2, Decimal("1.10"), Decimal("2.20"),
            Decimal("2.20"), None)  # fmt: skip
    monkeypatch.setattr(bulk_rows, "COPY_MIN_ROWS", 1)
    bulk_rows.insert_tuples(model=LineItem, columns=columns, rows=[(*line[:1], 1, *line[2:])])
    monkeypatch.setattr(bulk_rows, "COPY_MIN_ROWS", 10**9)
    bulk_rows.insert_tuples(model=LineItem, columns=columns, rows=[(*line[:1], 2, *line[2:])])
    stored = list(
        LineItem.objects.order_by("external_id").values_list(
            "name", "quantity", "unit_price", "product_external_id", "total_tax"
        )
    )
    assert stored[0] == stored[1] == (line[2], 2, Decimal("1.10"), None, Decimal("0"))


def test_insert_rows_takes_dicts_and_reports_missing_required_columns(store: Store) -> None:
    assert bulk_rows.insert_rows(model=Customer, rows=[{"store_id": store.pk, "email": "a@x.io"}])
    customer = Customer.objects.get(email="a@x.io")
    assert (customer.is_registered, customer.marketing_consent, customer.birthday) == (
        False, "unknown", None
    )  # fmt: skip
    with pytest.raises(KeyError, match="email"):
        bulk_rows.insert_rows(model=Customer, rows=[{"store_id": store.pk}])
    assert bulk_rows.insert_rows(model=Customer, rows=[]) == 0


def test_select_in_filters_and_returns_aware_datetimes(store: Store, other_store: Store) -> None:
    bulk_rows.insert_tuples(
        model=Order,
        columns=_ORDER_COLUMNS,
        rows=[_order_row(store, n) for n in range(1, 1201)] + [_order_row(other_store, 5)],
    )
    found = bulk_rows.select_in(
        model=Order,
        columns=("external_id", "date_created", "date_paid"),
        where={"store_id": store.pk},
        column="external_id",
        values=[5, 1100, 99999],
    )
    assert sorted(found) == [(5, _WHEN, None), (1100, _WHEN, None)]
    assert all(row[1].tzinfo is not None for row in found)
    assert bulk_rows.select_in(model=Order, columns=("id",), where={}, column="id", values=[]) == []


def test_update_rows_sets_fields_by_primary_key(store: Store) -> None:
    ids = bulk_rows.insert_returning(
        model=Order, columns=_ORDER_COLUMNS, rows=[_order_row(store, 1)], key="external_id"
    )
    bulk_rows.update_rows(
        model=Order,
        fields=["status", "meta", "date_paid"],
        rows=[{"id": ids[1], "status": "refunded", "meta": {"a": 1}, "date_paid": _WHEN}],
    )
    order = Order.objects.get(pk=ids[1])
    assert (order.status, order.meta, order.date_paid) == ("refunded", {"a": 1}, _WHEN)


def test_insert_or_skip_returns_only_the_rows_it_inserted(store: Store) -> None:
    """ON CONFLICT DO NOTHING: rows breaking the unique constraint are skipped, not raised, and
    the ones written come back with their new ids (the matcher relies on both)."""
    first = bulk_rows.insert_or_skip(
        model=Order,
        columns=_ORDER_COLUMNS,
        rows=[_order_row(store, 1), _order_row(store, 2)],
        conflict=("store", "external_id"),
        returning=("id", "external_id"),
    )
    assert sorted(external for _, external in first) == [1, 2]
    again = bulk_rows.insert_or_skip(
        model=Order,
        columns=_ORDER_COLUMNS,
        rows=[_order_row(store, 2), _order_row(store, 3)],
        conflict=("store", "external_id"),
        returning=("id", "external_id"),
    )
    assert [external for _, external in again] == [3]
    ids = dict(Order.objects.filter(store=store).values_list("external_id", "id"))
    assert {external: pk for pk, external in [*first, *again]} == ids
    assert bulk_rows.insert_or_skip(
        model=Order, columns=_ORDER_COLUMNS, rows=[], conflict=("store",), returning=("id",)
    ) == []


def test_insert_instance_writes_what_save_would(store: Store) -> None:
    """Every column as the instance holds it (defaults included), the new id set on it."""
    order = Order(
        store=store, external_id=9, number="9", status="processing", currency="KRW",
        total=Decimal(32000), coupon_codes=["A"], meta={"ü": [1]}, date_created=_WHEN,
        date_modified=_WHEN,
    )  # fmt: skip
    pk = bulk_rows.insert_instance(order)
    assert order.pk == pk and not order._state.adding
    stored = Order.objects.get(pk=pk)
    assert (stored.total, stored.coupon_codes, stored.meta, stored.date_created) == (
        Decimal(32000), ["A"], {"ü": [1]}, _WHEN,
    )  # fmt: skip
    assert stored.refunded_total == Decimal(0) and stored.date_paid is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite enforces no lengths")
def test_insert_or_skip_refuses_an_overlong_value_instead_of_truncating_it(store: Store) -> None:
    """The PostgreSQL path casts arrays to the base type (varchar, not varchar(n)): an explicit
    varchar(n) cast would cut the value silently."""
    from django.db import DataError

    row = list(_order_row(store, 1))
    row[_ORDER_COLUMNS.index("currency")] = "EURO-TOO-LONG"
    with pytest.raises(DataError):
        bulk_rows.insert_or_skip(
            model=Order, columns=_ORDER_COLUMNS, rows=[tuple(row)], conflict=("store",
            "external_id"), returning=("id",),
        )  # fmt: skip
