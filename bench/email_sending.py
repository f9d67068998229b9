"""Benchmark: personalised emails end to end — due flow steps rendered into the outbox
(`runner.run_due`) and delivered over SMTP (`sender.send_due`) to a local aiosmtpd server in
its own process — against the ceiling: the same rendered messages sent by a bare smtplib loop
over one persistent connection.

    .venv/bin/python bench/email_sending.py                        # 20,000 emails, SQLite
    .venv/bin/python bench/email_sending.py --steps 2000           # smoke (~1 min)
    .venv/bin/python bench/email_sending.py --profile              # + cProfile of both phases
    .venv/bin/python bench/email_sending.py --concurrent           # runner and sender at once
    .venv/bin/python bench/email_sending.py \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_sending

The shop (flows_matching.py's builders, core.bulk_rows): a store speaking en/ko/ja in opt-in
mode with its default never-spam rules (16 h frequency cap, quiet hours 21:00-08:00 on the
customer's clock); 60 products in 12 categories (images, permalinks, some cross-sells); `--steps`
customers with marketing consent, distinct emails and names (en 50 %, ko 25 %, ja 25 %), each
in a time zone where it is daytime now (so quiet hours defer nobody — a deferral is no email);
one completed order of 4-6 items each (~5), paid in the last 20 days (so the best sellers the
recommendations fall back to exist), and analytics' CustomerStats. One active marketing flow,
"send_email" of the shipped `cross-sell` template (product grid of recommendations, button,
one-click unsubscribe headers, tracked links, open pixel), with a re-checked filter
(`order.is_refunded eq false`). One FlowRun and one ScheduledStep per customer, due now,
inserted in bulk (not through the matcher).

Phases, each timed alone in this process:
1. render + queue: `runner.run_due(limit=--limit)` until nothing is due — claim, re-check on
   fresh facts, the outbox's gate (suppression, consent, quiet hours, frequency cap), variables
   (order, lines, products, recommendations), Jinja2 + Markdown render, tracked links, a
   `Message` row per step;
2. send: `sender.send_due(limit=--limit)` until nothing is queued — claim, send-time re-check,
   SMTP over one connection per batch (EMAIL_URL points at the server), a `SendAttempt`, the
   message's outcome and a `message.sent` event committed per mail;
3. the ceiling: every sent `Message` composed once (`channels.mime`, as the channel does) before
   the clock starts, then sent by `smtplib.SMTP.sendmail` in a bare loop over one connection.

End to end = emails / (phase 1 + phase 2). `--concurrent` instead runs phase 2 in a second
process (this script with `--send-loop`) while phase 1 runs, as two workers on the two cores
would (end to end = emails / wall time from the first claim to the last mail). The server is
bench/smtp_ceiling.py's (imported and started as its own process, `--serve`); it counts what it
received (checked against the messages sent: more mails than messages means a mail went out
twice; the send attempts are listed by outcome). CPU per phase: this process, the SMTP server, this
database's PostgreSQL backends, and the rest of the machine (other people's work).
Target (issue): >= 1,000 personalised emails/s end to end on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import benchlib
import flows_matching as shoplib

BENCH = benchlib.REPO / "bench"
DAYTIME_ZONES = (
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
    "America/Chicago", "America/New_York", "America/Sao_Paulo", "Atlantic/Azores",
    "Europe/London", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai",
    "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai",
    "Asia/Seoul", "Asia/Tokyo", "Australia/Sydney", "Pacific/Noumea", "Pacific/Auckland",
)  # fmt: skip
MARKETING_FLOW = {
    "name": "Cross-sell (bench)",
    "category": "marketing",
    "trigger": {"type": "order.completed"},
    "filters": [{"fact": "order.is_refunded", "op": "eq", "value": False}],
    "steps": [
        {"key": "suggest", "type": "action", "action": "send_email",
         "params": {"template": "cross-sell"}},
    ],
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the SMTP server: bench/smtp_ceiling.py's, in its own process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_ceiling_server() -> tuple[subprocess.Popen[str], int]:
    """bench/smtp_ceiling.py's aiosmtpd sink (answers 250, counts mails; NOOP tells the count)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(BENCH / "smtp_ceiling.py"), "--serve", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server, port


def daytime_zones(now: datetime) -> list[str]:
    """Zones where it is 09:00-19:59 now (well outside the default quiet hours)."""
    zones = [z for z in DAYTIME_ZONES if 9 <= now.astimezone(ZoneInfo(z)).hour < 20]
    assert zones, "no daytime zone in the list"
    return zones


# ---------------------------------------------------------------------------------------------
# the shop and the due steps


@dataclass
class SendingShop:
    store: Any
    flow_id: int
    customers: int
    steps: int


def build_customers_and_orders(
    store: Any, *, count: int, rng: random.Random, now: datetime, consent: str = "granted"
) -> tuple[list[int], list[int], Counter[str]]:
    """`count` customers (distinct emails and names, daytime zones, consent) with one completed
    order of 4-6 lines each, and their CustomerStats. Returns (customer ids, order ids,
    languages)."""
    from django.db import transaction

    from aftercare.analytics.models import CustomerStats
    from aftercare.customers.models import Customer
    from aftercare.orders.models import LineItem, Order

    catalog = shoplib.make_catalog(store, rng)
    zones = daytime_zones(now)
    languages = [rng.choices(("en", "ko", "ja"), weights=(50, 25, 25))[0] for _ in range(count)]
    customer_rows = []
    for i, language in enumerate(languages):
        first, last = shoplib.person(i, language)
        zone = shoplib.ZONE_OF[language]
        if zone not in zones:
            zone = zones[i % len(zones)]
        customer_rows.append(
            (store.pk, f"customer{i}@example.com", 7000 + i, True, first, last,
             shoplib.LOCALE_OF[language], zone, shoplib.COUNTRY_OF[language], consent,
             now - timedelta(days=60))
        )  # fmt: skip
    orders = []
    for _ in range(count):
        picks = rng.sample(catalog, rng.choice((4, 5, 5, 6)))
        lines = [(p, rng.choice((1, 1, 2))) for p in picks]
        subtotal = sum((p.price * q for p, q in lines), Decimal(0))
        paid = now - timedelta(days=rng.uniform(1, 20))
        orders.append((lines, subtotal, paid))
    with transaction.atomic():
        customer_ids = shoplib.insert_ids(Customer, shoplib.CUSTOMER_COLUMNS, customer_rows)
        order_rows: list[tuple[Any, ...]] = [
            (store.pk, 1000 + i, str(1000 + i), "completed", "USD", customer_ids[i],
             f"customer{i}@example.com", subtotal, Decimal(0), Decimal(5), subtotal + 5,
             Decimal(0), shoplib.COUNTRY_OF[languages[i]], shoplib.COUNTRY_OF[languages[i]],
             "checkout", "stripe", [], "woocommerce", paid - timedelta(minutes=2), paid,
             paid + timedelta(hours=20), paid + timedelta(hours=20))
            for i, (_, subtotal, paid) in enumerate(orders)
        ]  # fmt: skip
        order_ids = shoplib.insert_ids(Order, shoplib.ORDER_COLUMNS, order_rows)
        shoplib.insert_all(
            LineItem,
            shoplib.LINE_COLUMNS,
            [
                (order_ids[i], 10 * (1000 + i) + n, p.external_id, p.name, p.sku, q, p.price,
                 p.price * q, p.price * q)
                for i, (lines, _, _) in enumerate(orders)
                for n, (p, q) in enumerate(lines)
            ],
        )  # fmt: skip
        shoplib.insert_all(
            CustomerStats,
            shoplib.STATS_COLUMNS,
            [
                (customer_ids[i], store.pk, 1, subtotal + 5, paid, paid, "new")
                for i, (_, subtotal, paid) in enumerate(orders)
            ],
        )
    return customer_ids, order_ids, Counter(languages)


def insert_due_steps(
    *,
    store: Any,
    flow_id: int,
    step_key: str,
    customer_ids: list[int],
    order_ids: list[int],
    count: int,
    now: datetime,
) -> None:
    """`count` runs of the flow (step i: customer and order i % len), each with its action step
    due a minute ago, as the matcher would have left them — written in bulk."""
    from django.db import transaction

    from aftercare.flows.models import FlowRun, ScheduledStep

    n = len(customer_ids)
    run_columns = ("store_id", "flow_id", "customer_id", "subject_key", "context", "status",
                   "started_at")  # fmt: skip
    step_columns = ("store_id", "flow_id", "run_id", "customer_id", "step_key", "step_type",
                    "due_at", "status", "created_at")  # fmt: skip
    due = now - timedelta(minutes=1)
    for start in range(0, count, 100_000):
        part = range(start, min(count, start + 100_000))
        with transaction.atomic():
            run_ids = shoplib.insert_ids(
                FlowRun,
                run_columns,
                [
                    (store.pk, flow_id, customer_ids[i % n], f"bench:{i}",
                     {"order_id": order_ids[i % n], "event_type": "order.completed"},
                     "active", due)
                    for i in part
                ],
            )  # fmt: skip
            shoplib.insert_all(
                ScheduledStep,
                step_columns,
                [
                    (store.pk, flow_id, run_id, customer_ids[i % n], step_key, "action", due,
                     "pending", due)
                    for i, run_id in zip(part, run_ids, strict=True)
                ],
            )  # fmt: skip


def build_sending_shop(store: Any, *, steps: int, seed: int) -> SendingShop:
    from aftercare.core import clock
    from aftercare.flows import services

    now = clock.now()
    rng = random.Random(seed)
    shoplib.configure_store(store)
    flow = services.create_flow(store=store, data=MARKETING_FLOW, status="active")
    customer_ids, order_ids, _ = build_customers_and_orders(store, count=steps, rng=rng, now=now)
    insert_due_steps(
        store=store,
        flow_id=flow.pk,
        step_key="suggest",
        customer_ids=customer_ids,
        order_ids=order_ids,
        count=steps,
        now=now,
    )
    shoplib.analyze()
    return SendingShop(store=store, flow_id=flow.pk, customers=len(customer_ids), steps=steps)


# ---------------------------------------------------------------------------------------------
# the phases


@dataclass
class Phase:
    name: str
    items: int
    queries: int
    report: shoplib.MeterReport

    @property
    def rate(self) -> float:
        return self.items / self.report.wall if self.report.wall else 0.0


def drain(fn: Any, *, limit: int) -> int:
    handled = 0
    while n := fn(limit=limit):
        handled += n
    return handled


def timed(name: str, fn: Any, *, limit: int, server_pid: int, profile: bool) -> Phase:
    from django.db import connection

    queries = shoplib.QueryCount()
    meter = shoplib.Meter()
    meter.watch("smtp_server", server_pid)
    for pid in shoplib.backend_pids():
        meter.watch("postgres", pid)
    with connection.execute_wrapper(queries), shoplib.profiled(profile):
        items = drain(fn, limit=limit)
    return Phase(name, items, queries.count, meter.stop())


def prebuilt_messages() -> list[tuple[str, str, bytes]]:
    """Every sent message composed as the channel composes it: (from, to, raw bytes)."""
    from aftercare.messaging import sender
    from aftercare.messaging.channels import mime
    from aftercare.messaging.models import Message

    built = []
    senders: dict[str, mime.Mailbox] = {}
    for message in Message.objects.filter(status="sent").order_by("pk").iterator(chunk_size=2000):
        item = sender.outgoing_of(message)
        box = senders.get(item.sender) or senders.setdefault(
            item.sender, mime.mailbox(item.sender, role="sender")
        )
        recipient = mime.mailbox(item.recipient)
        raw = mime.compose(
            item,
            sender=box,
            recipient=recipient,
            reply_to=mime.mailbox(item.reply_to, role="reply-to") if item.reply_to else None,
            date=mime.date_header(),
            eight_bit=True,
        ).raw
        built.append((box.address, recipient.address, raw))
    return built


def ceiling(port: int, server_pid: int, mails: list[tuple[str, str, bytes]]) -> Phase:
    import smtplib

    meter = shoplib.Meter()
    meter.watch("smtp_server", server_pid)
    with smtplib.SMTP("127.0.0.1", port) as client:
        for sender, recipient, raw in mails:
            client.sendmail(sender, [recipient], raw, mail_options=["BODY=8BITMIME"])
    return Phase("ceiling", len(mails), 0, meter.stop())


def send_loop(limit: int, expected: int) -> None:
    """`--send-loop`: the sender phase in a process of its own (`--concurrent`): send until
    `expected` messages have a final outcome (retries with backoff included), then print this
    process's CPU."""
    from django.db import OperationalError

    from aftercare.messaging import sender
    from aftercare.messaging.models import Message

    handled = locked = 0
    cpu0 = time.process_time()
    while True:
        try:
            n = sender.send_due(limit=limit)
        except OperationalError:  # SQLite: the write lock was not free within busy_timeout
            locked += 1  # (the worker's poller logs it and tries again later; so do we)
            time.sleep(0.1)
            continue
        handled += n
        if n == 0:
            done = Message.objects.exclude(status__in=("queued", "sending")).count()
            if done >= expected:
                break
            time.sleep(0.2)
    print(
        json.dumps({"sent": handled, "cpu_s": time.process_time() - cpu0, "locked": locked}),
        flush=True,
    )


def concurrent(args: argparse.Namespace, shop: SendingShop, server_pid: int) -> Phase:
    """Phase 1 here, phase 2 in a second process at the same time."""
    from aftercare.flows import runner

    meter = shoplib.Meter()
    meter.watch("smtp_server", server_pid)
    for pid in shoplib.backend_pids():
        meter.watch("postgres", pid)
    child = subprocess.Popen(
        [sys.executable, __file__, "--send-loop", str(shop.steps), "--limit", str(args.limit)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    from django.db import OperationalError

    rendered = locked = 0
    while True:
        try:
            n = runner.run_due(limit=args.limit)
        except OperationalError:  # SQLite: the sender process held the write lock too long
            locked += 1
            continue
        if not n:
            break
        rendered += n
    if locked:
        print(f"the runner found the database locked {locked} times")
    while child.poll() is None:
        meter.sample()
        for pid in shoplib.backend_pids():
            meter.watch("postgres", pid)
        time.sleep(0.2)
    out = child.stdout.read() if child.stdout else ""
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"cpu_s": 0.0}
    meter.add("sender_process", float(result["cpu_s"]))
    if result.get("locked"):
        print(
            f"the sender process found the database locked {result['locked']} times "
            "(SQLite busy_timeout expired while the runner held the write lock)"
        )
    return Phase("render+send concurrently", rendered, 0, meter.stop())


# ---------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20_000, help="due steps = emails (20000)")
    parser.add_argument("--limit", type=int, default=200, help="run_due/send_due(limit=…)")
    parser.add_argument("--database-url", default=None, help="postgres://… (default: SQLite)")
    parser.add_argument("--concurrent", action="store_true", help="render and send at once")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile each phase")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    parser.add_argument("--send-loop", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.send_loop is not None:  # the child of --concurrent: env and database inherited
        import django

        django.setup()
        send_loop(args.limit, args.send_loop)
        return 0
    server, port = start_ceiling_server()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        db = benchlib.BenchDatabase(database_url=args.database_url, keep=args.keep)
        try:
            return run(args, db, server, port)
        finally:
            db.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(
    args: argparse.Namespace, db: benchlib.BenchDatabase, server: subprocess.Popen[str], port: int
) -> int:
    import smtp_ceiling
    from aftercare.flows import runner
    from aftercare.flows.models import ScheduledStep
    from aftercare.messaging import sender
    from aftercare.messaging.models import Message, SendAttempt

    started = time.perf_counter()
    store = db.reset()
    shop = build_sending_shop(store, steps=args.steps, seed=args.seed)
    print(
        f"{db.vendor}: {shop.steps} due steps of one marketing flow for {shop.customers} "
        f"customers (consent, daytime zones), orders of 4-6 items; set up in "
        f"{time.perf_counter() - started:.0f} s; SMTP server pid {server.pid} on port {port}; "
        f"code: {shoplib.code_state()}",
        flush=True,
    )
    received0 = smtp_ceiling.received_count(port)
    phases: list[Phase] = []
    if args.concurrent:
        phases.append(concurrent(args, shop, server.pid))
    else:
        phases.append(
            timed("render+queue", runner.run_due, limit=args.limit, server_pid=server.pid,
                  profile=args.profile)
        )  # fmt: skip
        phases.append(
            timed("send", sender.send_due, limit=args.limit, server_pid=server.pid,
                  profile=args.profile)
        )  # fmt: skip
    received = smtp_ceiling.received_count(port) - received0
    statuses = Counter(Message.objects.values_list("status", flat=True))
    step_statuses = Counter(ScheduledStep.objects.values_list("status", flat=True))
    locales = Counter(Message.objects.values_list("locale", flat=True))
    attempts = Counter(
        (outcome, answer[:60] if outcome != "sent" else "")
        for outcome, answer in SendAttempt.objects.values_list("outcome", "answer")
    )
    sizes = [
        len(html.encode()) + len(text.encode())
        for html, text in Message.objects.values_list("body_html", "body_text")[:500]
    ]

    mails = prebuilt_messages()
    raw_sizes = [len(raw) for _, _, raw in mails[:500]]
    top = ceiling(port, server.pid, mails)
    received_ceiling = smtp_ceiling.received_count(port) - received0 - received
    del mails

    sent = statuses.get("sent", 0)
    e2e_seconds = sum(p.report.wall for p in phases)
    e2e = sent / e2e_seconds if e2e_seconds else 0.0
    ok = (
        sent == shop.steps == received
        and step_statuses.get("done", 0) == shop.steps
        and received_ceiling == sent
    )
    for phase in phases:
        per_query = (
            f", {phase.queries / max(phase.items, 1):.1f} queries each" if phase.queries else ""
        )
        print(
            f"{phase.name:<25} {phase.rate:7,.0f} /s  ({phase.items} in {phase.report.wall:.1f} s"
            f"{per_query}; {phase.report.own_cpu / max(phase.items, 1) * 1000:.2f} ms CPU per "
            "mail in this process)"
        )
        print(f"{'':27}{phase.report.line()}")
    print(
        f"{'ceiling (bare smtplib loop)':<25} {top.rate:7,.0f} /s  ({top.items} pre-built mails "
        f"in {top.report.wall:.1f} s)\n{'':27}{top.report.line()}"
    )
    print(
        f"end to end: {e2e:,.0f} personalised emails/s = {e2e / max(top.rate, 1e-9):.1%}"
        " of the ceiling"
        + (
            ""
            if args.concurrent
            else f"; sending alone {phases[1].rate / max(top.rate, 1e-9):.1%} of the ceiling"
        )
    )
    print(
        f"messages: {dict(statuses)}; steps: {dict(step_statuses)}; locales {dict(locales)}; "
        f"server received {received} (+ {received_ceiling} from the ceiling loop); "
        f"body HTML+text ~{sum(sizes) / max(len(sizes), 1) / 1024:.1f} KB, "
        f"MIME ~{sum(raw_sizes) / max(len(raw_sizes), 1) / 1024:.1f} KB per mail"
    )
    print(f"send attempts by outcome: {dict(attempts)}")
    if received != sent:
        print(
            f"the server received {received} mails for {sent} sent messages: "
            f"{received - sent:+d} (a mail the server accepted but whose outcome was not"
            " recorded goes out again)"
        )
    target = "MET" if e2e >= 1000 else "MISSED"
    print(f"target >= 1,000 emails/s end to end: {target}; consistency: {'OK' if ok else 'FAILED'}")
    if args.profile:
        print("(profiled run: cProfile slows both phases, the rates above are not the figures)")
    if args.json:
        result = {
            "database": db.vendor,
            "steps": shop.steps,
            "phases": {
                p.name: {"items": p.items, "per_s": round(p.rate, 1), "queries": p.queries,
                         **p.report.as_dict()}
                for p in phases
            },
            "ceiling_per_s": round(top.rate, 1),
            "e2e_per_s": round(e2e, 1),
            "ratio": round(e2e / max(top.rate, 1e-9), 4),
            "ok": ok,
            "code": shoplib.code_state(),
        }  # fmt: skip
        print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
