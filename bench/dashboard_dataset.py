"""The dataset of the dashboard-pages benchmark: one store with 300,000 customers and 1,000,000
orders, loaded through the real import, cached between runs.

    .venv/bin/python bench/dashboard_dataset.py                        # build the SQLite cache
    .venv/bin/python bench/dashboard_dataset.py --orders 20000 --customers 6000 \\
        --dataset-cache /tmp/small.sqlite3
    .venv/bin/python bench/dashboard_dataset.py \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_pages

How it is built (`build`): migrate, create store "bench", write an NDJSON file of WooCommerce
REST order objects (`write_orders`, the shape of bench/generate_orders.py, whose `_order` builds
each body) and load it with `aftercare import orders FILE --store bench` in a subprocess — the
same parse → mirror → events path as a shop's history, so customers, line items, refunds,
status changes, consent changes and the event log (order.created/paid/completed/…,
customer.created, customer.consent_changed) are exactly what production would hold. A direct
bulk insert would be ~5x faster to build but would have to re-implement the mirror's rows and
event payloads, which are still changing; the cache makes the ~7 minutes a one-off.

The shop it describes (deterministic for a seed):
- 300,000 customers, 60 % English-speaking (US, GB, CA, AU, IE, NZ), 20 % Korean (Hangul names,
  +82 phones, naver/daum/kakao addresses), 20 % Japanese (kanji/kana names, +81 phones); the
  ko/ja ones carry `wpml_language` so their locale is known. 40 % have an account.
- repeat-purchase skew: 56 % buy once, 16 % twice, 8 % three times, the rest follow a Pareto
  tail (alpha 1.05) capped at 400 orders — ~5,000 customers have 20+ orders; the total is
  trimmed to exactly `orders`.
- 2 years of dates ending one hour before the build; a customer's later orders fall between
  their first order and the end (customers with 10+ orders start in the first 40 % of the span).
- statuses by age: older than 3 days ~88 % completed, 3 % cancelled, 2.5 % refunded (full
  refund), 1.5 % failed, some pending/on-hold/processing; 5 % of completed orders carry a
  partial refund; the last 3 days are mostly processing/pending. 10 % use a coupon.
- consent at checkout (`_marketing_consent` order meta): 35 % of customers tick yes, 25 % no,
  the rest never see the box; 10 % of the "no" ones tick yes on a later order (a second
  ConsentChange and event).

The cache: a SQLite file (`--dataset-cache`, default /tmp/aftercare_bench_pages.sqlite3) or a
PostgreSQL database `<name>_cache`, each with a JSON sidecar (`<file>.json`) recording the
parameters and the migrations applied. dashboard_pages.py reuses it when the parameters match:
it migrates the run's copy forward (migrations newer than the cache) and compares its schema
(columns, indexes, constraints) with an empty database migrated by today's code; any difference
(a migration edited after the cache was built) rebuilds it. `--rebuild-dataset` forces a rebuild
(after changing the mirror, whose rows and events the cache holds)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import generate_orders

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
STORE_SLUG = "bench"
DATASET_VERSION = 1  # bump when the generator changes: caches of older versions are rebuilt
DEFAULT_SQLITE_CACHE = Path("/tmp/aftercare_bench_pages.sqlite3")  # noqa: S108 - a cache file
DEFAULT_PG_NAME = "aftercare_bench_pages"

# ---------------------------------------------------------------------------------------------
# people

_EN_FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Emma", "Olivia", "Noah", "Liam", "Ava", "Sophia", "Lucas", "Mia",
    "Ethan", "Chloe", "Zoë", "Seán",
)  # fmt: skip
_EN_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore",
    "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall",
    "Young", "King", "Wright", "O'Brien", "Nguyen",
)  # fmt: skip
# (script, romanised) — emails use the romanised form
_KO_FAMILY = (
    ("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"),
    ("조", "cho"), ("윤", "yoon"), ("장", "jang"), ("임", "lim"), ("한", "han"), ("오", "oh"),
    ("서", "seo"), ("신", "shin"), ("권", "kwon"), ("황", "hwang"), ("안", "ahn"), ("송", "song"),
)  # fmt: skip
_KO_GIVEN = (
    ("민준", "minjun"), ("서연", "seoyeon"), ("지호", "jiho"), ("하은", "haeun"),
    ("도윤", "doyun"), ("서윤", "seoyun"), ("예준", "yejun"), ("지우", "jiwoo"),
    ("시우", "siwoo"), ("수아", "sua"), ("주원", "juwon"), ("지민", "jimin"), ("하준", "hajun"),
    ("채원", "chaewon"), ("지훈", "jihun"), ("유진", "yujin"), ("현우", "hyunwoo"),
    ("다은", "daeun"), ("준서", "junseo"), ("예린", "yerin"),
)  # fmt: skip
_JA_FAMILY = (
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"),
)  # fmt: skip
_JA_GIVEN = (
    ("翔太", "shota"), ("さくら", "sakura"), ("陽翔", "haruto"), ("結衣", "yui"), ("蓮", "ren"),
    ("美咲", "misaki"), ("大翔", "hiroto"), ("陽菜", "hina"), ("悠真", "yuma"), ("葵", "aoi"),
    ("湊", "minato"), ("凛", "rin"), ("樹", "itsuki"), ("結菜", "yuna"), ("颯太", "sota"),
    ("美月", "mizuki"), ("健太", "kenta"), ("愛", "ai"), ("拓海", "takumi"), ("花子", "hanako"),
)  # fmt: skip
_EN_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.co.uk", "proton.me")
_KO_DOMAINS = ("naver.com", "daum.net", "kakao.com", "gmail.com")
_JA_DOMAINS = ("docomo.ne.jp", "yahoo.co.jp", "gmail.com", "icloud.com", "ezweb.ne.jp")
_EN_COUNTRIES = (("US", 55), ("GB", 20), ("CA", 10), ("AU", 8), ("IE", 4), ("NZ", 3))


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    first: str
    last: str
    email: str
    phone: str
    country: str
    postcode: str
    language: str  # en / ko / ja
    account_id: int  # WooCommerce user id, 0 = guest
    orders: int
    consent: str  # "" (never asked), "yes", "no", "no-then-yes"


def _person(rng: random.Random, index: int, orders: int) -> Person:
    roll = rng.random()
    account_id = 100_000 + index if rng.random() < 0.4 else 0
    consent_roll = rng.random()
    consent = "yes" if consent_roll < 0.35 else "no" if consent_roll < 0.60 else ""
    if consent == "no" and orders > 1 and rng.random() < 0.10:
        consent = "no-then-yes"
    style = rng.randrange(3)
    if roll < 0.60:
        first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
        local_first = first.lower().replace("ë", "e").replace("á", "a")
        local_last = last.lower().replace("'", "")
        domain, language = rng.choice(_EN_DOMAINS), "en"
        country = rng.choices([c for c, _ in _EN_COUNTRIES], [w for _, w in _EN_COUNTRIES])[0]
        phone = f"+1 415 555 {rng.randrange(10000):04d}" if country in ("US", "CA") else ""
        postcode = f"{rng.randrange(10000, 99999)}"
    elif roll < 0.80:
        (last, local_last), (first, local_first) = rng.choice(_KO_FAMILY), rng.choice(_KO_GIVEN)
        domain, language, country = rng.choice(_KO_DOMAINS), "ko", "KR"
        phone = f"010-{rng.randrange(2000, 9999)}-{rng.randrange(10000):04d}"
        postcode = f"{rng.randrange(10000, 63999):05d}"
    else:
        (last, local_last), (first, local_first) = rng.choice(_JA_FAMILY), rng.choice(_JA_GIVEN)
        domain, language, country = rng.choice(_JA_DOMAINS), "ja", "JP"
        phone = f"090-{rng.randrange(1000, 9999)}-{rng.randrange(10000):04d}"
        postcode = f"{rng.randrange(100, 999)}-{rng.randrange(10000):04d}"
    if style == 0:
        local = f"{local_first}.{local_last}{index}"
    elif style == 1:
        local = f"{local_last}{local_first[0]}{index}"
    else:
        local = f"{local_first}{index}"
    return Person(
        index, first, last, f"{local}@{domain}", phone, country, postcode, language, account_id,
        orders, consent,
    )  # fmt: skip


def order_counts(rng: random.Random, *, customers: int, orders: int) -> list[int]:
    """Orders per customer: most once, a heavy Pareto tail; summing to exactly `orders`."""
    if orders < customers:
        raise SystemExit("--orders must be at least --customers (everyone bought once)")
    counts = []
    for _ in range(customers):
        u = rng.random()
        if u < 0.56:
            counts.append(1)
        elif u < 0.72:
            counts.append(2)
        elif u < 0.80:
            counts.append(3)
        else:
            counts.append(min(400, 3 + int(rng.paretovariate(1.05) * 1.6)))
    total = sum(counts)
    while total != orders:  # trim or pad at random customers (repeat buyers when trimming)
        i = rng.randrange(customers)
        if total > orders and counts[i] > 1:
            counts[i] -= 1
            total -= 1
        elif total < orders and counts[i] > 1:
            counts[i] += 1
            total += 1
    return counts


# ---------------------------------------------------------------------------------------------
# orders

_OLD_STATUSES = (
    ("completed", 880), ("cancelled", 30), ("refunded", 25), ("failed", 15), ("pending", 20),
    ("on-hold", 10), ("processing", 20),
)  # fmt: skip
_RECENT_STATUSES = (
    ("processing", 60), ("pending", 15), ("on-hold", 10), ("cancelled", 5), ("failed", 5),
    ("completed", 5),
)  # fmt: skip
_SPAN = timedelta(days=730)


@dataclass(frozen=True)
class DatasetParams:
    customers: int = 300_000
    orders: int = 1_000_000
    seed: int = 42
    version: int = DATASET_VERSION


def write_orders(*, path: Path, params: DatasetParams, end: datetime) -> dict[str, Any]:
    """Write the shop's order history as NDJSON (oldest first). Returns facts about it."""
    rng = random.Random(params.seed)
    counts = order_counts(rng, customers=params.customers, orders=params.orders)
    people = [_person(rng, i, n) for i, n in enumerate(counts)]
    start = end - _SPAN
    span_s = int(_SPAN.total_seconds())
    # (created, person index, nth order of that person)
    placed: list[tuple[datetime, int, int]] = []
    for person in people:
        early = person.orders >= 10
        first_s = rng.randrange(int(span_s * 0.4) if early else span_s)
        offsets = sorted(rng.randrange(first_s, span_s) for _ in range(person.orders - 1))
        for nth, offset in enumerate([first_s, *offsets]):
            placed.append((start + timedelta(seconds=offset), person.index, nth))
    placed.sort()
    products = generate_orders._products(rng, 2000)
    recent = end - timedelta(days=3)
    line_id = 1
    statuses: dict[str, int] = {}
    with path.open("w", encoding="utf-8") as out:
        chunk: list[str] = []
        for order_id, (created, person_index, nth) in enumerate(placed, start=1):
            person = people[person_index]
            table = _RECENT_STATUSES if created >= recent else _OLD_STATUSES
            status = rng.choices([s for s, _ in table], [w for _, w in table])[0]
            if status in ("completed", "refunded") and created > end - timedelta(days=2, hours=1):
                status = "processing"  # _order completes two days after creation
            statuses[status] = statuses.get(status, 0) + 1
            lines = rng.choices((1, 2, 3, 4, 5), (30, 25, 20, 15, 10))[0]  # mean 2.5
            order, line_id = generate_orders._order(
                rng, order_id=order_id, created=created, line_id=line_id, lines=lines,
                status=status, email_index=person.index, products=products,
            )  # fmt: skip
            _dress(order, person, nth)
            chunk.append(json.dumps(order, ensure_ascii=False, separators=(",", ":")))
            if len(chunk) >= 10_000:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            out.write("\n".join(chunk) + "\n")
    heavy = sorted(counts, reverse=True)
    return {
        "customers": len(people),
        "orders": len(placed),
        "once": sum(1 for c in counts if c == 1),
        "twenty_plus": sum(1 for c in counts if c >= 20),
        "max_orders": heavy[0],
        "top_1pct_share_of_orders": round(sum(heavy[: len(heavy) // 100]) / len(placed), 3),
        "languages": {
            lang: sum(1 for p in people if p.language == lang) for lang in ("en", "ko", "ja")
        },
        "statuses": statuses,
        "first_order": placed[0][0].isoformat(),
        "last_order": placed[-1][0].isoformat(),
        "bytes": path.stat().st_size,
    }


def _dress(order: dict[str, Any], person: Person, nth: int) -> None:
    """Put the person on the generated order: names, email, phone, address, account, meta."""
    for part in ("billing", "shipping"):
        order[part].update(
            first_name=person.first, last_name=person.last, country=person.country,
            postcode=person.postcode,
        )  # fmt: skip
    order["billing"]["email"] = person.email
    order["billing"]["phone"] = person.phone
    order["customer_id"] = person.account_id
    meta = order["meta_data"]
    if person.language != "en":
        meta.append({"id": order["id"] * 10 + 1, "key": "wpml_language", "value": person.language})
    consent = person.consent
    if consent == "no-then-yes":
        consent = "no" if nth == 0 else "yes" if nth == 1 else ""
    elif nth > 0 and consent:
        consent = consent if nth % 3 == 0 else ""  # the box is not on every later checkout
    if consent:
        meta.append({"id": order["id"] * 10 + 2, "key": "_marketing_consent", "value": consent})


# ---------------------------------------------------------------------------------------------
# the cache


def migration_hashes() -> dict[str, str]:
    """sha256 of every migration file of the project's apps, keyed "app.name"."""
    found = {}
    for path in sorted((SRC / "aftercare").glob("*/migrations/[0-9]*.py")):
        found[f"{path.parent.parent.name}.{path.stem}"] = hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
    return found


def sidecar_path(cache: str) -> Path:
    if cache.startswith(("postgres://", "postgresql://")):
        return Path(f"/tmp/{pg_name(cache)}.json")  # noqa: S108 - a cache file
    return Path(f"{cache}.json")


def cache_problem(cache: str, params: DatasetParams) -> str | None:
    """Why the cache cannot be used (None: it can)."""
    meta_path = sidecar_path(cache)
    if not meta_path.exists():
        return f"no dataset cache at {cache}"
    meta = json.loads(meta_path.read_text())
    if meta.get("params") != asdict(params):
        return f"cache built with {meta.get('params')}, wanted {asdict(params)}"
    if cache.startswith("postgres"):
        if not pg_exists(cache):
            return f"database {pg_name(cache)} is gone"
    elif not Path(cache).exists():
        return f"{cache} is gone"
    for name in meta["migrations"]:
        if name not in migration_hashes():
            return f"migration {name} is gone since the cache was built"
    return None


def schema_fingerprint(url: str) -> set[str]:
    """Tables' columns, indexes and constraints of a database, as comparable lines (the
    `schema_problem` check: what the cache holds vs. what today's migrations create)."""
    lines: set[str] = set()
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            for table in tables:
                for _, name, kind, notnull, _default, pk in conn.execute(
                    f'PRAGMA table_info("{table}")'
                ):
                    lines.add(f"column {table}.{name} {kind} notnull={notnull} pk={pk}")
                for _, index, unique, origin, partial in conn.execute(
                    f'PRAGMA index_list("{table}")'
                ):
                    columns = [r[2] for r in conn.execute(f'PRAGMA index_info("{index}")')]
                    label = "auto" if index.startswith("sqlite_autoindex") else index
                    lines.add(f"index {table} {label} u={unique} {origin} p={partial} {columns}")
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ):
                lines.add(f"index-sql {name} {' '.join(sql.replace(chr(34), '').split())}")
        return lines
    import psycopg

    with psycopg.connect(url) as conn:
        for row in conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length,"
            " numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        ):
            lines.add("column " + " ".join(str(v) for v in row))
        for name, definition in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ):
            lines.add(f"index {name} {definition}")
        for name, definition in conn.execute(
            "SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
            " AND c.contype <> 'f'"
        ):
            lines.add(f"constraint {name} {definition}")
    return lines


def schema_problem(*, url: str, reference_url: str) -> str | None:
    """Migrate an empty `reference_url` with today's migrations (a subprocess) and compare its
    schema with `url`'s. None when they match; else the first differences."""
    env = {**os.environ, "DATABASE_URL": reference_url}
    result = subprocess.run(
        [sys.executable, "-m", "aftercare.cli", "migrate", "--verbosity", "0"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"migrating the reference database failed:\n{result.stderr[-2000:]}")
    have, want = schema_fingerprint(url), schema_fingerprint(reference_url)
    if have == want:
        return None
    diff = [f"- {line}" for line in sorted(want - have)] + [
        f"+ {line}" for line in sorted(have - want)
    ]
    return "schema differs from today's migrations (- missing, + extra):\n  " + "\n  ".join(
        diff[:12]
    )


def write_sidecar(cache: str, meta: dict[str, Any]) -> None:
    sidecar_path(cache).write_text(json.dumps(meta, indent=1, default=str))


def read_sidecar(cache: str) -> dict[str, Any]:
    return dict(json.loads(sidecar_path(cache).read_text()))


def snapshot_sqlite(*, live: Path, cache: Path) -> None:
    """Copy a SQLite database nobody has open (WAL folded in first) to `cache`, atomically."""
    with sqlite3.connect(live) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tmp = cache.with_name(cache.name + ".part")
    shutil.copyfile(live, tmp)
    tmp.replace(cache)


def restore_sqlite(*, cache: Path, live: Path) -> None:
    shutil.copyfile(cache, live)


# PostgreSQL: a database per role, created from one another with CREATE DATABASE … TEMPLATE.


def pg_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to create/drop database {name!r}: use [a-z0-9_]")
    return name


def pg_with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def pg_admin(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(pg_with_name(url, "postgres"), autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def pg_exists(url: str) -> bool:
    rows = pg_admin(url, f"SELECT 1 FROM pg_database WHERE datname = '{pg_name(url)}'")  # noqa: S608
    return bool(rows)


def pg_drop(url: str) -> None:
    pg_admin(url, f'DROP DATABASE IF EXISTS "{pg_name(url)}" WITH (FORCE)')


def pg_copy(*, source: str, target: str) -> None:
    pg_drop(target)
    pg_admin(target, f'CREATE DATABASE "{pg_name(target)}" TEMPLATE "{pg_name(source)}"')


# ---------------------------------------------------------------------------------------------
# building (Django is set up for the database being built)


def build(*, params: DatasetParams, workdir: Path, log: Any = print) -> dict[str, Any]:
    """Migrate the (empty) configured database, create the store, import the generated orders.
    Returns the sidecar facts (timings, counts)."""
    from django.core.management import call_command
    from django.db import connections

    from aftercare.stores.services import create_store

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    create_store(slug=STORE_SLUG, name="Bench shop", currency="USD", time_zone="UTC")
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    path = workdir / "orders.ndjson"
    log(f"dataset: writing {params.orders:,} orders of {params.customers:,} customers …")
    t0 = time.perf_counter()
    facts = write_orders(path=path, params=params, end=end)
    generate_s = time.perf_counter() - t0
    log(f"dataset: {facts['bytes'] / 1e6:,.0f} MB in {generate_s:.0f} s; importing …")
    connections.close_all()
    t0 = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "aftercare.cli", "import", "orders", str(path),
         "--store", STORE_SLUG, "--batch-size", "2000"],
        cwd=workdir, capture_output=True, text=True, check=False,
    )  # fmt: skip
    import_s = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(f"import failed ({result.returncode}):\n{result.stderr[-3000:]}")
    log(f"dataset: imported in {import_s:.0f} s: {result.stdout.strip()[-400:]}")
    path.unlink()
    return {
        "params": asdict(params),
        "built_at": datetime.now(UTC).isoformat(),
        "end": end.isoformat(),
        "generate_seconds": round(generate_s, 1),
        "import_seconds": round(import_s, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
        "import_summary": result.stdout.strip()[-1000:],
        "generated": facts,
        "rows": table_counts(),
        "migrations": migration_hashes(),
    }


def table_counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "customers": "customers_customer", "orders": "orders_order",
        "line_items": "orders_lineitem", "refunds": "orders_refund",
        "status_changes": "orders_orderstatuschange", "consent_changes":
        "customers_consentchange", "events": "events_event", "jobs": "jobs_job",
    }  # fmt: skip
    counts = {}
    with connection.cursor() as cursor:
        for key, table in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
            counts[key] = int(cursor.fetchone()[0])
    return counts


def main() -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dataset-cache", type=Path, default=DEFAULT_SQLITE_CACHE)
    parser.add_argument("--database-url", default=None, help="postgres://…/NAME: cache NAME_cache")
    parser.add_argument("--rebuild-dataset", action="store_true")
    args = parser.parse_args()
    params = DatasetParams(customers=args.customers, orders=args.orders, seed=args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="aftercare-bench-pages-"))
    if args.database_url:
        cache = pg_with_name(args.database_url, pg_name(args.database_url) + "_cache")
    else:
        cache = str(args.dataset_cache)
    problem = cache_problem(cache, params)
    if problem is None and not args.rebuild_dataset:
        print(f"dataset cache is usable: {cache}")
        return
    print(f"building the dataset cache ({problem or '--rebuild-dataset'})")
    os.environ["AFTERCARE_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "aftercare.settings"
    os.environ.setdefault("AFTERCARE_LOG_LEVEL", "WARNING")
    (workdir / "static").mkdir()
    if args.database_url:
        pg_drop(cache)
        pg_admin(cache, f'CREATE DATABASE "{pg_name(cache)}"')
        os.environ["DATABASE_URL"] = cache
    else:
        live = workdir / "build.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{live}"
    import django

    django.setup()
    from django.db import connections

    try:
        meta = build(params=params, workdir=workdir)
        connections.close_all()
        if not args.database_url:
            snapshot_sqlite(live=live, cache=Path(cache))
        write_sidecar(cache, meta)
    except BaseException:
        connections.close_all()
        if args.database_url:
            pg_drop(cache)  # half-built: no sidecar is written, so it would be rebuilt anyway
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({k: v for k, v in meta.items() if k != "migrations"}, indent=1))


if __name__ == "__main__":
    main()
