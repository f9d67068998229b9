"""Claiming, running and finishing jobs: retries with backoff, leases, staff actions."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from aftercare.jobs import rules, services
from aftercare.jobs.errors import OpenDuplicate
from aftercare.jobs.models import AttemptOutcome, Job, JobStatus
from tests.jobs import handlers

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=300)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.mark.django_db
def test_run_due_runs_what_is_due_and_leaves_the_rest(clock: time_machine.Traveller) -> None:
    now_job = handlers.record.enqueue(order=1)
    later_job = handlers.record.enqueue(order=2, delay=60)

    assert services.run_due(worker_id="w1", limit=10) == 1
    assert handlers.calls == [{"order": 1}]

    now_job.refresh_from_db()
    later_job.refresh_from_db()
    assert now_job.status == JobStatus.SUCCEEDED
    assert now_job.finished_at == T0
    assert (now_job.locked_by, now_job.lease_id, now_job.locked_until) == ("", "", None)
    assert later_job.status == JobStatus.PENDING
    [attempt] = now_job.attempt_rows.all()
    assert (attempt.number, attempt.worker, attempt.outcome) == (1, "w1", AttemptOutcome.SUCCEEDED)

    clock.shift(61)
    assert services.run_due(worker_id="w1", limit=10) == 1
    assert handlers.calls[-1] == {"order": 2}


@pytest.mark.django_db
def test_the_handler_gets_the_store_id_back(clock: time_machine.Traveller) -> None:
    handlers.record.enqueue(store_id=42, order=1)
    services.run_due(worker_id="w1", limit=10)
    assert handlers.calls == [{"store_id": 42, "order": 1}]


@pytest.mark.django_db
def test_claims_are_leases_that_other_workers_respect(clock: time_machine.Traveller) -> None:
    for order in range(3):
        handlers.record.enqueue(order=order)

    first = services.claim_due(worker_id="w1", limit=2)
    second = services.claim_due(worker_id="w2", limit=10)
    third = services.claim_due(worker_id="w3", limit=10)

    assert len(first) == 2
    assert len(second) == 1
    assert third == []
    assert {job.pk for job in first}.isdisjoint(job.pk for job in second)
    assert all(job.status == JobStatus.RUNNING for job in [*first, *second])
    assert all(job.locked_until == T0 + LEASE and job.attempts == 1 for job in first)
    assert first[0].lease_id and first[0].lease_id != second[0].lease_id


@pytest.mark.django_db
def test_a_failing_job_is_retried_with_backoff_then_fails(clock: time_machine.Traveller) -> None:
    job = handlers.boom.enqueue(secret="s3cret-token")  # max_attempts=3
    expected_waits = [10, 20]

    for attempt_number, wait in enumerate(expected_waits, start=1):
        assert services.run_due(worker_id="w1", limit=10) == 1
        job.refresh_from_db()
        assert job.status == JobStatus.PENDING
        assert job.attempts == attempt_number
        assert job.last_error == "RuntimeError: boom"
        delay = (job.run_at - datetime.now(tz=UTC)).total_seconds()
        assert wait * 0.9 <= delay <= wait * 1.1
        assert services.run_due(worker_id="w1", limit=10) == 0  # not due yet
        clock.move_to(job.run_at)

    assert services.run_due(worker_id="w1", limit=10) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.attempts == 3
    assert job.finished_at is not None
    attempts = list(job.attempt_rows.order_by("number"))
    assert [a.outcome for a in attempts] == [AttemptOutcome.FAILED] * 3
    assert all(a.error == "RuntimeError: boom" for a in attempts)
    assert all("s3cret" not in a.error for a in attempts)

    clock.shift(timedelta(days=1))
    assert services.run_due(worker_id="w1", limit=10) == 0  # failed waits for a human


@pytest.mark.django_db
def test_an_unknown_kind_fails_the_attempt_not_the_worker(clock: time_machine.Traveller) -> None:
    unknown = services.enqueue(kind="tests.no_such_kind", payload={"x": 1})
    known = handlers.record.enqueue(order=1)

    assert services.run_due(worker_id="w1", limit=10) == 2

    unknown.refresh_from_db()
    assert unknown.status == JobStatus.PENDING  # retried: a newer worker may know the kind
    assert "no handler is registered for job kind 'tests.no_such_kind'" in unknown.last_error
    assert unknown.attempt_rows.get().outcome == AttemptOutcome.FAILED
    assert Job.objects.get(pk=known.pk).status == JobStatus.SUCCEEDED


@pytest.mark.django_db
def test_an_expired_lease_is_reclaimed_and_the_late_finish_ignored(
    clock: time_machine.Traveller,
) -> None:
    handlers.record.enqueue(order=1)
    [held_by_a] = services.claim_due(worker_id="a", limit=10)
    attempt_a = services.start_attempt(job=held_by_a)  # ...and then worker a hangs or dies
    assert attempt_a is not None

    clock.shift(LEASE - timedelta(seconds=1))
    assert services.claim_due(worker_id="b", limit=10) == []  # lease still valid
    clock.shift(timedelta(seconds=2))
    [held_by_b] = services.claim_due(worker_id="b", limit=10)

    attempt_a.refresh_from_db()
    assert attempt_a.outcome == AttemptOutcome.LOST
    assert "lease expired" in attempt_a.error
    assert held_by_b.attempts == 2
    assert held_by_b.locked_by == "b"
    assert services.run_job(job=held_by_b) == AttemptOutcome.SUCCEEDED

    # Worker a wakes up and reports a failure: nothing changes.
    late = services.finish_attempt(job=held_by_a, attempt=attempt_a, error=RuntimeError("late"))
    assert late is None
    job = Job.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert job.last_error == ""
    attempt_a.refresh_from_db()
    assert attempt_a.outcome == AttemptOutcome.LOST
    outcomes = list(job.attempt_rows.order_by("number").values_list("worker", "outcome"))
    assert outcomes == [("a", AttemptOutcome.LOST), ("b", AttemptOutcome.SUCCEEDED)]
    assert handlers.calls == [{"order": 1}]


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_before_starting_runs_nothing(
    clock: time_machine.Traveller,
) -> None:
    handlers.record.enqueue(order=1)
    [held_by_a] = services.claim_due(worker_id="a", limit=10)
    clock.shift(LEASE + timedelta(seconds=1))
    [held_by_b] = services.claim_due(worker_id="b", limit=10)

    assert services.run_job(job=held_by_a) is None
    assert handlers.calls == []
    assert services.run_job(job=held_by_b) == AttemptOutcome.SUCCEEDED


@pytest.mark.django_db
def test_a_job_that_keeps_killing_its_worker_fails_after_max_attempts(
    clock: time_machine.Traveller,
) -> None:
    job = services.enqueue(kind="tests.record", max_attempts=2)
    for worker_id in ("a", "b"):
        [claimed] = services.claim_due(worker_id=worker_id, limit=10)
        services.start_attempt(job=claimed)  # the worker dies inside the handler
        clock.shift(LEASE + timedelta(seconds=1))

    assert services.claim_due(worker_id="c", limit=10) == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.last_error.startswith("lost:")
    assert list(job.attempt_rows.values_list("outcome", flat=True)) == [AttemptOutcome.LOST] * 2


@pytest.mark.django_db
def test_cancel_stops_pending_and_running_jobs(clock: time_machine.Traveller) -> None:
    pending = handlers.record.enqueue(order=1, delay=60)
    claimed_only = handlers.record.enqueue(order=2)
    in_progress = handlers.record.enqueue(order=3)
    first, second = services.claim_due(worker_id="w1", limit=10)
    attempt = services.start_attempt(job=second)
    assert attempt is not None

    assert services.cancel(job=pending)
    assert services.cancel(job=claimed_only)
    assert services.cancel(job=in_progress)
    assert not services.cancel(job=pending)  # already finished

    # Claimed but not started: nothing runs.
    assert services.run_job(job=first) is None
    # Mid-attempt: the attempt completes and is recorded, but the job stays cancelled.
    assert services.finish_attempt(job=second, attempt=attempt, error=None) is None
    in_progress.refresh_from_db()
    assert in_progress.status == JobStatus.CANCELLED
    assert in_progress.attempt_rows.get().outcome == AttemptOutcome.SUCCEEDED
    clock.shift(120)
    assert services.run_due(worker_id="w1", limit=10) == 0
    assert handlers.calls == []


@pytest.mark.django_db
def test_retry_now_gives_a_failed_job_another_attempt(clock: time_machine.Traveller) -> None:
    job = handlers.boom.enqueue()
    for _ in range(3):
        services.run_due(worker_id="w1", limit=10)
        clock.shift(timedelta(hours=1))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED

    assert services.retry_now(job=job)
    job.refresh_from_db()
    assert (job.status, job.run_at, job.finished_at) == (JobStatus.PENDING, clock_now(), None)
    assert services.run_due(worker_id="w1", limit=10) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED  # one more attempt, not three
    assert job.attempts == 4


@pytest.mark.django_db
def test_retry_now_runs_a_scheduled_job_now_and_refuses_finished_ones(
    clock: time_machine.Traveller,
) -> None:
    scheduled = handlers.record.enqueue(order=1, delay=timedelta(days=7))
    assert services.retry_now(job=scheduled)
    assert services.run_due(worker_id="w1", limit=10) == 1
    assert not services.retry_now(job=scheduled)  # succeeded


@pytest.mark.django_db
def test_retry_now_refuses_to_open_a_second_job_for_a_dedupe_key(
    clock: time_machine.Traveller,
) -> None:
    failed = handlers.boom.enqueue(dedupe_key="k")
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)
    handlers.boom.enqueue(dedupe_key="k")

    with pytest.raises(OpenDuplicate):
        services.retry_now(job=failed)


@pytest.mark.django_db
def test_release_gives_back_an_unstarted_claim(clock: time_machine.Traveller) -> None:
    job = handlers.record.enqueue(order=1)
    [claimed] = services.claim_due(worker_id="w1", limit=10)

    assert services.release(job=claimed)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.lease_id) == (JobStatus.PENDING, 0, "")
    assert services.run_due(worker_id="w2", limit=10) == 1


@pytest.mark.django_db
def test_prune_finished_keeps_failed_and_recent_jobs(clock: time_machine.Traveller) -> None:
    old_ok = handlers.record.enqueue(order=1)
    old_failed = handlers.boom.enqueue()
    Job.objects.filter(pk=old_failed.pk).update(max_attempts=1)
    services.run_due(worker_id="w1", limit=10)
    clock.shift(timedelta(days=31))
    recent_ok = handlers.record.enqueue(order=2)
    services.run_due(worker_id="w1", limit=10)

    deleted = services.prune_finished(finished_before=clock_now() - timedelta(days=30))

    assert deleted == 1
    remaining = set(Job.objects.values_list("pk", flat=True))
    assert remaining == {old_failed.pk, recent_ok.pk}
    assert not Job.objects.filter(pk=old_ok.pk).exists()


@given(attempts=st.integers(min_value=1, max_value=500), seed=st.integers())
def test_retry_delay_doubles_from_ten_seconds_and_caps_at_an_hour(attempts: int, seed: int) -> None:
    delay = rules.retry_delay(attempts=attempts, rand=random.Random(seed)).total_seconds()
    base = min(3600, 10 * 2 ** (attempts - 1))
    assert base * 0.9 <= delay <= base * 1.1


def test_describe_error_names_the_type_and_message_only() -> None:
    assert rules.describe_error(RuntimeError("boom")) == "RuntimeError: boom"
    assert rules.describe_error(KeyError()) == "KeyError"
    assert rules.describe_error(OpenDuplicate("x")) == "aftercare.jobs.errors.OpenDuplicate: x"
    assert len(rules.describe_error(ValueError("x" * 10_000))) == rules.ERROR_MAX_CHARS


def clock_now() -> datetime:
    return datetime.now(tz=UTC)


@pytest.mark.django_db(transaction=True)
def test_a_job_longer_than_its_lease_keeps_it_while_it_runs(settings: object) -> None:
    """The heartbeat renews the lease of a running job, so a long job is not taken over by a
    second worker while the first is still working on it."""
    settings.JOBS_LEASE_SECONDS = 1  # type: ignore[attr-defined]  # renewed every 0.5 s; the job runs 2.5 s
    job = handlers.slow_claim_check.enqueue(seconds=2.5)
    assert services.run_due(worker_id="w1", limit=1) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 1 and job.attempt_rows.count() == 1
