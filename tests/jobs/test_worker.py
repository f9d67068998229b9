"""The worker loop: batches, pollers, periodic schedules, drain, graceful stop, the command."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError

from aftercare.jobs import registry, services, worker
from aftercare.jobs.models import Job, JobStatus
from aftercare.jobs.worker import Worker
from tests.jobs import handlers

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def stopper() -> Iterator[list[Worker]]:
    """A `tests.stop_worker` job that stops whichever worker is in the list while running."""
    workers: list[Worker] = []

    @registry.task(kind="tests.stop_worker")
    def stop_worker(*, signal_number: int | None = None) -> None:
        if signal_number is None:
            workers[0].stop()
        else:
            signal.raise_signal(signal_number)

    yield workers
    registry.unregister("tests.stop_worker")


@pytest.mark.django_db
def test_a_failing_handler_does_not_stop_the_batch(clock: time_machine.Traveller) -> None:
    handlers.boom.enqueue()
    handlers.record.enqueue(order=1)
    handlers.record.enqueue(order=2)

    report = Worker(worker_id="w1").tick()

    assert (report.succeeded, report.failed) == (2, 1)
    assert handlers.calls == [{"order": 1}, {"order": 2}]
    assert report.summary() == "3 jobs (2 succeeded, 1 failed)"


@pytest.mark.django_db
def test_pollers_run_on_their_interval_and_a_broken_one_is_contained(
    clock: time_machine.Traveller,
) -> None:
    counts = {"inbox": 0}

    def inbox() -> int:  # work at the first call, then none
        counts["inbox"] += 1
        return 2 if counts["inbox"] == 1 else 0

    def broken() -> int:
        raise RuntimeError("poller bug")

    worker.register_poller("inbox", inbox, every_seconds=3600)
    worker.register_poller("broken", broken, every_seconds=0.001)
    handlers.record.enqueue(order=1)
    w = Worker(worker_id="w1")

    first = w.tick()
    second = w.tick()  # it found work: polled again at once (nothing this time)
    third = w.tick()

    assert counts["inbox"] == 2  # then not due again for an hour
    assert not third.busy
    assert first.polled["inbox"] == 2
    assert first.succeeded == 1  # the jobs still ran
    assert not second.busy
    assert "inbox: 2" in first.summary()


@pytest.mark.django_db
def test_a_periodic_schedule_runs_once_per_slot_across_workers(
    clock: time_machine.Traveller,
) -> None:
    runs: list[datetime] = []
    worker.register_periodic("reconcile", lambda: runs.append(clock_now()), every_seconds=900)
    a, b = Worker(worker_id="a"), Worker(worker_id="b")

    for w in (a, b, a, b):  # both tick, twice, in the same slot
        w.tick()
    clock.shift(timedelta(minutes=5))
    a.tick()
    b.tick()
    assert len(runs) == 1

    fresh = Worker(worker_id="c")  # a worker started later in the same slot
    fresh.tick()
    assert len(runs) == 1

    clock.shift(timedelta(minutes=15))
    for w in (b, a, fresh):
        w.tick()
    assert len(runs) == 2
    periodic_jobs = Job.objects.filter(kind=worker.PERIODIC_KIND)
    keys = sorted(str(key) for key in periodic_jobs.values_list("dedupe_key", flat=True))
    slot = int(T0.timestamp() // 900)
    assert keys == [f"periodic:reconcile:{slot}", f"periodic:reconcile:{slot + 1}"]


@pytest.mark.django_db
def test_a_periodic_job_for_a_schedule_this_worker_lacks_fails_clearly(
    clock: time_machine.Traveller,
) -> None:
    services.enqueue(kind=worker.PERIODIC_KIND, payload={"name": "gone", "slot": 1})
    Worker(worker_id="w1").tick()
    assert "no periodic schedule named 'gone'" in Job.objects.get().last_error


@pytest.mark.django_db
def test_drain_runs_pollers_until_idle_and_the_jobs_they_enqueue(
    clock: time_machine.Traveller,
) -> None:
    batches = iter([3, 2])
    calls = []

    def inbox() -> int:
        calls.append(1)
        handled = next(batches, 0)
        if handled == 3:
            handlers.record.enqueue(order=99)  # work found by the poller becomes a job
        return handled

    worker.register_poller("inbox", inbox, every_seconds=3600)
    for order in range(25):
        handlers.record.enqueue(order=order)
    handlers.record.enqueue(order=100, delay=60)  # not due: stays

    total = Worker(worker_id="w1", batch_size=10).drain()

    assert total.succeeded == 26
    assert total.polled["inbox"] == 5
    assert len(calls) >= 3
    assert Job.objects.filter(status=JobStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_stop_finishes_the_current_job_and_gives_back_the_rest(
    clock: time_machine.Traveller, stopper: list[Worker]
) -> None:
    handlers.record.enqueue(order=1)
    services.enqueue(kind="tests.stop_worker")
    handlers.record.enqueue(order=2)
    handlers.record.enqueue(order=3)
    w = Worker(worker_id="w1", batch_size=10)
    stopper.append(w)

    total = w.run()

    assert total.succeeded == 2
    assert handlers.calls == [{"order": 1}]
    rest = Job.objects.filter(status=JobStatus.PENDING)
    assert sorted(job.payload["order"] for job in rest) == [2, 3]
    assert all(job.attempts == 0 and job.lease_id == "" for job in rest)


@pytest.mark.django_db
def test_sigterm_means_finish_the_current_job_then_stop(
    clock: time_machine.Traveller, stopper: list[Worker]
) -> None:
    services.enqueue(kind="tests.stop_worker", payload={"signal_number": signal.SIGTERM})
    handlers.record.enqueue(order=1)
    w = Worker(worker_id="w1")
    before = signal.getsignal(signal.SIGTERM)

    with w.signals_handled():
        total = w.run()

    assert total.succeeded == 1  # the signalling job itself completed
    assert handlers.calls == []
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.django_db
def test_a_database_error_pauses_the_loop_instead_of_killing_it(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = Worker(worker_id="w1")

    def database_down(**kwargs: object) -> list[Job]:
        w.stop()
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "claim_due", database_down)
    assert not w.run().busy


@pytest.mark.django_db
def test_the_worker_command_drains_and_reports(clock: time_machine.Traveller) -> None:
    handlers.record.enqueue(order=1)
    handlers.boom.enqueue()
    out = StringIO()

    call_command("worker", "--drain", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-1] == "drained: 2 jobs (1 succeeded, 1 failed)"
    assert "2 jobs (1 succeeded, 1 failed)" in lines[0]


@pytest.mark.django_db
def test_the_worker_command_once_runs_one_batch(clock: time_machine.Traveller) -> None:
    for order in range(3):
        handlers.record.enqueue(order=order)
    out = StringIO()

    call_command("worker", "--once", "--batch-size", "2", stdout=out)

    assert out.getvalue().strip().endswith("2 jobs (2 succeeded, 0 failed)")
    assert Job.objects.filter(status=JobStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_the_worker_command_is_quiet_when_idle() -> None:
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert out.getvalue() == ""


def clock_now() -> datetime:
    return datetime.now(tz=UTC)
