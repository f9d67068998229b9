"""Benchmark: the staff dashboard's pages on a store with 1,000,000 orders / 300,000 customers.

    .venv/bin/python bench/dashboard_pages.py                          # SQLite, 30 s per run
    .venv/bin/python bench/dashboard_pages.py --duration 60 --concurrency 1,4
    .venv/bin/python bench/dashboard_pages.py --orders 20000 --customers 6000 \\
        --dataset-cache /tmp/small.sqlite3 --duration 5                # smoke
    .venv/bin/python bench/dashboard_pages.py \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_pages

Targets (issue): overview p95 < 300 ms, customer search p95 < 200 ms, customer 360 p95 < 300 ms,
measured server-side with a load generator on loopback.

One run:
1. the dataset (bench/dashboard_dataset.py): built through `aftercare import orders` once and
   cached; each run works on a copy (SQLite file copy / CREATE DATABASE … TEMPLATE) that is
   dropped at the end; `migrate` applies migrations newer than the cache and the copy's schema
   is compared with an empty database migrated by today's code (a difference rebuilds it);
2. `aftercare analytics rebuild --store bench` (timed: the overview reads its daily figures);
   with --analyze, then `ANALYZE` (the what-if of planner statistics, see bench/README.md);
3. an owner staff user; URL mixes sampled from the data (below);
4. in-process profile: each sampled URL (the first --profile-urls of each kind) through
   Django's test client with a query recorder (`connection.execute_wrapper`: the SQL, params
   and execute time of every query), twice, the second one counted: status, queries, query
   time, render time; the slowest statements get an EXPLAIN QUERY PLAN (SQLite) or
   EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL);
5. gunicorn started exactly as `aftercare serve` starts it (aftercare.wsgi, --workers 2
   --threads 4 from AFTERCARE_WEB_WORKERS/THREADS, access log on; DEBUG off) on a free
   127.0.0.1 port; one sign-in through /dashboard/login/ (CSRF token from the form) gives the
   session cookie;
6. per page and concurrency: a load generator in its own process (this script with --client:
   one thread per keep-alive connection, closed loop, each timing from sending the request to
   the end of the body) runs --warmup seconds unrecorded then --duration seconds over the page's
   URL mix; any non-200 is an error. Recorded: requests, req/s, p50/p95/p99/max per page and per
   kind of URL, server CPU (gunicorn master + workers from /proc), load average, the CPU used by
   everything else on the machine (other people's work), PostgreSQL backends' CPU.

URL mixes (seeded): overview — the default range and the presets (7/30/90 days, 12 months);
search — exact email 30 %, email prefix 20 %, name 30 % (surname in any script, "First Last",
a first-name fragment), order number 20 %; customer 360 — 60 % random customers, 40 % the top
1 % by orders (the heaviest timelines); list (no target) — the customer list unfiltered 40 %,
sorted by spent/orders/last order/name 30 %, a later page 15 %, an RFM segment 15 %.

Why a Python client and not wrk: it records every request with its kind of URL, so a slow p95
is attributed (exact email vs. name fragment, light vs. heavy customer). At these latencies
(tens of ms) its ~0.2 ms per request overhead is noise; it runs in its own process."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dashboard_dataset as dataset
from webhook_load import (
    _machine_busy_seconds,
    cpu_delta,
    free_port,
    postgres_cpu_seconds,
    server_cpu_seconds,
)

BENCH_DIR = Path(__file__).resolve().parent
PAGES = ("overview", "search", "customer", "list")
TARGETS_MS = {"overview": 300.0, "search": 200.0, "customer": 300.0}  # p95, the issue
OWNER_EMAIL = "owner@bench.example"
# The overview's range presets; query strings as the page's own links build them.
OVERVIEW_QUERIES = (
    "", "?range=last_7", "?range=last_30", "?range=last_90", "?range=last_12_months",
)  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="measured seconds per run (30)")
    parser.add_argument("--warmup", type=int, default=3, help="unrecorded seconds first (3)")
    parser.add_argument("--concurrency", default="1,4", help="connections, comma list (1,4)")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"of {','.join(PAGES)}")
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42, help="dataset seed (42)")
    parser.add_argument(
        "--dataset-cache", type=Path, default=dataset.DEFAULT_SQLITE_CACHE, help="SQLite cache"
    )
    parser.add_argument("--rebuild-dataset", action="store_true", help="ignore the cache")
    parser.add_argument("--database-url", default=None, help="postgres://…/NAME (default SQLite)")
    parser.add_argument("--skip-analytics-rebuild", action="store_true")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run ANALYZE on the run's copy first (what-if: planner statistics; see README)",
    )
    parser.add_argument(
        "--overview-query", action="append", default=None, help="replace the overview mix"
    )
    parser.add_argument("--urls", type=int, default=2000, help="sampled URLs per page (2000)")
    parser.add_argument("--profile-urls", type=int, default=8, help="per kind, in-process (8)")
    parser.add_argument("--explain", type=int, default=3, help="slowest statements per page (3)")
    parser.add_argument("--workers", type=int, default=None, help="default: as `serve` (2)")
    parser.add_argument("--threads", type=int, default=None, help="default: as `serve` (4)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the run's database and logs")
    parser.add_argument("--json-out", type=Path, default=None, help="append results as JSON")
    parser.add_argument("--client", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return args
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    args.pages = [p for p in args.pages.split(",") if p]
    for page in args.pages:
        if page not in PAGES:
            parser.error(f"unknown page {page!r}")
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be 1..600 seconds")
    return args


# ---------------------------------------------------------------------------------------------
# the load generator (its own process: `--client SPEC OUT`)


def client_main(spec_path: Path, out_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    urls: list[list[str]] = spec["urls"]
    kinds = sorted({kind for kind, _ in urls})
    kind_index = {kind: i for i, kind in enumerate(kinds)}
    headers = {"Cookie": spec["cookie"], "Accept-Language": "en", "User-Agent": "aftercare-bench"}
    connections = int(spec["concurrency"])
    records: list[list[list[float]]] = [[] for _ in range(connections)]
    barrier = threading.Barrier(connections + 1)
    window: dict[str, float] = {}

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=120)
        cursor = slot * len(urls) // connections
        barrier.wait()
        warm_until, stop_at = window["warm_until"], window["stop_at"]
        mine = records[slot]
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                break
            kind, path = urls[cursor % len(urls)]
            cursor += 1
            size = 0
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                size = len(response.read())
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=120)
            finished = time.perf_counter()
            if started >= warm_until:
                mine.append([kind_index[kind], status, finished - started, started, size])
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    begin = time.perf_counter()
    window["warm_until"] = begin + spec["warmup"]
    window["stop_at"] = begin + spec["warmup"] + spec["duration"]
    barrier.wait()
    for thread in threads:
        thread.join()
    out_path.write_text(
        json.dumps(
            {
                "kinds": kinds,
                "measured_from": window["warm_until"],
                "records": [r for rs in records for r in rs],
                "cpu_s": sum(os.times()[:2]),
            }
        )
    )


# ---------------------------------------------------------------------------------------------
# the run's database


@dataclass
class RunDatabase:
    vendor: str
    url: str
    workdir: Path
    cache: str
    keep: bool

    def drop(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.keep:
            print(f"kept: {self.url} and {self.workdir}")
            return
        if self.vendor == "postgresql":
            dataset.pg_drop(self.url)
        shutil.rmtree(self.workdir, ignore_errors=True)


def prepare_database(args: argparse.Namespace) -> tuple[RunDatabase, dict[str, Any], str]:
    """Set the environment, set Django up on the run's copy of the dataset (building the cache
    first when needed). Returns (database, the cache's facts, how it was obtained)."""
    workdir = Path(tempfile.mkdtemp(prefix="aftercare-bench-pages-"))
    (workdir / "static").mkdir()
    params = dataset.DatasetParams(customers=args.customers, orders=args.orders, seed=args.seed)
    if args.database_url:
        run_url = args.database_url
        cache = dataset.pg_with_name(run_url, dataset.pg_name(run_url) + "_cache")
        vendor = "postgresql"
    else:
        live = workdir / "aftercare.sqlite3"
        run_url = f"sqlite:///{live}"
        cache = str(args.dataset_cache)
        vendor = "sqlite"
    os.environ.update(
        AFTERCARE_DATA_DIR=str(workdir), DATABASE_URL=run_url, AFTERCARE_DEBUG="0",
        DJANGO_SETTINGS_MODULE="aftercare.settings",
    )  # fmt: skip
    os.environ.setdefault("AFTERCARE_LOG_LEVEL", "WARNING")
    db = RunDatabase(vendor=vendor, url=run_url, workdir=workdir, cache=cache, keep=args.keep)
    import django

    problem = "--rebuild-dataset" if args.rebuild_dataset else dataset.cache_problem(cache, params)
    if problem is None:
        started = time.perf_counter()
        if vendor == "postgresql":
            dataset.pg_copy(source=cache, target=run_url)
        else:
            dataset.restore_sqlite(cache=Path(cache), live=live)
        copied = time.perf_counter() - started
        django.setup()
        try:
            problem = check_schema(db)
        except BaseException:
            db.keep = False
            db.drop()
            raise
        if problem is None:
            how = f"cache {cache} copied in {copied:.1f} s, schema checked"
            return db, dataset.read_sidecar(cache), how
        from django.db import connections

        connections.close_all()
        if vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{live}{suffix}").unlink(missing_ok=True)
    print(f"building the dataset ({problem}); it is cached at {cache} afterwards", flush=True)
    if vendor == "postgresql":
        dataset.pg_drop(run_url)
        dataset.pg_admin(run_url, f'CREATE DATABASE "{dataset.pg_name(run_url)}"')
    django.setup()
    try:
        meta = dataset.build(params=params, workdir=workdir, log=lambda m: print(m, flush=True))
        from django.db import connections

        connections.close_all()
        if vendor == "postgresql":
            dataset.pg_copy(source=run_url, target=cache)
        else:
            dataset.snapshot_sqlite(live=live, cache=Path(cache))
        dataset.write_sidecar(cache, meta)
    except BaseException:
        db.keep = False
        db.drop()
        raise
    return db, meta, f"built now ({meta['build_seconds']:.0f} s) and cached at {cache}"


def check_schema(db: RunDatabase) -> str | None:
    """Migrate the run's copy forward, then compare its schema with an empty database migrated
    by today's code. None when they match, else why not."""
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
    except Exception as exc:  # a cache that today's migrations cannot move forward
        return f"migrating the cached copy failed: {exc}"
    connections.close_all()
    if db.vendor == "sqlite":
        reference = f"sqlite:///{db.workdir / 'reference.sqlite3'}"
    else:
        reference = dataset.pg_with_name(db.url, dataset.pg_name(db.url) + "_ref")
        dataset.pg_drop(reference)
        dataset.pg_admin(reference, f'CREATE DATABASE "{dataset.pg_name(reference)}"')
    try:
        return dataset.schema_problem(url=db.url, reference_url=reference)
    finally:
        if db.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db.workdir / 'reference.sqlite3'}{suffix}").unlink(missing_ok=True)
        else:
            dataset.pg_drop(reference)


def rebuild_analytics() -> dict[str, Any]:
    """`aftercare analytics rebuild --store bench` when the command exists, else the service."""
    command = dataset.SRC / "aftercare/analytics/management/commands/analytics.py"
    started = time.perf_counter()
    if command.exists():
        result = subprocess.run(
            [sys.executable, "-m", "aftercare.cli", "analytics", "rebuild",
             "--store", dataset.STORE_SLUG],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"analytics rebuild failed:\n{result.stderr[-3000:]}")
        how, output = "aftercare analytics rebuild", result.stdout.strip()[-500:]
    else:
        from aftercare.analytics import rebuild
        from aftercare.stores.models import Store

        store = Store.objects.get(slug=dataset.STORE_SLUG)
        outcome = rebuild.rebuild_store(store=store)
        how, output = "analytics.rebuild.rebuild_store (no command yet)", str(outcome)
    return {"how": how, "seconds": round(time.perf_counter() - started, 1), "output": output}


def run_analyze() -> float:
    """Collect planner statistics (sqlite_stat1 / pg_statistic) on the run's copy."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return round(time.perf_counter() - started, 1)


def create_owner() -> tuple[Any, str]:
    from aftercare.stores.models import StaffRole, Store
    from aftercare.stores.services import create_staff_member

    password = secrets.token_urlsafe(16)
    store = Store.objects.get(slug=dataset.STORE_SLUG)
    membership = create_staff_member(
        store=store, email=OWNER_EMAIL, role=StaffRole.OWNER, password=password
    )
    return membership.user, password


# ---------------------------------------------------------------------------------------------
# URL mixes


def sample_urls(args: argparse.Namespace, count: int, seed: int = 5) -> dict[str, list[list[str]]]:
    """Per page: [kind, path] in a shuffled order, drawn from the data."""
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM stores_store WHERE slug = %s", [dataset.STORE_SLUG])
        store_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, email, first_name, last_name FROM customers_customer"
            " WHERE store_id = %s AND deleted_at IS NULL",
            [store_id],
        )
        customers = cursor.fetchall()
        cursor.execute(
            "SELECT customer_id, COUNT(*) FROM orders_order WHERE store_id = %s"
            " AND customer_id IS NOT NULL GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT %s",
            [store_id, max(10, len(customers) // 100)],
        )
        heavy = cursor.fetchall()
        cursor.execute("SELECT MIN(id), MAX(id) FROM orders_order WHERE store_id = %s", [store_id])
        low, high = cursor.fetchone()
        wanted = sorted({rng.randint(low, high) for _ in range(count)})
        numbers: list[str] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            cursor.execute(
                "SELECT number FROM orders_order WHERE id IN (%s)" % ",".join(["%s"] * len(chunk)),  # noqa: S608, UP031
                chunk,
            )
            numbers.extend(row[0] for row in cursor.fetchall())
    if not customers or not numbers:
        raise SystemExit("the dataset has no customers or orders")

    def search(q: str) -> str:
        return "/dashboard/customers/?" + urlencode({"q": q})

    mixes: dict[str, list[list[str]]] = {}
    overview = args.overview_query or list(OVERVIEW_QUERIES)
    mixes["overview"] = [
        ["default" if not q else q.lstrip("?"), f"/dashboard/{q}"] for q in overview
    ] * max(1, count // (10 * len(overview)))
    rows: list[list[str]] = []
    for _ in range(count):
        roll = rng.random()
        _, email, first, last = rng.choice(customers)
        if roll < 0.30:
            rows.append(["email", search(email)])
        elif roll < 0.50:
            local = email.split("@")[0]
            rows.append(["email-prefix", search(local[: max(4, len(local) - 3)])])
        elif roll < 0.80:
            pick = rng.random()
            if pick < 0.4 and last:
                rows.append(["name-last", search(last)])
            elif pick < 0.8 and first and last:
                name = f"{first} {last}" if first.isascii() else f"{last}{first}"
                rows.append(["name-full", search(name)])
            else:
                rows.append(["name-fragment", search(first[: max(1, min(4, len(first) - 1))])])
        else:
            number = rng.choice(numbers)
            rows.append(["order-number", search(f"#{number}" if rng.random() < 0.3 else number)])
    mixes["search"] = rows
    rows = []
    for _ in range(count):
        if rng.random() < 0.4:
            rows.append(["heavy", f"/dashboard/customers/{rng.choice(heavy)[0]}/"])
        else:
            rows.append(["random", f"/dashboard/customers/{rng.choice(customers)[0]}/"])
    mixes["customer"] = rows
    rows = []
    for _ in range(count // 10):
        roll = rng.random()
        if roll < 0.4:
            rows.append(["default", "/dashboard/customers/"])
        elif roll < 0.7:
            sort = rng.choice(("-spent", "-orders", "-last_order", "name"))
            rows.append([f"sort={sort}", "/dashboard/customers/?sort=" + sort])
        elif roll < 0.85:
            rows.append(["page", f"/dashboard/customers/?page={rng.randint(2, 200)}"])
        else:
            segment = rng.choice(("champions", "at_risk", "new"))
            rows.append([f"segment={segment}", f"/dashboard/customers/?segment={segment}"])
    mixes["list"] = rows
    for rows in mixes.values():
        rng.shuffle(rows)
    return mixes


# ---------------------------------------------------------------------------------------------
# in-process profile


@dataclass
class Statement:
    sql: str
    params: Any
    seconds: float
    url: str


def profile(
    mixes: dict[str, list[list[str]]], user: Any, per_kind: int, vendor: str, explain: int
) -> dict[str, Any]:
    """Each page's first `per_kind` URLs of every kind through the test client, twice; the
    second request's queries are recorded. Returns per page/kind summaries and EXPLAINs."""
    from django.db import connection
    from django.test import Client

    client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    out: dict[str, Any] = {}
    for page, rows in mixes.items():
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, path in rows:
            if len(by_kind[kind]) < per_kind and path not in by_kind[kind]:
                by_kind[kind].append(path)
        statements: list[Statement] = []
        kinds: dict[str, Any] = {}
        for kind, paths in sorted(by_kind.items()):
            samples = []
            for path in paths:
                client.get(path)  # warm: imports, caches, the OS page cache
                recorded: list[Statement] = []

                def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
                    started = time.perf_counter()
                    try:
                        return execute(sql, params, many, context)
                    finally:
                        recorded.append(  # noqa: B023 - consumed within this iteration
                            Statement(sql, params, time.perf_counter() - started, path)  # noqa: B023
                        )

                started = time.perf_counter()
                with connection.execute_wrapper(record):
                    response = client.get(path)
                wall = time.perf_counter() - started
                samples.append(
                    {
                        "path": path,
                        "status": response.status_code,
                        "ms": round(wall * 1000, 1),
                        "queries": len(recorded),
                        "query_ms": round(sum(s.seconds for s in recorded) * 1000, 1),
                        "bytes": len(response.content),
                    }
                )
                statements.extend(recorded)
            kinds[kind] = samples
        out[page] = {"kinds": kinds, "slowest": slowest(statements, explain, vendor)}
    return out


def _shape(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def slowest(statements: list[Statement], count: int, vendor: str) -> list[dict[str, Any]]:
    """The `count` statements (by SQL shape) with the highest single execution time, with the
    query plan of that execution."""
    from django.db import connection

    worst: dict[str, Statement] = {}
    calls: dict[str, int] = defaultdict(int)
    for statement in statements:
        shape = _shape(statement.sql)
        calls[shape] += 1
        if shape not in worst or statement.seconds > worst[shape].seconds:
            worst[shape] = statement
    found = []
    for shape, statement in sorted(worst.items(), key=lambda kv: -kv[1].seconds)[:count]:
        prefix = "EXPLAIN QUERY PLAN " if vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        try:
            with connection.cursor() as cursor:
                cursor.execute(prefix + statement.sql, statement.params)
                rows = cursor.fetchall()
            plan = [" | ".join(str(v) for v in row) for row in rows]
        except Exception as exc:
            plan = [f"(no plan: {exc})"]
        found.append(
            {
                "ms": round(statement.seconds * 1000, 1),
                "calls_in_profile": calls[shape],
                "url": statement.url,
                "sql": shape[:1500],
                "params": [str(p)[:80] for p in (statement.params or [])][:20],
                "plan": plan,
            }
        )
    return found


# ---------------------------------------------------------------------------------------------
# the server


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(workdir: Path, port: int, workers: int, threads: int) -> Server:
    """gunicorn with the argv `aftercare serve` uses (serve.py), access log to a file."""
    log = workdir / "gunicorn.log"
    command = [
        sys.executable,
        *("-m", "gunicorn", "aftercare.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *("--threads", str(threads), "--access-logfile", "-"),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    server = Server(process, log, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            if len(server_cpu_seconds(process.pid)) > workers:
                time.sleep(0.5)
                return server
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"gunicorn did not start in 60 s: {log.read_text()[-2000:]}")


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def sign_in(port: int, email: str, password: str) -> str:
    """Sign in through the login form; returns the Cookie header of the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/dashboard/login/")
    response = conn.getresponse()
    page = response.read().decode()
    cookies = _cookies(response)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if response.status != 200 or not match or "csrftoken" not in cookies:
        raise SystemExit(f"login page: {response.status}, no CSRF token found")
    body = urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": email, "password": password}
    )
    conn.request(
        "POST", "/dashboard/login/", body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": f"csrftoken={cookies['csrftoken']}",
                 "Referer": f"http://127.0.0.1:{port}/dashboard/login/"},
    )  # fmt: skip
    response = conn.getresponse()
    response.read()
    session = _cookies(response).get("sessionid")
    if response.status != 302 or not session:
        raise SystemExit(f"sign-in failed: {response.status} {response.headers}")
    cookie = f"sessionid={session}"
    conn.request("GET", "/dashboard/", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"signed in, but /dashboard/ answered {response.status}")
    conn.close()
    return cookie


# ---------------------------------------------------------------------------------------------
# one load run


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_summary(latencies: list[float]) -> dict[str, float]:
    values = sorted(latencies)
    return {
        "requests": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(values[-1] * 1000, 1) if values else float("nan"),
    }


def load_run(
    *,
    args: argparse.Namespace,
    server: Server,
    cookie: str,
    page: str,
    urls: list[list[str]],
    concurrency: int,
    db: RunDatabase,
) -> dict[str, Any]:
    spec = db.workdir / f"client-{page}-{concurrency}.json"
    out = db.workdir / f"client-{page}-{concurrency}.out.json"
    spec.write_text(
        json.dumps(
            {"port": server.port, "cookie": cookie, "urls": urls, "concurrency": concurrency,
             "duration": args.duration, "warmup": args.warmup}
        )
    )  # fmt: skip
    command = [sys.executable, str(Path(__file__).resolve()), "--client", str(spec), str(out)]
    client = subprocess.Popen(command)
    time.sleep(args.warmup)  # the client's own warm-up; CPU is counted from here
    cpu_before = server_cpu_seconds(server.process.pid)
    pg_before = postgres_cpu_seconds() if db.vendor == "postgresql" else {}
    busy_before, total_before = _machine_busy_seconds()
    load_before = os.getloadavg()
    client.wait()
    busy_after, total_after = _machine_busy_seconds()
    load_after = os.getloadavg()
    server_cpu = cpu_delta(cpu_before, server_cpu_seconds(server.process.pid))
    pg_cpu = cpu_delta(pg_before, postgres_cpu_seconds()) if pg_before else 0.0
    if client.returncode != 0:
        raise SystemExit(f"the load client failed ({client.returncode})")
    result = json.loads(out.read_text())
    kinds: list[str] = result["kinds"]
    records = result["records"]
    ok = [r for r in records if r[1] == 200]
    errors: dict[str, int] = defaultdict(int)
    for r in records:
        if r[1] != 200:
            errors[str(r[1])] += 1
    by_kind = {
        kind: latency_summary([r[2] for r in ok if r[0] == i]) for i, kind in enumerate(kinds)
    }
    for i, kind in enumerate(kinds):
        by_kind[kind]["errors"] = sum(1 for r in records if r[0] == i and r[1] != 200)
    slow = sorted(records, key=lambda r: -r[2])[:5]
    wall = total_after - total_before
    machine_busy = busy_after - busy_before
    summary = {
        "page": page,
        "database": db.vendor + (" +ANALYZE" if args.analyze else ""),
        "concurrency": concurrency,
        "duration_s": args.duration,
        **latency_summary([r[2] for r in records]),
        "per_s": round(len(records) / args.duration, 1),
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        "mean_bytes": round(sum(r[4] for r in ok) / max(1, len(ok))),
        "by_kind": by_kind,
        "slowest_requests": [
            {"kind": kinds[r[0]], "ms": round(r[2] * 1000, 1), "status": r[1]} for r in slow
        ],
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, len(records)), 1),
        "postgres_cpu_s": round(pg_cpu, 1),
        "client_cpu_s": round(result["cpu_s"], 1),
        "other_cpu_s": round(machine_busy - server_cpu - pg_cpu - result["cpu_s"], 1),
        "machine_cpu_s": round(wall, 1),
        "loadavg_before": [round(v, 2) for v in load_before],
        "loadavg_after": [round(v, 2) for v in load_after],
    }
    if page in TARGETS_MS:
        summary["target_p95_ms"] = TARGETS_MS[page]
        summary["met"] = summary["p95_ms"] < TARGETS_MS[page] and not summary["error_count"]
    if errors:
        summary["server_log_tail"] = server.log.read_text(errors="replace")[-1500:]
    return summary


# ---------------------------------------------------------------------------------------------
# output


def machine_facts() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    import django
    import gunicorn

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory": mem,
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
    }


def print_profile(prof: dict[str, Any]) -> None:
    print("\nin-process (test client, second request of each URL; query time = execute only)")
    print(f"{'page':>9} {'kind':>24} {'urls':>4} {'status':>7} {'ms med':>7} {'ms max':>7} "
          f"{'queries':>8} {'query ms med':>13} {'query ms max':>13} {'KB':>6}")  # fmt: skip
    for page, data in prof.items():
        for kind, samples in data["kinds"].items():
            ms = sorted(s["ms"] for s in samples)
            qms = sorted(s["query_ms"] for s in samples)
            queries = sorted(s["queries"] for s in samples)
            statuses = ",".join(sorted({str(s["status"]) for s in samples}))
            kb = sum(s["bytes"] for s in samples) / len(samples) / 1024
            print(
                f"{page:>9} {kind:>24} {len(samples):>4} {statuses:>7} {ms[len(ms) // 2]:>7.1f} "
                f"{ms[-1]:>7.1f} {queries[0]:>3}-{queries[-1]:<4} {qms[len(qms) // 2]:>13.1f} "
                f"{qms[-1]:>13.1f} {kb:>6.0f}"
            )
    for page, data in prof.items():
        for entry in data["slowest"]:
            print(
                f"\n[{page}] {entry['ms']} ms ({entry['calls_in_profile']} calls) {entry['url']}"
                f"\n  {entry['sql'][:600]}\n  params {entry['params']}"
            )
            for line in entry["plan"][:25]:
                print(f"    {line}")


def print_results(results: list[dict[str, Any]]) -> None:
    print(
        "\n| page | db | conc. | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors "
        "| server CPU ms/req | other CPU-s / machine | load avg | target p95 |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| --- | --- |")  # fmt: skip
    for r in results:
        target = ""
        if "target_p95_ms" in r:
            target = f"< {r['target_p95_ms']:.0f}: {'met' if r['met'] else 'MISSED'}"
        print(
            f"| {r['page']} | {r['database']} | {r['concurrency']} | {r['requests']:,} | "
            f"{r['per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} | "
            f"{r['error_count']} | {r['server_cpu_ms_per_request']} | "
            f"{r['other_cpu_s']} / {r['machine_cpu_s']} | "
            f"{r['loadavg_before'][0]}→{r['loadavg_after'][0]} | {target} |"
        )
    print("\nper kind of URL (p50 / p95 / p99 ms, requests):")
    for r in results:
        parts = [
            f"{kind} {s['p50_ms']}/{s['p95_ms']}/{s['p99_ms']} ({s['requests']}"
            + (f", {s['errors']} errors" if s["errors"] else "")
            + ")"
            for kind, s in sorted(r["by_kind"].items())
        ]
        print(f"  {r['page']} c={r['concurrency']}: " + "; ".join(parts))
        if r.get("server_log_tail"):
            print(f"  server log tail:\n{r['server_log_tail']}")


def main() -> int:
    args = parse_args()
    if args.client:
        client_main(Path(args.client[0]), Path(args.client[1]))
        return 0
    started = time.perf_counter()
    db, meta, how = prepare_database(args)
    from aftercare import env

    workers = args.workers or env.integer("AFTERCARE_WEB_WORKERS", default=2)
    threads = args.threads or env.integer("AFTERCARE_WEB_THREADS", default=4)
    facts = machine_facts()
    print(
        f"{db.vendor}; {facts['nproc']} cores ({facts['cpu']}); dataset: {how}; "
        f"rows {meta.get('rows')}; orders end {meta.get('end')}",
        flush=True,
    )
    server: Server | None = None
    results: list[dict[str, Any]] = []
    report: dict[str, Any] = {"machine": facts, "dataset": how, "rows": meta.get("rows")}
    report["analyze"] = args.analyze
    try:
        if not args.skip_analytics_rebuild:
            report["analytics"] = rebuild_analytics()
            print(f"analytics: {report['analytics']}", flush=True)
        if args.analyze:
            report["analyze_s"] = run_analyze()
            print(f"ANALYZE: {report['analyze_s']} s", flush=True)
        user, password = create_owner()
        mixes = sample_urls(args, args.urls)
        mixes = {page: rows for page, rows in mixes.items() if page in args.pages}
        report["profile"] = profile(mixes, user, args.profile_urls, db.vendor, args.explain)
        print_profile(report["profile"])
        from django.db import connections

        connections.close_all()
        server = start_server(db.workdir, args.port or free_port(), workers, threads)
        cookie = sign_in(server.port, OWNER_EMAIL, password)
        print(
            f"\ngunicorn aftercare.wsgi --workers {workers} --threads {threads} --access-logfile "
            f"(as `aftercare serve`), port {server.port}; {args.warmup} s warm-up + "
            f"{args.duration} s per run",
            flush=True,
        )
        for page in args.pages:
            for concurrency in args.concurrency:
                result = load_run(
                    args=args, server=server, cookie=cookie, page=page, urls=mixes[page],
                    concurrency=concurrency, db=db,
                )  # fmt: skip
                results.append(result)
                print(
                    f"{page:>9} c={concurrency}: {result['requests']:,} requests "
                    f"({result['per_s']}/s), p50 {result['p50_ms']} p95 {result['p95_ms']} "
                    f"p99 {result['p99_ms']} ms, errors {result['error_count']}, load "
                    f"{result['loadavg_after'][0]}",
                    flush=True,
                )
    finally:
        if server is not None:
            server.stop()
        db.drop()
    print_results(results)
    for page in ("overview", "search", "customer"):
        runs = [r for r in results if r["page"] == page]
        if runs:
            verdicts = ", ".join(
                f"c={r['concurrency']} p95 {r['p95_ms']} ms {'met' if r['met'] else 'MISSED'}"
                for r in runs
            )
            print(f"target {page} p95 < {TARGETS_MS[page]:.0f} ms: {verdicts}")
    print(f"wall {time.perf_counter() - started:.0f} s")
    if args.json_out:
        with args.json_out.open("a") as out:
            out.write(json.dumps({**report, "results": results}, default=str) + "\n")
    return 0 if all(r["error_count"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
