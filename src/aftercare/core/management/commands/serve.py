"""`aftercare serve`: the web server and one background worker, in one terminal.

    aftercare serve                              # http://127.0.0.1:8000/
    aftercare serve --host 0.0.0.0 --port 8080
    AFTERCARE_WEB_WORKERS=4 AFTERCARE_WEB_THREADS=8 aftercare serve

Both are child processes: gunicorn serving `aftercare.wsgi:application`, and `aftercare worker`.
SIGINT/SIGTERM are forwarded to both (a second one kills them); when either exits on its own,
the other is stopped and serve exits with an error. To scale out, run more `aftercare worker`
processes (any machine, same database) beside it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aftercare import env

STOP_TIMEOUT_SECONDS = 30


class Command(BaseCommand):
    help = "Run the web server and a background worker until Ctrl+C."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to bind (8000)")

    def handle(self, *, host: str, port: int, **options: Any) -> None:
        web_workers = env.integer("AFTERCARE_WEB_WORKERS", default=2)
        web_threads = env.integer("AFTERCARE_WEB_THREADS", default=4)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        commands = {
            "web": [
                sys.executable,
                *("-m", "gunicorn", "aftercare.wsgi:application"),
                *("--bind", address, "--workers", str(web_workers)),
                *("--threads", str(web_threads), "--access-logfile", "-"),
            ],
            "worker": [sys.executable, "-m", "aftercare.cli", "worker"],
        }
        # Own process groups: a terminal Ctrl+C reaches only us, and we forward it exactly once
        # (the worker reads a second SIGINT as "stop now").
        children = {
            name: subprocess.Popen(argv, process_group=0)  # noqa: S603 - our own argv
            for name, argv in commands.items()
        }
        signals_seen: list[int] = []

        def forward(signum: int, frame: FrameType | None) -> None:
            signals_seen.append(signum)
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signum if len(signals_seen) == 1 else signal.SIGKILL)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, forward)
        self.stdout.write(
            f"Aftercare is running at http://{address}/ "
            f"(web: {web_workers} processes x {web_threads} threads; 1 job worker). "
            "Ctrl+C to stop."
        )
        self.stdout.flush()
        first, code = _wait_for_first_exit(children)
        if not signals_seen:  # it died on its own: stop the other gracefully
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if not signals_seen:
            raise CommandError(f"the {first} process exited with code {code}; stopped the other")
        self.stdout.write("stopped")


def _wait_for_first_exit(children: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int]:
    while True:
        for name, child in children.items():
            code = child.poll()
            if code is not None:
                return name, code
        time.sleep(0.2)
