"""The worker loop: due jobs, pollers and periodic schedules, until told to stop.

    # in an AppConfig.ready():
    from aftercare.jobs import worker
    worker.register_poller("ingest.inbox", drain_inbox_batch, every_seconds=1)
    worker.register_periodic("ingest.reconcile", reconcile_stores, every_seconds=15 * 60)

    # what `aftercare worker` does:
    Worker().run()      # loop until SIGTERM/SIGINT (finishes the current job first)
    Worker().drain()    # everything due now, then return

Run as many workers as you like, on as many machines: jobs are claimed under a lease (see
`services.claim_due`), so each runs in one worker at a time.
- A *poller* (`fn() -> int`, items handled) runs in every worker process every `every_seconds`;
  it must claim its own work safely (e.g. the webhook inbox drainer takes rows by a conditional
  UPDATE), and should do one bounded batch per call.
- A *periodic* schedule (`fn()`) runs at most once per interval across all workers: each worker
  tries to enqueue a "jobs.periodic" job keyed `periodic:<name>:<slot>` (slot = floor(epoch /
  every_seconds)) with `services.enqueue_once`, so only the first one per slot is written and
  it runs like any job (lease, attempts, up to 3 tries).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType

from django.db import close_old_connections, connection

from aftercare.core import clock, planner_statistics
from aftercare.jobs import registry, services
from aftercare.jobs.errors import UnknownPeriodic
from aftercare.jobs.models import AttemptOutcome

log = logging.getLogger("aftercare.jobs.worker")

PERIODIC_KIND = "jobs.periodic"
PERIODIC_MAX_ATTEMPTS = 3
FINISHED_JOB_RETENTION = timedelta(days=30)
MAX_ERROR_PAUSE_SECONDS = 30.0


@dataclass(frozen=True)
class Poller:
    name: str
    fn: Callable[[], int]
    every_seconds: float


@dataclass(frozen=True)
class Periodic:
    name: str
    fn: Callable[[], object]
    every_seconds: float


_pollers: dict[str, Poller] = {}
_periodics: dict[str, Periodic] = {}


def register_poller(name: str, fn: Callable[[], int], every_seconds: float) -> None:
    """Run `fn` in every worker about every `every_seconds` while it finds nothing; it returns
    how many items it handled, and one that found work runs again at the next tick (a drain
    repeats it until 0). Registering a name again replaces it."""
    if every_seconds <= 0:
        raise ValueError(f"poller {name!r}: every_seconds must be positive")
    _pollers[name] = Poller(name=name, fn=fn, every_seconds=every_seconds)


def register_periodic(name: str, fn: Callable[[], object], every_seconds: float) -> None:
    """Run `fn` at most once per `every_seconds` across all workers (slots are aligned to the
    epoch, so "every 3600" runs in each clock hour). Registering a name again replaces it."""
    if every_seconds < 1:
        raise ValueError(f"periodic {name!r}: every_seconds must be at least 1")
    _periodics[name] = Periodic(name=name, fn=fn, every_seconds=every_seconds)


def pollers() -> dict[str, Poller]:
    return dict(_pollers)


def periodics() -> dict[str, Periodic]:
    return dict(_periodics)


@registry.task(kind=PERIODIC_KIND, max_attempts=PERIODIC_MAX_ATTEMPTS)
def run_periodic(*, name: str, slot: int) -> None:
    """The job behind a periodic schedule; `slot` is only there to make the key unique."""
    schedule = _periodics.get(name)
    if schedule is None:
        raise UnknownPeriodic(name=name)
    schedule.fn()


def _prune_finished_jobs() -> None:
    services.prune_finished(finished_before=clock.now() - FINISHED_JOB_RETENTION)


register_periodic("jobs.prune_finished", _prune_finished_jobs, every_seconds=24 * 3600)
# SQLite has no autovacuum to keep its planner's statistics current (core/planner_statistics).
register_periodic("db.planner_statistics", planner_statistics.refresh, every_seconds=6 * 3600)


@dataclass
class TickReport:
    """What one pass (or a whole drain) did; `busy` says whether anything happened."""

    succeeded: int = 0
    failed: int = 0
    lost_leases: int = 0
    polled: Counter[str] = field(default_factory=Counter)
    scheduled: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return self.succeeded + self.failed

    @property
    def busy(self) -> bool:
        return bool(self.jobs or sum(self.polled.values()))

    def add(self, other: TickReport) -> None:
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.lost_leases += other.lost_leases
        self.polled.update(other.polled)
        self.scheduled.extend(other.scheduled)

    def summary(self) -> str:
        parts = [f"{self.jobs} jobs ({self.succeeded} succeeded, {self.failed} failed)"]
        parts += [f"{name}: {count}" for name, count in sorted(self.polled.items()) if count]
        if self.lost_leases:
            parts.append(f"{self.lost_leases} skipped (lease lost)")
        return "; ".join(parts)


class Worker:
    """One worker process's loop. Not thread-safe: one Worker per process (or per test)."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        batch_size: int = 10,
        idle_seconds: float = 0.5,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> None:
        self.worker_id = worker_id or services.default_worker_id()
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.on_tick = on_tick
        self._stop = threading.Event()
        self._poller_due: dict[str, float] = {}  # name -> time.monotonic() of next run
        self._periodic_slot: dict[str, int] = {}  # name -> last slot this process enqueued

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Finish the current job, give back the rest of the batch, then return."""
        self._stop.set()

    def tick(self) -> TickReport:
        """One pass: enqueue periodic slots, run the pollers that are due, run one batch."""
        report = TickReport()
        self._schedule_periodics(report)
        self._run_pollers(report, until_idle=False)
        self._run_batch(report)
        return report

    def run(self, *, once: bool = False) -> TickReport:
        """Tick until `stop()` (or once). Database errors (a restart, a network blip) pause the
        loop with growing waits instead of killing it; the leases protect the jobs meanwhile."""
        total = TickReport()
        errors = 0
        while not self.stopping:
            try:
                report = self.tick()
            except Exception:
                if once:
                    raise
                errors += 1
                log.exception("worker %s: tick failed (%s in a row)", self.worker_id, errors)
                _close_stale_connections()
                self._stop.wait(min(MAX_ERROR_PAUSE_SECONDS, 0.5 * 2**errors))
                continue
            errors = 0
            self._report(report, total)
            if once:
                break
            _close_stale_connections()
            # A full batch of jobs, or a poller that found work, means there may be more waiting.
            if report.jobs < self.batch_size and not sum(report.polled.values()):
                self._stop.wait(self.idle_seconds)
        return total

    def drain(self) -> TickReport:
        """Run everything due now (pollers until they return 0, jobs until none is due, the
        jobs they enqueue too), then return. Jobs that fail come back later, not in this run."""
        total = TickReport()
        while not self.stopping:
            report = TickReport()
            self._schedule_periodics(report)
            self._run_pollers(report, until_idle=True)
            while not self.stopping and self._run_batch(report):
                pass
            self._report(report, total)
            if not report.busy:
                break
        return total

    @contextmanager
    def signals_handled(self) -> Iterator[None]:
        """SIGTERM/SIGINT ask for a graceful stop; a second one interrupts the running job
        (it is then recovered when its lease expires). Restores the old handlers on exit."""

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self.stopping:
                raise KeyboardInterrupt
            log.info("%s: finishing the current job, then stopping", signal.Signals(signum).name)
            self.stop()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _report(self, report: TickReport, total: TickReport) -> None:
        total.add(report)
        if report.busy and self.on_tick is not None:
            self.on_tick(report)

    def _run_batch(self, report: TickReport) -> int:
        jobs = services.claim_due(worker_id=self.worker_id, limit=self.batch_size)
        for index, job in enumerate(jobs):
            if self.stopping:
                for unstarted in jobs[index:]:
                    services.release(job=unstarted)
                break
            outcome = services.run_job(job=job)
            if outcome == AttemptOutcome.SUCCEEDED:
                report.succeeded += 1
            elif outcome == AttemptOutcome.FAILED:
                report.failed += 1
            else:
                report.lost_leases += 1
        return len(jobs)

    def _run_pollers(self, report: TickReport, *, until_idle: bool) -> None:
        for poller in list(_pollers.values()):
            now = time.monotonic()
            if not until_idle and self._poller_due.get(poller.name, 0.0) > now:
                continue
            self._poller_due[poller.name] = now + poller.every_seconds
            while not self.stopping:
                handled = self._call_poller(poller)
                report.polled[poller.name] += handled
                if handled:  # it found work: due again at the next tick, not in every_seconds
                    self._poller_due[poller.name] = 0.0
                if not (until_idle and handled):
                    break

    def _call_poller(self, poller: Poller) -> int:
        try:
            return int(poller.fn())
        except Exception:
            # One broken poller must not stop the jobs or the other pollers.
            log.exception("poller %s failed", poller.name)
            return 0

    def _schedule_periodics(self, report: TickReport) -> None:
        now = clock.now().timestamp()
        for periodic in list(_periodics.values()):
            slot = int(now // periodic.every_seconds)
            if self._periodic_slot.get(periodic.name) == slot:
                continue
            job = services.enqueue_once(
                kind=PERIODIC_KIND,
                dedupe_key=f"periodic:{periodic.name}:{slot}",
                payload={"name": periodic.name, "slot": slot},
                max_attempts=PERIODIC_MAX_ATTEMPTS,
            )
            self._periodic_slot[periodic.name] = slot
            if job is not None:
                report.scheduled.append(periodic.name)


def _close_stale_connections() -> None:
    """Drop connections that broke or outlived CONN_MAX_AGE, as Django does between requests.
    Never inside an atomic block (a test's, or a caller's): that would close it mid-transaction."""
    if not connection.in_atomic_block:
        close_old_connections()
