"""Enqueueing: the transactional outbox, dedupe keys, payload checks and eager mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from pytest_django.fixtures import Settings

from aftercare.jobs import services
from aftercare.jobs.models import AttemptOutcome, Job, JobStatus
from aftercare.stores.models import Store
from tests.factories import StoreFactory
from tests.jobs import handlers

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Rollback(Exception):
    pass


@pytest.mark.django_db
@time_machine.travel(T0, tick=False)
def test_enqueue_writes_a_pending_job_due_now(settings: Settings) -> None:
    job = handlers.record.enqueue(store_id=7, order=1001)

    job.refresh_from_db()
    assert job.kind == "tests.record"
    assert job.status == JobStatus.PENDING
    assert job.payload == {"order": 1001}  # store_id lives in its own column
    assert job.store_id == 7
    assert job.run_at == T0
    assert job.attempts == 0
    assert job.max_attempts == settings.JOBS_MAX_ATTEMPTS


@pytest.mark.django_db
@time_machine.travel(T0, tick=False)
def test_delay_and_run_at_set_when_the_job_is_due() -> None:
    assert handlers.record.enqueue(delay=90).run_at == T0 + timedelta(seconds=90)
    assert handlers.record.enqueue(delay=timedelta(days=7)).run_at == T0 + timedelta(days=7)
    later = T0 + timedelta(hours=5)
    assert handlers.record.enqueue(run_at=later).run_at == later
    assert handlers.boom.enqueue().max_attempts == 3  # the task's own limit


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"when": T0}, "JSON-serialisable"),
        ({"pair": (1, 2)}, "changes through JSON"),
        ({"ratio": float("nan")}, "JSON-serialisable"),
    ],
)
def test_a_payload_that_would_not_survive_json_is_refused(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        handlers.record.enqueue(**kwargs)
    with pytest.raises(TypeError, match="store_id"):
        services.enqueue(kind="tests.record", payload={"store_id": 1})
    with pytest.raises(TypeError, match="not both"):
        handlers.record.enqueue(run_at=T0, delay=5)
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_job() -> None:
    with pytest.raises(Rollback), transaction.atomic():
        StoreFactory(slug="gone")
        handlers.record.enqueue(order=1)
        raise Rollback

    assert not Job.objects.exists()
    assert not Store.objects.filter(slug="gone").exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_commits_its_jobs() -> None:
    with transaction.atomic():
        store = StoreFactory(slug="kept")
        handlers.record.enqueue(store_id=store.pk, order=1)

    assert Job.objects.get().store_id == store.pk


@pytest.mark.django_db
def test_dedupe_key_returns_the_open_job_instead_of_a_second_one() -> None:
    first = handlers.record.enqueue(order=1, dedupe_key="order:1")
    again = handlers.record.enqueue(order=1, dedupe_key="order:1")
    other = handlers.record.enqueue(order=2, dedupe_key="order:2")

    assert again.pk == first.pk
    assert other.pk != first.pk
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_dedupe_covers_a_running_job_but_not_a_finished_one() -> None:
    first = handlers.record.enqueue(order=1, dedupe_key="order:1")
    [claimed] = services.claim_due(worker_id="w1", limit=10)
    assert handlers.record.enqueue(order=1, dedupe_key="order:1").pk == first.pk  # running

    services.run_job(job=claimed)
    after = handlers.record.enqueue(order=1, dedupe_key="order:1")

    assert after.pk != first.pk
    assert after.status == JobStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_losing_a_dedupe_race_keeps_the_callers_transaction_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A concurrent twin committed between our look-up and our insert: the insert fails on the
    partial unique index inside a savepoint, and the caller's transaction goes on."""
    twin = handlers.record.enqueue(order=1, dedupe_key="order:1")
    real_find_open = services._find_open
    misses = iter([None])
    monkeypatch.setattr(
        services, "_find_open", lambda **kw: next(misses, None) or real_find_open(**kw)
    )

    with transaction.atomic():
        found = handlers.record.enqueue(order=1, dedupe_key="order:1")
        StoreFactory(slug="after-the-race")  # would fail if the transaction were broken

    assert found.pk == twin.pk
    assert Job.objects.count() == 1
    assert Store.objects.filter(slug="after-the-race").exists()


@pytest.mark.django_db
def test_enqueue_once_refuses_a_key_that_was_ever_used() -> None:
    first = services.enqueue_once(kind="tests.record", dedupe_key="once:1", payload={"n": 1})
    assert first is not None
    assert services.enqueue_once(kind="tests.record", dedupe_key="once:1") is None

    services.run_due(worker_id="w1", limit=10)
    assert Job.objects.get(pk=first.pk).status == JobStatus.SUCCEEDED
    assert services.enqueue_once(kind="tests.record", dedupe_key="once:1") is None
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_the_partial_unique_index_is_real() -> None:
    """The database, not Python, holds the at-most-one-open-job rule."""
    handlers.record.enqueue(dedupe_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind="tests.record", run_at=T0, dedupe_key="k")


@pytest.mark.django_db(transaction=True)
def test_eager_mode_runs_the_handler_when_the_transaction_commits(settings: Settings) -> None:
    settings.JOBS_EAGER = True
    with transaction.atomic():
        job = handlers.record.enqueue(order=1)
        assert handlers.calls == []  # not before the commit

    assert handlers.calls == [{"order": 1}]
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.locked_by == ""
    [attempt] = job.attempt_rows.all()
    assert attempt.outcome == AttemptOutcome.SUCCEEDED
    assert attempt.worker.startswith("eager:")


@pytest.mark.django_db(transaction=True)
def test_eager_mode_runs_nothing_for_a_rolled_back_transaction(settings: Settings) -> None:
    settings.JOBS_EAGER = True
    with pytest.raises(Rollback), transaction.atomic():
        handlers.record.enqueue(order=1)
        raise Rollback

    assert handlers.calls == []
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_eager_mode_leaves_later_jobs_and_records_failures(settings: Settings) -> None:
    settings.JOBS_EAGER = True
    later = handlers.record.enqueue(order=1, delay=3600)
    failing = handlers.boom.enqueue()  # does not raise into the caller

    assert handlers.calls == []
    later.refresh_from_db()
    assert later.status == JobStatus.PENDING
    failing.refresh_from_db()
    assert failing.status == JobStatus.PENDING  # back in the queue, with backoff
    assert failing.attempts == 1
    assert failing.last_error == "RuntimeError: boom"
    assert failing.attempt_rows.get().outcome == AttemptOutcome.FAILED


def _race(target: Callable[[], Job | None], *, threads: int = 4) -> list[Job | None]:
    """Run `target` in several threads at once, each in its own connection and transaction."""
    barrier = threading.Barrier(threads)
    results: list[Job | None] = []

    def contender() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                result = target()
                time.sleep(0.05)  # hold the transaction open while the others try
            results.append(result)
        finally:
            connection.close()

    pool = [threading.Thread(target=contender) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    assert len(results) == threads
    return results


needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers; its in-memory test database cannot be shared by threads",
)


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_with_one_dedupe_key_make_one_job() -> None:
    results = _race(lambda: handlers.record.enqueue(order=1, dedupe_key="race"))
    assert len({job.pk for job in results if job is not None}) == 1
    assert Job.objects.count() == 1


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueue_once_makes_one_job() -> None:
    results = _race(lambda: services.enqueue_once(kind="tests.record", dedupe_key="once"))
    assert sum(job is not None for job in results) == 1
    assert Job.objects.count() == 1
