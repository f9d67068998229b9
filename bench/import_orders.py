"""Benchmark of `aftercare import orders` against its physical ceiling.

    .venv/bin/python bench/import_orders.py --orders 50000
    .venv/bin/python bench/import_orders.py --orders 1000000
    .venv/bin/python bench/import_orders.py --orders 50000 \
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench
    .venv/bin/python bench/import_orders.py --orders 50000 --phases --cprofile /tmp/import.prof

Generates N WooCommerce orders as NDJSON in a temp dir (bench/generate_orders.py), imports them
into a fresh database through the real service (`file_import.service.import_orders`), then
writes the same file with bare executemany into a copy of the same empty schema
(bench/ceiling.py) and prints both, with the ratio. SQLite lives in the temp dir; a PostgreSQL
URL names a database this script creates and drops (plus `<name>_ceiling`).

`--phases` times the mirror's steps (per-phase seconds, by wrapping its functions);
`--cprofile FILE` writes a profile of the import (the importing process only)."""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ceiling import TABLES, CeilingStats, run_ceiling
from generate_orders import generate

REPO = Path(__file__).resolve().parent.parent


def _pg_admin(url: str, *statements: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _wrap_phases(timings: Counter[str]) -> None:
    """Time the mirror's steps by wrapping the functions it looks up at call time."""
    from django.db.backends.utils import CursorWrapper
    from django.db.models import Model
    from django.db.models.query import QuerySet

    from aftercare.events import bus
    from aftercare.ingest import mirror, woo_mapping
    from aftercare.ingest.file_import import parsing
    from aftercare.ingest.mirror import customers, orders

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[name] += time.perf_counter() - started

        return wrapper

    original_bulk_create = QuerySet.bulk_create
    original_bulk_update = QuerySet.bulk_update
    original_init = Model.__init__

    def bulk_create(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
        with_timer = timed(f"bulk_create {self.model.__name__}", original_bulk_create)
        return with_timer(self, objs, *args, **kwargs)

    def bulk_update(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
        with_timer = timed(f"bulk_update {self.model.__name__}", original_bulk_update)
        return with_timer(self, objs, *args, **kwargs)

    def init(self: Model, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        original_init(self, *args, **kwargs)
        timings[f"Model() {type(self).__name__}"] += time.perf_counter() - started

    QuerySet.bulk_create = bulk_create  # type: ignore[method-assign]
    QuerySet.bulk_update = bulk_update  # type: ignore[method-assign]
    Model.__init__ = init  # type: ignore[method-assign]
    mirror.apply_orders = timed("mirror.apply_orders (all)", mirror.apply_orders)
    bus.publish_many = timed("bus.publish_many", bus.publish_many)
    orders._existing = timed("orders._existing", orders._existing)
    orders._known_refunds = timed("orders._known_refunds", orders._known_refunds)
    orders.resolve_order_customers = timed(
        "customers.resolve_order_customers", customers.resolve_order_customers
    )
    parsing.parse_order = timed("woo_mapping.parse_order (inline only)", woo_mapping.parse_order)
    woo_mapping._digest = timed("  woo_mapping._digest (content hash)", woo_mapping._digest)
    customers._load = timed("  customers._load (existing customers)", customers._load)
    for module in (orders, customers, bus):
        for name in ("insert_rows", "update_rows", "insert_tuples", "insert_returning",
                     "insert_returning_ids"):  # fmt: skip
            if hasattr(module, name):
                setattr(module, name, _per_model(timed, name, getattr(module, name)))
    original_executemany = CursorWrapper.executemany

    def executemany(self: CursorWrapper, sql: str, param_list: Any) -> Any:
        table = sql.split()[2].strip('"') if sql.startswith(("INSERT", "UPDATE")) else "?"
        if sql.startswith("UPDATE"):
            table = sql.split()[1].strip('"')
        return timed(f"    SQL executemany {table}", original_executemany)(self, sql, param_list)

    CursorWrapper.executemany = executemany  # type: ignore[method-assign]


def _per_model(
    timed: Callable[[str, Callable[..., Any]], Callable[..., Any]],
    name: str,
    fn: Callable[..., Any],
) -> Callable[..., Any]:
    def wrapper(*, model: Any, **kwargs: Any) -> Any:
        return timed(f"  {name} {model.__name__} (incl. SQL)", fn)(model=model, **kwargs)

    return wrapper


def _import(
    args: argparse.Namespace, path: Path, store_id: int, timings: Counter[str]
) -> dict[str, Any]:
    from aftercare.ingest.file_import import service
    from aftercare.orders.models import LineItem, Order
    from aftercare.stores.models import Store

    store = Store.objects.get(pk=store_id)
    if args.phases:
        _wrap_phases(timings)
    profile = cProfile.Profile() if args.cprofile else None
    cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    if profile:
        profile.enable()
    run = service.import_orders(
        store=store, path=path, batch_size=args.batch_size, parse_workers=args.parse_workers
    )
    if profile:
        profile.disable()
        profile.dump_stats(args.cprofile)
    seconds = time.perf_counter() - started
    return {
        "cpu_self": _cpu_seconds(resource.RUSAGE_SELF) - cpu_before,
        "cpu_children": _cpu_seconds(resource.RUSAGE_CHILDREN),
        "load": (load_before, os.getloadavg()[0]),
        "seconds": seconds,
        "rows": run.rows_read,
        "applied": run.orders_applied,
        "rejected": run.rows_rejected,
        "orders": Order.objects.count(),
        "lines": LineItem.objects.count(),
        "rss_self": _peak_rss_mb(resource.RUSAGE_SELF),
        "rss_children": _peak_rss_mb(resource.RUSAGE_CHILDREN),
    }


def _ceiling(
    args: argparse.Namespace,
    path: Path,
    store_id: int,
    *,
    sqlite_copy: Path | None,
    copy: bool = False,
) -> CeilingStats:
    now = datetime.now(tz=UTC)
    if sqlite_copy is not None:
        connection: Any = sqlite3.connect(sqlite_copy)
        connection.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-65536;"
        )
        placeholder = "?"

        def when(value: str | None) -> str | None:
            return value.replace("T", " ") if value else None

        stamp: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        import psycopg

        suffix = "_ceiling_copy" if copy else "_ceiling"
        connection = psycopg.connect(_with_db(args.database_url, f"{args.db_name}{suffix}"))
        placeholder = "%s"

        def when(value: str | None) -> str | None:
            return value + "+00:00" if value else None

        stamp = now
    try:
        return run_ceiling(
            connection=connection,
            placeholder=placeholder,
            path=path,
            batch_size=args.batch_size,
            store_id=store_id,
            when=when,
            now=stamp,
            copy=copy,
        )
    finally:
        connection.close()


def _report(
    args: argparse.Namespace,
    result: dict[str, Any],
    ceiling: CeilingStats | None,
    copy_ceiling: CeilingStats | None = None,
) -> None:
    seconds = result["seconds"]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n== import: {engine}, {result['rows']:,} orders, batch {args.batch_size}")
    print(f"   {seconds:.1f} s, {result['rows'] / seconds:,.0f} orders/s")
    print(f"   mirror: {result['orders']:,} orders, {result['lines']:,} line items, "
          f"{result['applied']:,} applied, {result['rejected']:,} rejected")  # fmt: skip
    cpu, rows = result["cpu_self"], result["rows"]
    print(f"   CPU: importer {cpu:.1f} s ({cpu / rows * 1e6:.0f} us/order), "
          f"parse workers {result['cpu_children']:.1f} s; "
          f"1-min load average before/after {result['load'][0]:.1f}/{result['load'][1]:.1f} "
          f"(other processes on this {os.cpu_count()}-core box)")  # fmt: skip
    print(f"   peak RSS: importer {result['rss_self']:,.0f} MB, "
          f"largest parse worker {result['rss_children']:,.0f} MB")  # fmt: skip
    for how, stats in (("executemany", ceiling), ("COPY", copy_ceiling)):
        if stats is not None:
            _report_ceiling(engine, how, seconds, stats)


def _report_ceiling(engine: str, how: str, seconds: float, ceiling: CeilingStats) -> None:
    write = sum(ceiling.write_seconds.values())
    print(f"== ceiling: bare {how} of the same rows ({engine}, no Django)")
    print(f"   end to end (read + json.loads + rows + writes): {ceiling.seconds:.1f} s, "
          f"{ceiling.orders / ceiling.seconds:,.0f} orders/s")  # fmt: skip
    print(f"   writes only: {write:.1f} s; orders + line items only: "
          f"{ceiling.orders_and_lines_seconds:.1f} s")  # fmt: skip
    for table in (*TABLES, "commit"):
        print(f"     {table:26s} {ceiling.write_seconds[table]:7.2f} s "
              f"{ceiling.rows.get(table, 0):>10,} rows")  # fmt: skip
    print(f"   ratio import / ceiling end to end: {seconds / ceiling.seconds:.1f}x; "
          f"/ writes only: {seconds / write:.1f}x; "
          f"/ orders + lines: {seconds / ceiling.orders_and_lines_seconds:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=None, help="default: 30%% of --orders")
    parser.add_argument("--file", type=Path, help="import this NDJSON instead of generating")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in the temp dir)")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--parse-workers", type=int, default=None, help="default: automatic")
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--phases", action="store_true", help="time the mirror's steps")
    parser.add_argument("--cprofile", type=Path, help="write a cProfile of the import here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    path = args.file
    if path is None:
        path = tmp / "orders.ndjson"
        started = time.perf_counter()
        size = generate(path=path, orders=args.orders, distinct_emails=args.emails)
        print(f"generated {args.orders:,} orders, {size / 1e6:,.0f} MB "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    sqlite_db = tmp / "bench.sqlite3"
    if args.database_url:
        args.db_name = urlsplit(args.database_url).path.lstrip("/") or "aftercare_bench"
        _pg_admin(args.database_url, f'DROP DATABASE IF EXISTS "{args.db_name}"',
                  f'DROP DATABASE IF EXISTS "{args.db_name}_ceiling"',
                  f'DROP DATABASE IF EXISTS "{args.db_name}_ceiling_copy"',
                  f'CREATE DATABASE "{args.db_name}"')  # fmt: skip
        os.environ["DATABASE_URL"] = _with_db(args.database_url, args.db_name)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{sqlite_db}"
    os.environ["AFTERCARE_DATA_DIR"] = str(tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aftercare.settings"
    sys.path.insert(0, str(REPO / "src"))
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    timings: Counter[str] = Counter()
    try:
        from aftercare.stores.models import Store

        call_command("migrate", verbosity=0)
        store_id = Store.objects.create(slug="bench", name="Bench").pk
        connections.close_all()
        # The ceiling gets a copy of the migrated, empty schema: same tables, indexes, FKs.
        ceiling_db = tmp / "ceiling.sqlite3"
        if args.database_url:
            for suffix in ("_ceiling", "_ceiling_copy"):
                template = f'CREATE DATABASE "{args.db_name}{suffix}" TEMPLATE "{args.db_name}"'
                _pg_admin(args.database_url, template)
        else:
            shutil.copy(sqlite_db, ceiling_db)
        result = _import(args, path, store_id, timings)
        connections.close_all()
        if args.phases:
            print("\n== phases (importing process; wall seconds, nested phases overlap)")
            for name, value in timings.most_common():
                print(f"   {name:42s} {value:8.2f} s {value / result['rows'] * 1e6:7.1f} us/order")
        ceiling = None
        if not args.no_ceiling:
            ceiling = _ceiling(
                args,
                path,
                store_id,
                sqlite_copy=None if args.database_url else ceiling_db,
            )
        copy_ceiling = None
        if not args.no_ceiling and args.database_url:
            copy_ceiling = _ceiling(args, path, store_id, sqlite_copy=None, copy=True)
        _report(args, result, ceiling, copy_ceiling)
    finally:
        connections.close_all()
        if args.database_url:
            _pg_admin(args.database_url, f'DROP DATABASE IF EXISTS "{args.db_name}"',
                      f'DROP DATABASE IF EXISTS "{args.db_name}_ceiling"',
                      f'DROP DATABASE IF EXISTS "{args.db_name}_ceiling_copy"')  # fmt: skip
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
