"""File imports: NDJSON of WooCommerce orders and the generic CSV column set, through the mirror.

Fixture files are written to tmp_path by each test; the real order comes from shared/ at run
time (tests/shared_data.py), never copied into the repository."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.ingest import mirror
from aftercare.ingest.file_import import parsing, readers, service
from aftercare.ingest.file_import.errors import ImportFileError
from aftercare.ingest.models import ImportRun
from aftercare.orders.models import LineItem, Order, Refund
from aftercare.stores.models import Store
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db


def _order(order_id: int, **changes: Any) -> dict[str, Any]:
    """The real store's order (with its refund, coupon and two lines) under another id."""
    order = copy.deepcopy(woo_json("order.json"))
    order["id"] = order_id
    order["number"] = str(order_id)
    for n, line in enumerate(order["line_items"], start=1):
        line["id"] = order_id * 10 + n
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(order.get(key), dict):
            order[key].update(value)
        else:
            order[key] = value
    return order


def _ndjson(path: Path, lines: list[Any]) -> Path:
    text = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)
    path.write_text(text, encoding="utf-8")
    return path


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# NDJSON


def test_real_order_as_one_ndjson_line_imports_with_refund_coupon_and_lines(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "orders.ndjson"
    path.write_text(json.dumps(woo_json("order.json")) + "\n")

    run = service.import_orders(store=store, path=path)

    assert (run.status, run.rows_read, run.orders_applied, run.rows_rejected) == (
        "succeeded", 1, 1, 0
    )  # fmt: skip
    order = Order.objects.get(store=store, external_id=14)
    assert order.source == "import"
    assert str(order.total) == "53.15" and order.coupon_codes == ["thankyou10"]
    assert str(order.refunded_total) == "5.00"
    assert [(line.sku, line.quantity) for line in order.lines.order_by("external_id")] == [
        ("MUG-001", 2),
        ("STK-001", 1),
    ]
    refund = Refund.objects.get(order=order)
    assert (refund.external_id, str(refund.amount), refund.reason) == (15, "5.00", "Damaged handle")
    assert order.customer is not None and order.customer.email == "jane.buyer@example.com"
    created = Event.objects.get(type="order.created", subject_id=order.pk)
    assert created.payload["backfill"] is True  # history: flows ignore it, the log keeps it


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ('[{"id": 1}]', "a JSON array, not an order object"),
        ('"just a string"', "expected an order object, got str"),
        (_order(7, id=None), "id: not an id: None"),
        (_order(7, total="12,50"), "total: not an amount: '12,50'"),
        (_order(7, currency="EUO"), "currency 'EUO' is not an ISO 4217 code"),
        (_order(7, currency="EURO"), "is not ISO 4217"),
        (_order(7, date_created_gmt="yesterday", date_created=None), "not a date: 'yesterday'"),
        (_order(7, billing={"email": "jane@"}), "email 'jane@' is not a valid address"),
        (_order(7, billing={"country": "Germany"}), "'Germany' is not a 2-letter ISO 3166"),
        (_order(7, status=""), "status missing"),
        (_order(7, line_items=[{"id": 1, "quantity": "two"}]), "quantity is not a number"),
        (_order(7, id=2**63), "id too large"),
    ],
)
def test_bad_ndjson_lines_are_rejected_with_line_and_reason(
    store: Store, tmp_path: Path, line: Any, reason: str
) -> None:
    path = _ndjson(tmp_path / "orders.ndjson", [_order(1), line, "", _order(2)])

    run = service.import_orders(store=store, path=path)

    assert sorted(Order.objects.values_list("external_id", flat=True)) == [1, 2]
    assert (run.rows_read, run.orders_applied, run.rows_rejected) == (3, 2, 1)
    assert len(run.rejections) == 1
    assert run.rejections[0]["line"] == 2
    assert reason in run.rejections[0]["reason"]


def test_invalid_utf8_line_is_rejected_alone(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "orders.ndjson"
    path.write_bytes(
        json.dumps(_order(1)).encode()
        + b"\n"
        + b'{"id": "\xff\xfe"}\n'
        + json.dumps(_order(2)).encode()
    )
    run = service.import_orders(store=store, path=path)
    assert run.orders_applied == 2
    assert run.rejections == [{"line": 2, "reason": "not valid UTF-8"}]


def test_rejections_are_capped_but_counted(store: Store, tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "bad.ndjson", ["{"] * 1005 + [_order(1)])
    run = service.import_orders(store=store, path=path, batch_size=300)
    assert run.rows_rejected == 1005 and len(run.rejections) == service.MAX_STORED_REJECTIONS
    assert run.rejections[-1]["line"] == 1000 and run.orders_applied == 1


# ---------------------------------------------------------------------------------------------
# CSV

HEADER = [
    "order_id", "order_number", "status", "currency", "date_created", "date_paid",
    "date_completed", "customer_email", "customer_id", "first_name", "last_name",
    "billing_country", "shipping_total", "discount_total", "order_total", "coupon_codes",
    "refund_total", "refund_reason", "line_id", "product_id", "sku", "product_name", "quantity",
    "unit_price", "line_total", "Warehouse",
]  # fmt: skip


def _row(order_id: str, **values: str) -> list[str]:
    defaults = {
        "order_id": order_id, "status": "completed", "currency": "eur",
        "date_created": "2024-03-01T10:00:00", "customer_email": "Ann@Example.com",
        "order_total": "30.00", "product_name": "Mug", "quantity": "1", "line_total": "12.50",
    }  # fmt: skip
    defaults.update(values)
    return [defaults.get(name, "") for name in HEADER]


def test_csv_rows_are_grouped_into_orders(store: Store, tmp_path: Path) -> None:
    rows = [
        _row("100", date_paid="2024-03-01 10:05:00+01:00", coupon_codes="SPRING; vip,",
             refund_total="-5", refund_reason="Chipped", sku="MUG-1", unit_price="12.50",
             line_total="", first_name="Ann", billing_country="de"),
        # Order-level columns may be left blank on later rows; the line id defaults to position.
        _row("100", status="", currency="", date_created="", customer_email="", order_total="",
             product_name="Sticker", quantity="3", line_total="4.50"),
        _row("101", status="Processing", order_total="9.99", customer_email="",
             product_name="", product_id="55", line_total="9.99", line_id="7"),
    ]  # fmt: skip
    path = _csv(tmp_path / "orders.csv", HEADER, rows)

    run = service.import_orders(store=store, path=path)

    assert (run.rows_read, run.orders_applied, run.rows_rejected) == (3, 2, 0)
    first = Order.objects.get(external_id=100)
    assert (first.status, first.currency, str(first.total)) == ("completed", "EUR", "30.00")
    assert first.coupon_codes == ["SPRING", "vip"] and str(first.refunded_total) == "5.00"
    assert first.date_paid.isoformat() == "2024-03-01T09:05:00+00:00"
    assert first.customer.email == "ann@example.com" and first.billing_country == "DE"
    lines = list(first.lines.order_by("external_id").values_list("external_id", "name", "total"))
    assert [(i, n, str(t)) for i, n, t in lines] == [(1, "Mug", "12.50"), (2, "Sticker", "4.50")]
    assert str(first.lines.get(external_id=2).unit_price) == "1.50"
    second = Order.objects.get(external_id=101)
    assert second.status == "processing" and second.customer is None
    assert second.lines.get().external_id == 7 and second.lines.get().name == "Product 55"


def test_csv_rows_of_an_order_may_be_scattered(store: Store, tmp_path: Path) -> None:
    rows = [_row("1"), _row("2"), _row("1", product_name="Cap"), _row("3"), _row("2", sku="X")]
    run = service.import_orders(store=store, path=_csv(tmp_path / "o.csv", HEADER, rows))
    assert run.orders_applied == 3 and run.rows_rejected == 0
    assert LineItem.objects.filter(order__external_id=1).count() == 2
    assert LineItem.objects.filter(order__external_id=2).count() == 2


@pytest.mark.parametrize(
    ("bad_rows", "reason"),
    [
        ([_row("9", order_total="abc")], "order 9: order_total: not an amount: 'abc'"),
        ([_row("9", currency="XYZ")], "currency 'XYZ' is not an ISO 4217 code"),
        ([_row("9", date_created="01/03/2024")], "date_created: not an ISO 8601 date"),
        ([_row("9", customer_email="ann@@example")], "is not a valid address"),
        ([_row("9", quantity="1.5")], "quantity: not a whole number: '1.5'"),
        ([_row("9", product_name="")], "a line needs product_name, sku or product_id"),
        ([_row("9", line_total="", unit_price="")], "a line needs line_total or unit_price"),
        ([_row("9", status="paid!")], "status: not a WooCommerce status"),
        ([_row("nine")], "order nine: order_id: not a whole number"),
        ([_row("9"), _row("9", status="refunded")], "rows disagree on status: 'completed' (line"),
        ([_row("9"), [*_row("9")[:-2]]], "has 24 columns, the header has 26"),
        ([_row("9"), _row("9", line_id="4"), _row("9", line_id="4")], "appears twice"),
    ],
)
def test_bad_csv_orders_are_rejected_whole(
    store: Store, tmp_path: Path, bad_rows: list[list[str]], reason: str
) -> None:
    rows = [_row("1"), *bad_rows, _row("2")]
    path = _csv(tmp_path / "orders.csv", HEADER, rows)

    run = service.import_orders(store=store, path=path)

    assert sorted(Order.objects.values_list("external_id", flat=True)) == [1, 2]
    assert run.rows_rejected == len(bad_rows) and run.rows_read == len(rows)
    assert len(run.rejections) == 1 and run.rejections[0]["line"] == 3
    assert reason in run.rejections[0]["reason"]


def test_csv_rows_without_an_order_id_are_rejected_alone(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path / "o.csv", HEADER, [_row(""), _row("1"), ["", "x"]])
    run = service.import_orders(store=store, path=path)
    assert run.orders_applied == 1 and run.rows_rejected == 2
    assert [r["line"] for r in run.rejections] == [2, 4]
    assert "order_id is empty (2 columns, the header has 26)" in run.rejections[1]["reason"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("order_id,status\n1,completed\n", "lacks required column(s): currency, date_created"),
        ("order_id,status,status,currency,date_created,order_total\n", "repeats column(s)"),
    ],
)
def test_unusable_csv_header_reads_nothing(
    store: Store, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(content)
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        service.import_orders(store=store, path=path)
    assert not ImportRun.objects.exists()


# ---------------------------------------------------------------------------------------------
# batches, re-runs, crashes


def test_rerunning_a_file_imports_nothing_twice(store: Store, tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "o.ndjson", [_order(n) for n in range(1, 8)])
    states: list[service.ImportProgress] = []
    service.import_orders(store=store, path=path, batch_size=3)
    counts = (Order.objects.count(), LineItem.objects.count(), Event.objects.count())

    run = service.import_orders(store=store, path=path, batch_size=3, progress=states.append)

    assert (Order.objects.count(), LineItem.objects.count(), Event.objects.count()) == counts
    assert run.orders_applied == 0 and states[-1].outcomes == {"unchanged": 7}
    assert Customer.objects.count() == 1


def test_a_crash_leaves_whole_batches_and_a_rerun_completes_exactly(
    transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.objects.create(slug="acme", name="Acme")
    path = _ndjson(tmp_path / "o.ndjson", [_order(n) for n in range(1, 11)])
    real_apply = mirror.apply_orders
    calls: list[int] = []

    def apply_then_crash(**kwargs: Any) -> Any:
        calls.append(len(kwargs["records"]))
        result = real_apply(**kwargs)
        if len(calls) == 3:  # the third batch's writes happened, then the process "dies"
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(mirror, "apply_orders", apply_then_crash)
    with pytest.raises(KeyboardInterrupt):
        service.import_orders(store=store, path=path, batch_size=3)
    failed = ImportRun.objects.get()
    assert Order.objects.count() == 6 and LineItem.objects.count() == 12  # batches 1 and 2
    assert (failed.status, failed.rows_read, failed.orders_applied) == ("failed", 6, 6)

    monkeypatch.setattr(mirror, "apply_orders", real_apply)
    states: list[service.ImportProgress] = []
    run = service.import_orders(store=store, path=path, batch_size=3, progress=states.append)

    assert Order.objects.count() == 10 and LineItem.objects.count() == 20
    assert Refund.objects.count() == 10
    assert Event.objects.filter(type="order.created").count() == 10
    assert states[-1].outcomes == {"unchanged": 6, "created": 4} and run.orders_applied == 4


def test_an_order_the_database_refuses_is_rejected_alone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the import's own checks, duplicate line ids reach the database's unique constraint.
    monkeypatch.setattr(parsing, "check_order", lambda record, payload: None)
    twin_lines = _order(4)
    twin_lines["line_items"][1]["id"] = twin_lines["line_items"][0]["id"]
    lines = [_order(1), _order(2), _order(3), twin_lines, _order(5)]
    path = _ndjson(tmp_path / "o.ndjson", lines)

    run = service.import_orders(store=store, path=path)

    assert sorted(Order.objects.values_list("external_id", flat=True)) == [1, 2, 3, 5]
    assert run.orders_applied == 4 and run.rows_rejected == 1
    assert run.rejections[0]["line"] == 4
    assert run.rejections[0]["reason"].startswith("the database refused it")


def test_parse_workers_give_the_same_result(store: Store, tmp_path: Path) -> None:
    lines = [_order(n) for n in range(1, 30)] + ["{oops"]
    path = _ndjson(tmp_path / "o.ndjson", lines)
    run = service.import_orders(store=store, path=path, batch_size=4, parse_workers=2)
    assert (run.orders_applied, run.rows_rejected) == (29, 1)
    assert run.rejections == [{"line": 30, "reason": run.rejections[0]["reason"]}]
    assert LineItem.objects.count() == 58


def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "o.ndjson", [_order(1), "{", _order(2)])
    states: list[service.ImportProgress] = []
    run = service.import_orders(store=store, path=path, dry_run=True, progress=states.append)
    assert run.pk is None and not Order.objects.exists() and not ImportRun.objects.exists()
    assert (states[-1].orders_valid, run.rows_rejected, run.rejections[0]["line"]) == (2, 1, 2)


# ---------------------------------------------------------------------------------------------
# the command


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_command_imports_and_lists_rejected_rows(store: Store, tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "orders.ndjson", [_order(1), "{", _order(2, currency="EUO")])

    output = _command("orders", str(path), "--store", "acme", "--batch-size", "1")

    assert "ndjson, 3 rows" in output
    assert "orders: 1 created, 0 updated, 0 unchanged, 0 stale" in output
    assert "2 rows rejected:" in output
    assert "line 2: invalid JSON: Expecting property name" in output
    assert "line 3: currency 'EUO' is not an ISO 4217 code" in output
    assert ImportRun.objects.get().status == "succeeded"


def test_command_reports_ignored_columns_and_dry_run(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path / "orders.csv", HEADER, [_row("1")])
    output = _command("orders", str(path), "--store", "acme", "--dry-run")
    assert "dry run: 1 orders valid, nothing written" in output
    assert "ignored columns: warehouse" in output and "no rows rejected" in output
    assert not Order.objects.exists()


def test_command_takes_the_format_from_the_flag(store: Store, tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "export.txt", [_order(1)])
    assert "1 created" in _command("orders", str(path), "--store", "acme", "--format", "ndjson")


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda p: [str(p / "missing.ndjson"), "--store", "acme"], "no such file"),
        (lambda p: [str(p / "orders.txt"), "--store", "acme"], "cannot tell the format"),
        (lambda p: [str(p / "orders.ndjson"), "--store", "nope"], "no store with slug 'nope'"),
        (lambda p: [str(p / "bad.csv"), "--store", "acme"], "lacks required column"),
    ],
)
def test_command_exits_1_when_nothing_could_be_read(
    store: Store, tmp_path: Path, make_args: Any, message: str
) -> None:
    (tmp_path / "orders.txt").write_text("{}\n")
    _ndjson(tmp_path / "orders.ndjson", [_order(1)])
    (tmp_path / "bad.csv").write_text("order_id\n1\n")
    with pytest.raises(CommandError, match=message) as raised:
        _command("orders", *make_args(tmp_path))
    assert raised.value.returncode == 1
    assert not Order.objects.exists()


# ---------------------------------------------------------------------------------------------
# the fast paths: parse workers, pickling, SQLite PRAGMAs


def test_reimport_through_a_parse_worker_is_a_no_op_with_the_same_hashes(
    store: Store, tmp_path: Path
) -> None:
    """Records that come back from a worker (parsing._DISPATCH pickling) hash and apply exactly
    like inline ones: a second run of the file, inline, changes nothing and adds no event."""
    lines = [_order(n, status="completed") for n in range(1, 12)]
    path = _ndjson(tmp_path / "o.ndjson", lines)
    first = service.import_orders(store=store, path=path, batch_size=4, parse_workers=1)
    hashes = dict(Order.objects.values_list("external_id", "content_hash"))
    events, customers = Event.objects.count(), Customer.objects.count()
    assert first.orders_applied == 11 and events > 11

    again = service.import_orders(store=store, path=path, batch_size=5, parse_workers=0)

    assert (again.orders_applied, again.rows_rejected) == (0, 0)
    assert dict(Order.objects.values_list("external_id", "content_hash")) == hashes
    assert (Event.objects.count(), Customer.objects.count()) == (events, customers)
    assert LineItem.objects.count() == 22 and Refund.objects.count() == 11


def test_worker_records_equal_inline_records(tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "o.ndjson", [_order(n) for n in range(1, 4)] + ["[1]"])
    source = readers.open_source(path, file_format=None)
    (chunk,) = source.chunks(orders_per_chunk=10)
    inline = parsing.parse_chunk(chunk, "ndjson", None)
    packed = parsing._unpack(parsing.parse_packed(chunk, "ndjson", None))
    assert packed == inline and packed.records[0].content_hash == inline.records[0].content_hash
    assert [r.line for r in packed.rejections] == [4]


def test_sqlite_pragmas_are_restored_after_an_import(store: Store, tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite PRAGMAs")

    def pragmas() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            return cache, cursor.fetchone()[0]

    before = pragmas()
    seen: list[tuple[int, int]] = []
    path = _ndjson(tmp_path / "o.ndjson", [_order(1)])
    service.import_orders(store=store, path=path, progress=lambda _: seen.append(pragmas()))
    assert seen[0] == (-262144, 10000) and pragmas() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner statistics")
def test_a_big_import_refreshes_the_planner_statistics_as_tables_grow(
    store: Store, tmp_path: Path
) -> None:
    """Without fresh statistics PostgreSQL plans the per-batch lookup of existing orders as a
    sequential scan of a table it believes empty: every batch costs more than the last (seen on
    a 1M-order import with autovacuum off). The import runs ANALYZE after batches 1, 4, 16, …"""
    path = _ndjson(tmp_path / "o.ndjson", [_order(n) for n in range(1, 6)])
    service.import_orders(store=store, path=path, batch_size=1)  # 5 batches: ANALYZE after 1, 4
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = %s", [Order._meta.db_table]
        )
        (tuples,) = cursor.fetchone()
    assert tuples >= 4  # counted by the ANALYZE after batch 4 (-1 = never analysed)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite planner statistics")
def test_an_import_leaves_sqlite_with_planner_statistics(store: Store, tmp_path: Path) -> None:
    path = _ndjson(tmp_path / "o.ndjson", [_order(n) for n in range(1, 4)])
    service.import_orders(store=store, path=path)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [Order._meta.db_table])
        (indexes,) = cursor.fetchone()
    assert indexes >= 1
