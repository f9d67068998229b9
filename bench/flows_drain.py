"""Benchmark: a million flow steps due at once, drained by two `aftercare worker` processes on
PostgreSQL while one of them is killed (`kill -9`) every few seconds; afterwards, every mail is
counted at the SMTP server.

    .venv/bin/python bench/flows_drain.py \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_drain
    .venv/bin/python bench/flows_drain.py --steps 20000 \\
        --database-url postgres://postgres@127.0.0.1:5432/aftercare_bench_drain   # smoke
    … --kill-every 0                        # no kills: the drain rate alone

PostgreSQL only (the database named by `--database-url` is created and dropped). The shop is
email_sending.py's (store in en/ko/ja, 60 products, customers with one completed order of 4-6
items; `--customers`, default 2,000, shared round-robin by the steps — every mail computes
recommendations, and with many distinct orders their best-sellers query, ~0.7 s per cache miss
on PostgreSQL at 20,000 orders, would be the whole benchmark) with the **thank-you preset**
enabled (transactional: no consent, cap or quiet hours stand between a step and its
mail, so every step must become exactly one sent mail). `--steps` FlowRuns and their one
ScheduledStep each, due now, are written with COPY (core.bulk_rows) — not through the matcher.

Then an SMTP server in its own process (this script with `--serve`: aiosmtpd, answers 250,
counts every mail by the message id in its `Message-ID` header, `<aftercare.<pk>.…@…>`), and
`--workers` (2) `aftercare worker` processes with DATABASE_URL and EMAIL_URL set, as an operator
runs them. Every `--kill-every` seconds (5, jittered ±40 %) a random worker gets SIGKILL and is
started again at once — while steps are still pending; after that the script waits until every
step is done and every message sent, which includes waiting for the leases the last killed
workers held (5 min for steps, 2 min for messages). Progress is sampled every 5 s.

`--action tag` drains steps of an add_tag flow instead (no mail): what the worker loop allows
when a step costs little. The workers' own log lines are summarised (steps per pass, passes per
second).

Printed: steps/s (whole drain; and the steady rate between 10 % and 90 % done), the time to 50
/ 90 / 99 / 100 %, kills; checks: every step done, `Message` rows == steps, every message sent,
the mails the server received per message — none missing, duplicates counted and compared with
the kills (the promise: at most one duplicate per kill); CPU of the workers (wait4 of each,
killed ones included), of this database's PostgreSQL backends, of the SMTP server, of this
monitoring process, and of everything else on the machine. Target (issue): >= 2,000 steps/s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchlib
import email_sending
import flows_matching as shoplib

_MESSAGE_ID = re.compile(rb"(?:^|\n)Message-ID: <aftercare\.(\d+)\.", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# the counting SMTP server (its own process)


def serve(port: int) -> None:
    """`--serve PORT`: aiosmtpd that counts mails per message id. Commands on stdin: `count`
    (prints the number of mails), `dump PATH` (writes {message id: mails} as JSON)."""
    from aiosmtpd.controller import Controller

    counts: Counter[int] = Counter()
    unknown = [0]

    class Recorder:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
            content = envelope.content  # bytes (decode_data is off)
            found = _MESSAGE_ID.search(content)
            if found is None:
                unknown[0] += 1
            else:
                counts[int(found.group(1))] += 1
            return "250 2.0.0 Ok: queued"

    controller = Controller(Recorder(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "count":
                print(sum(counts.values()) + unknown[0], flush=True)
            elif command == "dump":
                Path(arg).write_text(
                    json.dumps({"unknown": unknown[0], "counts": dict(counts)}), encoding="utf-8"
                )
                print("ok", flush=True)
            elif command == "quit":
                break
    finally:
        controller.stop()


class CountingServer:
    def __init__(self) -> None:
        self.port = email_sending.free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        assert self._ask("") == "ready"

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self._lock:
            if command:
                self.process.stdin.write(command + "\n")
                self.process.stdin.flush()
            return self.process.stdout.readline().strip()

    def count(self) -> int:
        return int(self._ask("count"))

    def dump(self, path: Path) -> dict[str, Any]:
        assert self._ask(f"dump {path}") == "ok"
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._ask("quit")
            self.process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# the workers


@dataclass
class Workers:
    count: int
    log_dir: Path
    meter: shoplib.Meter
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0
    cpu: float = 0.0  # of the workers that ended (wait4)

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.count)]

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.log_dir / f"worker-{self.started}.log").open("wb")
        aftercare = Path(sys.executable).parent / "aftercare"
        process = subprocess.Popen(
            [str(aftercare), "worker"], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
        )
        log.close()
        return process

    def _reap(self, process: subprocess.Popen[bytes], *, timeout: float = 0.0) -> None:
        """wait4 the process (its CPU, killed or not); SIGKILL it after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, _, usage = os.wait4(process.pid, os.WNOHANG if timeout else 0)
            except ChildProcessError:
                return  # already reaped
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(process.pid, signal.SIGKILL)
                timeout = 0.0
            time.sleep(0.1)
        process.returncode = -1  # reaped here (wait4), so Popen must not wait for it again
        self.cpu += usage.ru_utime + usage.ru_stime

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.processes))
        victim = self.processes[index]
        os.kill(victim.pid, signal.SIGKILL)
        self._reap(victim)
        self.processes[index] = self._spawn()  # at once

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise SystemExit(f"worker {process.pid} exited by itself: see {self.log_dir}")

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)  # finish the current pass, then exit
        for process in self.processes:
            self._reap(process, timeout=60)


# ---------------------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float
    steps_done: int
    steps_pending: int
    steps_running: int
    sent: int
    unsent: int  # queued or sending


def sample(flow_id: int, started: float) -> Sample:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM flows_scheduledstep WHERE flow_id = %s GROUP BY status",
            [flow_id],
        )
        steps = dict(cursor.fetchall())
        cursor.execute(
            "SELECT status, count(*) FROM messaging_message WHERE flow_id = %s GROUP BY status",
            [flow_id],
        )
        messages = dict(cursor.fetchall())
    return Sample(
        at=time.perf_counter() - started,
        steps_done=steps.get("done", 0) + steps.get("skipped", 0) + steps.get("failed", 0),
        steps_pending=steps.get("pending", 0),
        steps_running=steps.get("running", 0),
        sent=messages.get("sent", 0),
        unsent=messages.get("queued", 0) + messages.get("sending", 0),
    )


def time_to(samples: list[Sample], share: float, total: int, mails: int) -> float | None:
    for s in samples:
        if s.steps_done >= share * total and s.sent >= share * mails:
            return s.at
    return None


_PASS = re.compile(r"^(\S+ \S+) .*flows\.run_due_steps: (\d+)")


def worker_passes(log_dir: Path) -> str:
    """What the workers' own lines say (`aftercare worker` prints one per busy pass): passes
    that ran due steps, steps per pass, and passes per second of each process's busy time."""
    per_pass: list[int] = []
    busy_seconds = 0
    for path in sorted(log_dir.glob("worker-*.log")):
        stamps = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            found = _PASS.match(line)
            if found:
                stamps.append(found.group(1))
                per_pass.append(int(found.group(2)))
        busy_seconds += len(set(stamps))  # distinct seconds with a pass that ran steps
    if not per_pass:
        return "worker logs: no pass ran due steps"
    full = sum(1 for n in per_pass if n >= max(per_pass))
    return (
        f"worker logs: {len(per_pass)} passes ran due steps, {sum(per_pass)} steps, at most "
        f"{max(per_pass)} per pass ({full} full passes); {len(per_pass) / max(busy_seconds, 1):.2f}"
        " passes per busy second of a worker"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000, help="due steps (1000000)")
    parser.add_argument("--customers", type=int, default=2_000, help="customers/orders (2000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--action",
        choices=("email", "tag"),
        default="email",
        help="email: the thank-you preset (default); tag: an add_tag step, no mail (what the "
        "worker loop allows when a step costs little)",
    )
    parser.add_argument("--kill-every", type=float, default=5.0, help="seconds; 0 = no kills")
    parser.add_argument("--max-minutes", type=float, default=240.0, help="give up after this")
    parser.add_argument("--database-url", default=None, help="postgres://… (required)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if not (args.database_url or "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("flows_drain.py runs on PostgreSQL only: --database-url postgres://…")
    server = CountingServer()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{server.port}"
    os.environ["AFTERCARE_LOG_LEVEL"] = "WARNING"
    try:
        db = benchlib.BenchDatabase(database_url=args.database_url, keep=args.keep)
        try:
            return run(args, db, server)
        finally:
            db.close()
    finally:
        server.stop()


TAG_FLOW = {
    "name": "Tag buyers (bench)",
    "category": "transactional",
    "trigger": {"type": "order.paid"},
    "steps": [{"key": "tag", "type": "action", "action": "add_tag", "params": {"tag": "bench"}}],
}


def build(store: Any, *, steps: int, customers: int, seed: int, action: str) -> tuple[int, str]:
    """The shop, the flow (thank-you preset, or an add_tag flow) and `steps` due steps.
    Returns (flow id, step key)."""
    from aftercare.core import clock
    from aftercare.flows import services

    now = clock.now()
    shoplib.configure_store(store)
    if action == "tag":
        flow, step_key = services.create_flow(store=store, data=TAG_FLOW, status="active"), "tag"
    else:
        flow, step_key = services.enable_preset(store=store, name="thank-you"), "thank"
    customer_ids, order_ids, _ = email_sending.build_customers_and_orders(
        store, count=min(customers, steps), rng=random.Random(seed), now=now
    )
    email_sending.insert_due_steps(
        store=store,
        flow_id=flow.pk,
        step_key=step_key,
        customer_ids=customer_ids,
        order_ids=order_ids,
        count=steps,
        now=now,
    )
    shoplib.analyze()
    return int(flow.pk), step_key


def run(args: argparse.Namespace, db: benchlib.BenchDatabase, server: CountingServer) -> int:
    from django.db import connection

    from aftercare.messaging.models import Message

    begun = time.perf_counter()
    store = db.reset()
    flow_id, step_key = build(
        store, steps=args.steps, customers=args.customers, seed=args.seed, action=args.action
    )
    mails = args.steps if args.action == "email" else 0
    print(
        f"{db.vendor}: {args.steps} steps ({step_key!r}) of flow {flow_id} due now "
        f"({min(args.customers, args.steps)} customers); set up in "
        f"{time.perf_counter() - begun:.0f} s; SMTP server on port {server.port}; "
        f"code: {shoplib.code_state()}",
        flush=True,
    )
    connection.close()  # the monitor's own connection comes back for each sample

    rng = random.Random(args.seed)
    meter = shoplib.Meter()
    meter.watch("smtp_server", server.process.pid)
    workers = Workers(count=args.workers, log_dir=db.tmp, meter=meter)
    started = time.perf_counter()
    workers.start()
    samples: list[Sample] = []
    kills = 0
    next_kill = started + args.kill_every * rng.uniform(0.6, 1.4) if args.kill_every else None
    next_sample = started
    deadline = started + args.max_minutes * 60
    last_print = 0.0
    try:
        while True:
            now = time.perf_counter()
            if now >= next_sample:
                current = sample(flow_id, started)
                samples.append(current)
                for pid in shoplib.backend_pids():
                    meter.watch("postgres", pid)
                meter.sample()
                next_sample = now + 5
                if current.at - last_print >= 60:
                    last_print = current.at
                    print(
                        f"  {current.at:6.0f} s: steps done {current.steps_done}, pending "
                        f"{current.steps_pending}, running {current.steps_running}; messages sent "
                        f"{current.sent}, unsent {current.unsent}; kills {kills}; load "
                        f"{os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
                if current.steps_done >= args.steps and current.unsent == 0:
                    break
                if next_kill is not None and current.steps_pending == 0:
                    next_kill = None  # nothing left to claim: stop killing, let leases expire
            if next_kill is not None and now >= next_kill:
                workers.kill_one(rng)
                kills += 1
                next_kill = now + args.kill_every * rng.uniform(0.6, 1.4)
            workers.check_alive()
            if now > deadline:
                print(f"gave up after {args.max_minutes} minutes", flush=True)
                break
            time.sleep(0.2)
    finally:
        workers.stop()
    meter.add("workers", workers.cpu)
    report = meter.stop()
    elapsed = samples[-1].at if samples else time.perf_counter() - started

    received = server.count()
    dump = server.dump(db.tmp / "received.json")
    counts = {int(k): v for k, v in dump["counts"].items()}
    messages = dict(Message.objects.filter(flow_id=flow_id).values_list("pk", "status").iterator())
    statuses = Counter(messages.values())
    missing = [pk for pk, status in messages.items() if counts.get(pk, 0) == 0]
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    duplicated_messages = sum(1 for n in counts.values() if n > 1)
    max_copies = max(counts.values(), default=0)
    strangers = sum(n for pk, n in counts.items() if pk not in messages) + dump["unknown"]
    last = samples[-1] if samples else sample(flow_id, started)
    t10, t90 = (time_to(samples, share, args.steps, mails) for share in (0.1, 0.9))
    steady = 0.0
    if t10 is not None and t90 is not None and t90 > t10:
        steady = 0.8 * args.steps / (t90 - t10)
    ok = (
        last.steps_done == args.steps
        and len(messages) == mails
        and statuses.get("sent", 0) == mails
        and not missing
        and strangers == 0
        and duplicates <= kills
    )
    rate = last.steps_done / elapsed if elapsed else 0.0
    marks = {
        f"{int(share * 100)}%": time_to(samples, share, args.steps, mails)
        for share in (0.5, 0.9, 0.99, 1.0)
    }
    print(
        f"drained {last.steps_done} of {args.steps} steps in {elapsed:.0f} s = {rate:,.0f} "
        f"steps/s overall; steady (10 %→90 %) {steady:,.0f} steps/s; time to "
        + ", ".join(f"{k} {v:.0f} s" if v is not None else f"{k} -" for k, v in marks.items())
    )
    print(
        f"{kills} kills ({workers.started} worker processes started); messages {len(messages)} "
        f"rows, {dict(statuses)}; server received {received} mails: {len(missing)} messages "
        f"never arrived, {duplicates} duplicate mails ({duplicated_messages} messages, at most "
        f"{max_copies} copies), {strangers} unknown; duplicates <= kills: "
        f"{'yes' if duplicates <= kills else 'NO'}"
    )
    print(worker_passes(db.tmp))
    print(report.line())
    target = "MET" if rate >= 2000 and last.steps_done == args.steps else "MISSED"
    print(f"target >= 2,000 steps/s: {target}; consistency: {'OK' if ok else 'FAILED'}")
    if args.json:
        result = {
            "steps": args.steps, "seconds": round(elapsed, 1), "steps_per_s": round(rate, 1),
            "steady_steps_per_s": round(steady, 1), "marks_s": marks, "kills": kills,
            "messages": len(messages), "statuses": dict(statuses), "received": received,
            "missing": len(missing), "duplicates": duplicates, "strangers": strangers,
            **report.as_dict(), "ok": ok, "code": shoplib.code_state(),
        }  # fmt: skip
        print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
