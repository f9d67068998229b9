"""REST sync throughput against a WooCommerce-shaped server that answers every request after an
injected latency (a real shop boots WordPress per request: ~70-110 ms, SPEC §5).

    .venv/bin/python bench/sync_throughput.py [--orders 5000] [--concurrency 4] [--latency 0.1]

With C requests in flight and L seconds per request, the ceiling is C / L pages per second
(40 pages/s for C=4, L=100 ms); the target is at least 80 % of it. Measured three ways:

1. fetch only: `WooClient.list_pages("orders")`, nothing applied: what the concurrency buys;
   this is the figure held to the target;
2. sync: `sync_store(resources=("orders",))` into a fresh SQLite mirror (no refunds). Pages are
   applied in one thread while the next ones are fetched, so this is bounded by the slower of
   the two: when it falls short of the target, the per-page apply time printed says why;
3. sync with refunds on 5 % of the orders (each costs one extra GET /orders/<id>/refunds,
   fetched on the same pool), for information.

The shop runs in a child process (a real shop is another machine: its JSON encoding must not
compete with the client for this process's GIL). The script makes its own temporary SQLite
database (DATABASE_URL is set before Django starts).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _setup_django(data_dir: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    os.environ["AFTERCARE_DATA_DIR"] = data_dir
    os.environ.setdefault("AFTERCARE_LOG_LEVEL", "WARNING")  # no httpx line per request
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")
    sys.path.insert(0, str(REPO))  # tests.woo_server
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class RemoteShop:
    """`tests.woo_server.WooServer` in a child process; `stats()` stops it and returns counts."""

    def __init__(self, *, latency: float, **data: int) -> None:
        from django.db import connections

        connections.close_all()  # nothing shared across the fork
        context = multiprocessing.get_context("fork")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, latency, data), daemon=True)
        self._process.start()
        self.url, self.consumer_key, self.consumer_secret = self._pipe.recv()

    def stats(self) -> dict[str, int]:
        self._pipe.send("stop")
        counts: dict[str, int] = self._pipe.recv()
        self._process.join(timeout=10)
        return counts


def _serve(pipe: Connection, latency: float, data: dict[str, int]) -> None:
    from tests.woo_server import WooServer

    with WooServer(**data) as shop:
        shop.latency = latency
        pipe.send((shop.url, shop.consumer_key, shop.consumer_secret))
        pipe.recv()
        pipe.send(
            {
                "requests": len(shop.api_requests("/wc/v3/orders")),
                "refunds": len(shop.api_requests("/refunds")),
            }
        )


def _line(label: str, pages: int, seconds: float, ceiling: float, extra: str = "") -> float:
    rate = pages / seconds
    print(
        f"{label:<22} {pages:>4} pages in {seconds:6.2f} s = {rate:5.1f} pages/s "
        f"({rate / ceiling:4.0%} of {ceiling:.0f}){extra}"
    )
    return rate / ceiling


def _connected_store(slug: str, shop: RemoteShop) -> Any:
    from aftercare.stores import connection, services

    store = services.create_store(slug=slug, name=slug)
    connection.connect_woocommerce(
        store=store,
        url=shop.url,
        consumer_key=shop.consumer_key,
        consumer_secret=shop.consumer_secret,
        register_webhooks=False,
    )
    return store


def run(*, orders: int, concurrency: int, latency: float) -> bool:
    from aftercare.ingest import sync
    from aftercare.orders.models import Order
    from aftercare.stores.woo.client import WooClient

    ceiling = concurrency / latency
    data = {"orders": orders, "customers": 200, "products": 40}
    print(f"{orders} orders, concurrency {concurrency}, latency {latency * 1000:.0f} ms/request")
    print(f"ceiling: {concurrency} / {latency} s = {ceiling:.0f} pages/s\n")

    shop = RemoteShop(latency=latency, refund_every=0, **data)
    with WooClient(
        shop.url, shop.consumer_key, shop.consumer_secret, concurrency=concurrency
    ) as woo:
        woo.discover()
        started = time.monotonic()
        pages = sum(1 for _ in woo.list_pages("orders", prefetch=concurrency))  # as sync does
        fetch_ratio = _line("fetch only", pages, time.monotonic() - started, ceiling)

    store = _connected_store("bench", shop)
    started = time.monotonic()
    done = sync.sync_store(store=store, resources=("orders",))
    seconds = time.monotonic() - started
    pages = done.checkpoint["orders"]["total_pages"]
    applied = Order.objects.filter(store=store).count()
    sync_ratio = _line(
        "sync into the mirror",
        pages,
        seconds,
        ceiling,
        f", {applied} orders, {seconds / pages * 1000:.0f} ms per page end to end",
    )
    shop.stats()

    shop = RemoteShop(latency=latency, refund_every=20, **data)
    store = _connected_store("bench-refunds", shop)
    started = time.monotonic()
    sync.sync_store(store=store, resources=("orders",))
    seconds = time.monotonic() - started
    counts = shop.stats()
    print(
        f"{'sync, 5 % refunded':<22} {counts['requests']:>4} requests ({counts['refunds']} refund"
        f" GETs) in {seconds:6.2f} s = {counts['requests'] / seconds:5.1f} requests/s"
    )

    target = 0.8
    ok = fetch_ratio >= target
    print(
        f"\nfetch path: {fetch_ratio:.0%} of the ceiling (target {target:.0%}): "
        f"{'met' if ok else 'NOT met'}"
    )
    if sync_ratio < target:
        print(
            "sync: bounded by applying pages to the mirror (parse + upsert + events run in one "
            "thread), not by fetching them"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="aftercare-bench-")
    try:
        _setup_django(data_dir)
        ok = run(orders=args.orders, concurrency=args.concurrency, latency=args.latency)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
