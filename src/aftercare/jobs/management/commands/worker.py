"""`aftercare worker`: run background jobs, pollers and periodic schedules.

    aftercare worker            # until SIGTERM/SIGINT; run one per CPU, on any number of machines
    aftercare worker --drain    # everything due now, then exit (cron, tests, after an import)
    aftercare worker --once     # one pass: due pollers + one batch of jobs

A thin adapter over `aftercare.jobs.worker.Worker`; it prints one line per busy pass.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aftercare.core import clock
from aftercare.jobs import registry
from aftercare.jobs.worker import TickReport, Worker


class Command(BaseCommand):
    help = "Run background jobs, pollers and periodic schedules until SIGTERM/SIGINT."

    def add_arguments(self, parser: ArgumentParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--drain", action="store_true", help="run everything due now, then exit")
        mode.add_argument(
            "--once", action="store_true", help="one pass (due pollers, one batch), then exit"
        )
        parser.add_argument(
            "--batch-size", type=int, default=10, help="jobs claimed at a time (default 10)"
        )
        parser.add_argument(
            "--idle", type=float, default=0.5, help="seconds to wait when idle (default 0.5)"
        )

    def handle(
        self, *, drain: bool, once: bool, batch_size: int, idle: float, **options: Any
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        registry.autodiscover()  # import every app's handlers now: fail at start, not mid-run
        worker = Worker(batch_size=batch_size, idle_seconds=idle, on_tick=self._print_tick)
        try:
            with worker.signals_handled():
                if drain:
                    total = worker.drain()
                    self.stdout.write(f"drained: {total.summary()}")
                elif once:
                    worker.run(once=True)
                else:
                    self.stdout.write(f"worker {worker.worker_id} started; Ctrl+C to stop")
                    worker.run()
                    self.stdout.write(f"worker {worker.worker_id} stopped")
        except KeyboardInterrupt:
            # A second signal: the running job is abandoned; its lease expiry recovers it.
            self.stderr.write(f"worker {worker.worker_id} interrupted")
            raise SystemExit(130) from None

    def _print_tick(self, report: TickReport) -> None:
        self.stdout.write(f"{clock.now():%Y-%m-%d %H:%M:%S} {report.summary()}")
