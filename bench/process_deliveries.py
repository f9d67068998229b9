"""Benchmark: applying stored webhook deliveries to the mirror (orders, customers, lines, refunds,
status changes, events) — what the worker does with the inbox.

    .venv/bin/python bench/process_deliveries.py                      # SQLite, 20k orders
    .venv/bin/python bench/process_deliveries.py --orders 40000 --limit 1000
    .venv/bin/python bench/process_deliveries.py \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_processing

Stores `--orders` distinct orders as `order.created` deliveries (real captured bodies with id,
email, status, dates, refunds varied; `--repeat-share` of them from returning customers), plus a
later `order.updated` for `--update-share` of them (status moves, partial and full refunds) and
`--duplicate-share` re-sent copies, straight into the WebhookDelivery table (no HTTP). Then one
process calls `processing.drain_inbox(limit=…)` until the inbox is empty and reports
deliveries/s (= order versions/s), checking that every delivery ended processed or ignored and
the mirror holds every order. Target (issue): >= 2,000 orders/s per worker."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta

import benchlib


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000, help="distinct orders (20000)")
    parser.add_argument("--update-share", type=float, default=0.5, help="orders updated later")
    parser.add_argument("--repeat-share", type=float, default=0.3, help="returning customers")
    parser.add_argument("--duplicate-share", type=float, default=0.02, help="re-sent deliveries")
    parser.add_argument("--limit", type=int, default=500, help="drain_inbox(limit=…) (500)")
    parser.add_argument("--database-url", default=None, help="postgres://… (default: SQLite)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    return parser.parse_args()


def store_deliveries(store: object, history: list, maker: benchlib.OrderDeliveries) -> int:
    """Insert the deliveries as the receiver would have stored them (status `received`)."""
    from aftercare.core import clock
    from aftercare.ingest.models import DeliveryStatus, WebhookDelivery

    kept = {
        "X-WC-Webhook-Source", "X-WC-Webhook-Topic", "X-WC-Webhook-Resource",
        "X-WC-Webhook-Event", "X-WC-Webhook-Signature", "X-WC-Webhook-ID",
        "X-WC-Webhook-Delivery-ID", "User-Agent", "Content-Type",
    }  # fmt: skip
    start = clock.now() - timedelta(seconds=len(history) / 100)
    rows = []
    for index, (topic, version) in enumerate(history):
        body, headers = maker.delivery(version, topic=topic)
        received = start + timedelta(milliseconds=10 * index)
        rows.append(
            WebhookDelivery(
                store=store,
                received_at=received,
                topic=topic,
                woo_webhook_id=int(headers.get("X-WC-Webhook-ID") or 0) or None,
                delivery_id=headers["X-WC-Webhook-Delivery-ID"],
                resource_id=version.order_id,
                headers={k: v for k, v in headers.items() if k in kept},
                body=body.decode(),
                status=DeliveryStatus.RECEIVED,
                next_attempt_at=received,
            )
        )
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def main() -> int:
    args = parse_args()
    db = benchlib.BenchDatabase(database_url=args.database_url, keep=args.keep)
    try:
        return run(args, db)
    finally:
        db.close()


def run(args: argparse.Namespace, db: benchlib.BenchDatabase) -> int:
    from aftercare.ingest.webhooks import processing

    store = db.reset()
    maker = benchlib.OrderDeliveries.from_shared_data()
    history = benchlib.order_history(
        orders=args.orders,
        update_share=args.update_share,
        repeat_share=args.repeat_share,
        duplicate_share=args.duplicate_share,
        seed=args.seed,
    )
    started = time.perf_counter()
    stored = store_deliveries(store, history, maker)
    store_seconds = time.perf_counter() - started
    topics = Counter(topic for topic, _ in history)
    print(
        f"{db.vendor}: stored {stored} deliveries ({dict(topics)}) in {store_seconds:.1f}s; "
        f"draining with limit={args.limit}",
        flush=True,
    )

    batch_seconds: list[float] = []
    handled = 0
    load_before = os.getloadavg()[0]
    cpu_started = time.process_time()
    started = time.perf_counter()
    for _ in range(stored // max(1, args.limit) + 100):  # bounded: the inbox only shrinks
        tick = time.perf_counter()
        n = processing.drain_inbox(limit=args.limit)
        if n == 0:
            break
        batch_seconds.append(time.perf_counter() - tick)
        handled += n
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started

    deliveries = benchlib.delivery_counts()
    mirror = benchlib.mirror_counts()
    distinct_orders = len({version.order_id for _, version in history})
    finished = deliveries.get("processed", 0) + deliveries.get("ignored", 0)
    ok = (
        handled == stored
        and finished == stored == deliveries["total"]
        and mirror["orders"] == distinct_orders
    )
    result = {
        "database": db.vendor,
        "deliveries": stored,
        "orders": distinct_orders,
        "handled": handled,
        "seconds": round(elapsed, 2),
        "deliveries_per_s": round(handled / elapsed, 1),
        "cpu_seconds": round(cpu, 2),
        "deliveries_per_cpu_s": round(handled / cpu, 1),
        "loadavg_1m_before": round(load_before, 2),
        "limit": args.limit,
        "batch_ms_p50": round(statistics.median(batch_seconds) * 1000, 1),
        "batch_ms_max": round(max(batch_seconds) * 1000, 1),
        "statuses": {k: v for k, v in deliveries.items() if k != "total"},
        "mirror": mirror,
        "db_bytes": db.size_bytes(),
        "ok": ok,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"processed {handled} deliveries ({distinct_orders} orders) in {elapsed:.1f}s = "
            f"{result['deliveries_per_s']:.0f} deliveries/s per worker; batch of {args.limit}: "
            f"p50 {result['batch_ms_p50']} ms, max {result['batch_ms_max']} ms"
        )
        print(
            f"this process used {cpu:.1f} CPU-s = {result['deliveries_per_cpu_s']:.0f} "
            f"deliveries per CPU-second (load average before: {load_before:.2f}; other "
            "processes on the machine slow the wall-clock figure)"
        )
        print(f"deliveries by status: {result['statuses']}")
        print(f"mirror: {mirror}")
        target = "MET" if result["deliveries_per_s"] >= 2000 else "MISSED"
        print(f"target >= 2000 orders/s: {target}; consistency: {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
