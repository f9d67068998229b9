"""Benchmark: acknowledging WooCommerce webhook deliveries under sustained load.

    .venv/bin/python bench/webhook_load.py --duration 5                 # smoke: a few seconds
    .venv/bin/python bench/webhook_load.py --duration 60 --rate 500     # the issue's target
    .venv/bin/python bench/webhook_load.py --duration 60                # unpaced: max rate
    .venv/bin/python bench/webhook_load.py --database-url \\
        postgres://postgres@127.0.0.1:5432/aftercare_bench_webhooks

For each scenario (app x connection mode) it makes a fresh database with one store, starts
gunicorn on 127.0.0.1 with the given options, and runs `wrk` (a C load generator, in its own
process) with bench/wrk_deliveries.lua, which replays pre-built, distinct, correctly signed real
`order.updated` deliveries (../shared/data/woocommerce captures with id, email, status and dates
varied). Connection modes: `close` sends `Connection: close` like WooCommerce (one TCP
connection per delivery), `keepalive` reuses connections. Apps: `webhook` (the real receiver,
aftercare.wsgi), `django-empty` (same Django and middleware, a view answering an empty 200),
`wsgi-empty` (a bare WSGI app answering an empty 200) — see bench/baseline_app.py.

Reported per scenario: deliveries/s answered 200 within the window, wrk's latency percentiles,
CPU used by the server, by wrk and by everything else on the machine; for `webhook` also the
count check (answered 200 == WebhookDelivery rows == rows processed or ignored after draining
the inbox with `processing.drain_inbox`) and the drain rate. Target (issue): >= 500
deliveries/s with p99 < 100 ms on SQLite on a 2-core machine."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchlib

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "wrk_deliveries.lua"
APPS = {
    "webhook": "aftercare.wsgi:application",
    "django-empty": "baseline_app:django_empty()",
    "wsgi-empty": "baseline_app:wsgi_empty",
}
MODES = ("close", "keepalive")
GRACE_SECONDS = 3  # wrk runs this long after the last request is sent, for those in flight
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    parser.add_argument(
        "--rate", type=int, default=0, help="deliveries/s to send (0 = as fast as answered)"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--modes", default="close,keepalive", help="close,keepalive (Connection header)"
    )
    parser.add_argument(
        "--apps", default="webhook,django-empty,wsgi-empty", help=f"of {','.join(APPS)}"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn --workers (2)")
    parser.add_argument(
        "--worker-class", default="gthread", help="gunicorn --worker-class (gthread)"
    )
    parser.add_argument("--threads", type=int, default=4, help="gunicorn --threads (4)")
    parser.add_argument(
        "--access-log", action="store_true", help="gunicorn --access-logfile (as `serve` does)"
    )
    parser.add_argument("--gunicorn-arg", action="append", default=[], help="extra, repeatable")
    parser.add_argument(
        "--with-worker",
        action="store_true",
        help="run `aftercare worker` during the load, as `aftercare serve` does (webhook app)",
    )
    parser.add_argument("--database-url", default=None, help="postgres://… (default: SQLite)")
    parser.add_argument(
        "--bodies", type=int, default=0, help="distinct deliveries to build (default: enough)"
    )
    parser.add_argument("--drain-limit", type=int, default=500, help="drain_inbox(limit=…)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the last database and files")
    parser.add_argument("--json-out", type=Path, default=None, help="append results as JSON")
    args = parser.parse_args()
    args.modes = [m for m in args.modes.split(",") if m]
    args.apps = [a for a in args.apps.split(",") if a]
    for mode in args.modes:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}")
    for app in args.apps:
        if app not in APPS:
            parser.error(f"unknown app {app!r}")
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be 1..600 seconds")
    return args


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "wrk is not installed. On Debian/Ubuntu: apt-get update && apt-get install -y wrk"
        )
    return wrk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc


def _proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def _machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU-seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU-seconds of each process named `postgres` (the local server's backends), by pid."""
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
                fields = text.rsplit(")", 1)[1].split()
                found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU-seconds used between two samples by the processes alive at the second one (a process
    that exited in between is not counted: its time shows up as "other")."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def server_cpu_seconds(master: int) -> dict[int, float]:
    return {pid: _proc_cpu_seconds(pid) for pid in [master, *_children(master)]}


# ---------------------------------------------------------------------------------------------
# requests


def build_requests(
    *, count: int, port: int, mode: str, wrk_threads: int, prefix: Path, seed: int
) -> int:
    """Write `count` distinct signed deliveries, split over `wrk_threads` files. Returns bytes."""
    maker = benchlib.OrderDeliveries.from_shared_data()
    history = benchlib.order_history(
        orders=count, update_share=0.3, repeat_share=0.3, first_order_id=100_000, seed=seed
    )[:count]
    files = [open(f"{prefix}.{i}", "wb") for i in range(wrk_threads)]  # noqa: SIM115
    total = 0
    try:
        for index, (_, version) in enumerate(history):
            body, headers = maker.delivery(version, topic="order.updated")
            raw = _raw_request(body, headers, port=port, mode=mode)
            out = files[index % wrk_threads]
            out.write(f"{len(raw)}\n".encode())
            out.write(raw)
            total += len(body)
    finally:
        for out in files:
            out.close()
    return total


def _raw_request(body: bytes, headers: dict[str, str], *, port: int, mode: str) -> bytes:
    lines = [
        f"POST /webhooks/woocommerce/{benchlib.STORE_SLUG}/ HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
        f"Content-Length: {len(body)}",
    ]
    if mode == "close":
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def warm_up(port: int, count: int, seed: int) -> int:
    """Send `count` deliveries one by one (each worker imports lazily on its first requests).
    Returns how many got 200; they are stored too and counted in the check."""
    maker = benchlib.OrderDeliveries.from_shared_data()
    history = benchlib.order_history(
        orders=count, update_share=0, repeat_share=0, first_order_id=10, seed=seed
    )
    ok = 0
    for _, version in history[:count]:
        body, headers = maker.delivery(version, topic="order.updated")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(
                "POST", f"/webhooks/woocommerce/{benchlib.STORE_SLUG}/", body=body, headers=headers
            )
            response = conn.getresponse()
            response.read()
            ok += response.status == 200
        finally:
            conn.close()
    return ok


# ---------------------------------------------------------------------------------------------
# one scenario


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(args: argparse.Namespace, app: str, port: int, workdir: Path) -> Server:
    log = workdir / f"gunicorn-{app}.log"
    command = [
        sys.executable,
        *("-m", "gunicorn", APPS[app]),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
        *("--worker-class", args.worker_class, "--threads", str(args.threads)),
        *("--pythonpath", str(BENCH_DIR), "--no-control-socket", "--log-level", "warning"),
        *(["--access-logfile", str(workdir / "access.log")] if args.access_log else []),
        *args.gunicorn_arg,
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    server = Server(process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            if len(_children(process.pid)) >= args.workers:
                time.sleep(0.5)  # let every worker finish loading the app
                return server
        time.sleep(0.1)
    server.stop()
    raise SystemExit(f"gunicorn did not start in 30 s: {log.read_text()[-2000:]}")


def run_wrk(
    args: argparse.Namespace, wrk: str, port: int, prefix: Path, rate: int
) -> tuple[dict[str, Any], float, str]:
    """Run wrk; returns (its AFTERCARE_WRK summary, its CPU-seconds, its full output)."""
    command = [
        wrk,
        *("-t", str(args.wrk_threads), "-c", str(args.connections)),
        *("-d", f"{args.duration + GRACE_SECONDS}s", "--timeout", "10s", "--latency"),
        *("-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}/"),
        *("--", str(prefix), str(args.wrk_threads), str(args.duration), str(rate)),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{output}")
    line = next((ln for ln in output.splitlines() if ln.startswith("AFTERCARE_WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    return json.loads(line.split(" ", 1)[1]), usage.ru_utime + usage.ru_stime, output


def drain_all(limit: int) -> tuple[int, float]:
    from aftercare.ingest.webhooks import processing

    handled, started = 0, time.perf_counter()
    total = benchlib.delivery_counts().get("total", 0)
    for _ in range(total // max(1, limit) + 100):  # bounded: the inbox only shrinks
        n = processing.drain_inbox(limit=limit)
        if n == 0:
            break
        handled += n
    return handled, time.perf_counter() - started


def scenario(
    args: argparse.Namespace,
    db: benchlib.BenchDatabase,
    wrk: str,
    *,
    app: str,
    mode: str,
    bodies: int,
) -> dict[str, Any]:
    db.reset()
    workdir = db.tmp / f"{app}-{mode}"
    workdir.mkdir(exist_ok=True)
    port = args.port or free_port()
    prefix = workdir / "requests"
    build_requests(
        count=bodies, port=port, mode=mode, wrk_threads=args.wrk_threads, prefix=prefix, seed=11
    )
    from django.db import connections

    connections.close_all()  # the server's workers are the only writers during the run
    server = start_server(args, app, port, workdir)
    worker: subprocess.Popen[bytes] | None = None
    try:
        warm = warm_up(port, 20, seed=3) if app == "webhook" else 0
        if args.with_worker and app == "webhook":
            with open(workdir / "worker.log", "wb") as out:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "aftercare.cli", "worker"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                )
            time.sleep(2)  # let it import and start polling
        cpu_before = server_cpu_seconds(server.process.pid)
        worker_before = _proc_cpu_seconds(worker.pid) if worker else 0.0
        busy_before, total_before = _machine_busy_seconds()
        pg_before = postgres_cpu_seconds() if db.vendor == "postgresql" else {}
        load_before = os.getloadavg()[0]
        summary, wrk_cpu, output = run_wrk(args, wrk, port, prefix, args.rate)
        busy_after, total_after = _machine_busy_seconds()
        pg_cpu = cpu_delta(pg_before, postgres_cpu_seconds() if pg_before else {})
        cpu_after = server_cpu_seconds(server.process.pid)
        worker_cpu = _proc_cpu_seconds(worker.pid) - worker_before if worker else 0.0
    finally:
        server.stop()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    wall = args.duration + GRACE_SECONDS
    server_cpu = cpu_delta(cpu_before, cpu_after)
    machine_busy = busy_after - busy_before
    result: dict[str, Any] = {
        "app": app,
        "mode": mode,
        "database": db.vendor,
        "rate_target": args.rate,
        "duration_s": args.duration,
        "connections": args.connections,
        "server": (
            f"gunicorn -k {args.worker_class} -w {args.workers} --threads {args.threads}"
            + (" +access-log" if args.access_log else "")
            + (" +aftercare worker" if args.with_worker else "")
            + "".join(f" {a}" for a in args.gunicorn_arg)
        ),
        "answered_200": summary["ok"],
        "answered_other": summary["other"],
        "per_s": round(summary["ok"] / args.duration, 1),
        "p50_ms": round(summary["latency_p50_us"] / 1000, 2),
        "p90_ms": round(summary["latency_p90_us"] / 1000, 2),
        "p99_ms": round(summary["latency_p99_us"] / 1000, 2),
        "p99_9_ms": round(summary["latency_p99_9_us"] / 1000, 2),
        "max_ms": round(summary["latency_max_us"] / 1000, 2),
        "errors": {k[7:]: v for k, v in summary.items() if k.startswith("errors_") and v},
        "wrapped": summary["wrapped"],
        "late_requests": summary["late"],
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, summary["completed"]), 2),
        "wrk_cpu_s": round(wrk_cpu, 1),
        "postgres_cpu_s": round(pg_cpu, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        # everything else: other people's processes, the kernel's softirq work
        "other_cpu_s": round(machine_busy - server_cpu - wrk_cpu - pg_cpu - worker_cpu, 1),
        "machine_busy_pct": round(100 * machine_busy / max(1e-9, total_after - total_before), 1),
        "cores": os.cpu_count(),
        "loadavg_before": round(load_before, 2),
        "wall_s": wall,
    }
    if app == "webhook":
        stored = benchlib.delivery_counts()
        result["processed_during_load"] = stored.get("processed", 0) + stored.get("ignored", 0)
        handled, seconds = drain_all(args.drain_limit)
        after = benchlib.delivery_counts()
        finished = after.get("processed", 0) + after.get("ignored", 0)
        expected = summary["ok"] + warm
        result.update(
            {
                "warmup_200": warm,
                "stored_rows": stored["total"],
                "processed_rows": after.get("processed", 0),
                "ignored_rows": after.get("ignored", 0),
                "unfinished_rows": after["total"] - finished,
                "drained_per_s": round(handled / seconds, 1) if handled and seconds else None,
                "counts_ok": (
                    expected == stored["total"] == finished
                    and handled + result["processed_during_load"] == finished
                ),
            }
        )
    if args.keep:
        (workdir / "wrk.txt").write_text(output)
    return result


def print_result(r: dict[str, Any]) -> None:
    head = f"{r['app']:>12} {r['mode']:>9} {r['database']:>10}"
    print(
        f"{head}: {r['per_s']:7.1f}/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
        f"p99.9 {r['p99_9_ms']:7.2f} ms  max {r['max_ms']:7.1f} ms  | CPU-s server "
        f"{r['server_cpu_s']} ({r['server_cpu_ms_per_request']} ms/req), wrk {r['wrk_cpu_s']}, "
        + (f"postgres {r['postgres_cpu_s']}, " if r["database"] == "postgresql" else "")
        + (f"worker {r['worker_cpu_s']}, " if r["worker_cpu_s"] else "")
        + f"other {r['other_cpu_s']} of {r['cores'] * r['wall_s']}"
    )
    errors = dict(r["errors"])
    if r["mode"] == "keepalive" and errors.get("read", 0) <= r["connections"]:
        # gunicorn closes keep-alive connections idle for 2 s: after the window, every one of
        # wrk's idle connections sees that as a read error. Not a failed delivery.
        errors.pop("read", None)
    if errors or r["answered_other"] or r["wrapped"] or r["late_requests"]:
        print(
            f"{'':>35}  errors {errors}, non-200 {r['answered_other']}, "
            f"bodies wrapped {r['wrapped']}x, sent after the window {r['late_requests']}"
        )
    if r["app"] == "webhook":
        verdict = "OK" if r["counts_ok"] else "MISMATCH"
        print(
            f"{'':>35}  count check {verdict}: answered 200 {r['answered_200']} "
            f"(+{r['warmup_200']} warm-up) / stored {r['stored_rows']} / processed "
            f"{r['processed_rows']} + ignored {r['ignored_rows']} (unfinished "
            f"{r['unfinished_rows']}); drained at {r['drained_per_s']}/s"
            + (
                f"; the worker applied {r['processed_during_load']} during the load"
                if r["processed_during_load"]
                else ""
            )
        )


def main() -> int:
    args = parse_args()
    wrk = require_wrk()
    db = benchlib.BenchDatabase(database_url=args.database_url, keep=args.keep)
    expected_rate = args.rate or 2500
    bodies = args.bodies or min(80_000, int(expected_rate * args.duration * 1.2) + 1000)
    print(
        f"{db.vendor}; {os.cpu_count()} cores; gunicorn -k {args.worker_class} -w "
        f"{args.workers} --threads {args.threads}; wrk -t{args.wrk_threads} "
        f"-c{args.connections}; {args.duration}s per scenario; rate "
        f"{args.rate or 'unpaced'}; {bodies} distinct deliveries per scenario",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    try:
        for mode in args.modes:
            for app in args.apps:
                result = scenario(args, db, wrk, app=app, mode=mode, bodies=bodies)
                results.append(result)
                print_result(result)
                sys.stdout.flush()
    finally:
        db.close()
    by_key = {(r["app"], r["mode"]): r for r in results}
    for mode in args.modes:
        hook = by_key.get(("webhook", mode))
        if hook is None:
            continue
        for base in ("django-empty", "wsgi-empty"):
            other = by_key.get((base, mode))
            if other and other["per_s"]:
                cpu_ratio = hook["server_cpu_ms_per_request"] / max(
                    0.01, other["server_cpu_ms_per_request"]
                )
                print(
                    f"{mode}: webhook / {base}: throughput {hook['per_s'] / other['per_s']:.2f}, "
                    f"p99 {hook['p99_ms'] / max(0.01, other['p99_ms']):.2f}x, "
                    f"server CPU per request {cpu_ratio:.2f}x"
                )
        if not args.rate:
            print(
                f"{mode}: unpaced = the most {args.connections} connections get answered; its "
                "latency is queueing (connections / rate): judge the target with --rate 500"
            )
            continue
        met = hook["per_s"] >= 500 and hook["p99_ms"] < 100 and hook["counts_ok"]
        print(f"{mode}: target (>= 500/s, p99 < 100 ms, all counted): {'MET' if met else 'MISSED'}")
    if args.json_out:
        with args.json_out.open("a") as out:
            for result in results:
                out.write(json.dumps(result) + "\n")
    return 0 if all(r.get("counts_ok", True) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
