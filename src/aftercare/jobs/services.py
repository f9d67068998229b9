"""Writes of the job layer: enqueue in the caller's transaction, claim under a lease, run, finish.

    from aftercare.jobs import services as jobs_services

    job = jobs_services.enqueue(kind="ingest.fetch_order", payload={"woo_id": 1001}, store_id=7)
    jobs_services.run_due(worker_id="web-1:4242", limit=10)  # what `aftercare worker` loops on
    jobs_services.cancel(job=job)
    jobs_services.retry_now(job=job)                           # staff: "run now" / "retry"

Most code enqueues through a task instead (`fetch_order.enqueue(...)`, see `registry`).

The guarantees (docs/subsystems/jobs.md):
- a job exists iff the transaction that enqueued it committed (a transactional outbox);
- a due job is run at least once, by one worker at a time: the claim is a lease, and a worker
  that stops reporting (crash, kill -9, lost machine) loses it when `locked_until` passes;
- every attempt is a JobAttempt row; a failed one is retried with capped exponential backoff
  until `max_attempts`, then the job is `failed` and waits for a human;
- every finish write is conditional on `lease_id`, so a worker that lost its lease cannot
  overwrite the result of the claim that replaced it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from aftercare.core import clock
from aftercare.jobs import heartbeat, registry, rules
from aftercare.jobs.errors import OpenDuplicate
from aftercare.jobs.models import AttemptOutcome, Job, JobAttempt, JobStatus

log = logging.getLogger("aftercare.jobs")

OPEN_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)
LOST_ERROR = (
    "lost: the worker's lease expired before it reported a result (it crashed or was killed, "
    "or the handler outlived JOBS_LEASE_SECONDS)"
)


def enqueue(
    *,
    kind: str,
    payload: dict[str, Any] | None = None,
    store_id: int | None = None,
    run_at: datetime | None = None,
    delay: timedelta | float | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Write a pending Job in the caller's transaction and return it.

    If the caller's transaction rolls back, the job never existed; if it commits, a worker will
    run it at or after `run_at` (default: now; or now + `delay`, seconds or a timedelta).

    With a `dedupe_key`, at most one *unfinished* (pending or running) job per key exists: if
    one does, it is returned unchanged and nothing is written. Note a running job may have read
    its data before your change; dedupe only where "already queued or in progress" is enough.

    With settings.JOBS_EAGER the handler runs when the caller's transaction commits (at once
    outside one), through the same claim/attempt rows as a worker; jobs due later still wait."""
    payload = rules.checked_payload(kind=kind, payload=payload)
    now = clock.now()
    job = Job(
        kind=kind,
        payload=payload,
        store_id=store_id,
        run_at=rules.due_time(now=now, run_at=run_at, delay=delay),
        max_attempts=max_attempts or settings.JOBS_MAX_ATTEMPTS,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        job.save()
    else:
        existing = _insert_unless_open(job=job)
        if existing is not None:
            return existing
    if settings.JOBS_EAGER and job.run_at <= now:
        transaction.on_commit(partial(_run_eagerly, job_id=job.pk))
    return job


def enqueue_once(
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any] | None = None,
    store_id: int | None = None,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> Job | None:
    """Enqueue unless a job with `dedupe_key` exists in *any* status; None if one does.

    Stronger than `enqueue(dedupe_key=…)`, whose constraint forgets a key once its job finishes.
    The check and the insert are serialised per key across processes: on PostgreSQL by a
    transaction-level advisory lock, on SQLite by the IMMEDIATE transaction's write lock.
    Only kind + key are looked up, so keep finished jobs pruned (`prune_finished`)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)", [rules.advisory_lock_id(dedupe_key)]
                )
        if Job.objects.filter(kind=kind, dedupe_key=dedupe_key).exists():
            return None
        return enqueue(
            kind=kind,
            payload=payload,
            store_id=store_id,
            run_at=run_at,
            dedupe_key=dedupe_key,
            max_attempts=max_attempts,
        )


def claim_due(*, worker_id: str, limit: int, now: datetime | None = None) -> list[Job]:
    """Lease up to `limit` due jobs to `worker_id` and return them, status `running`.

    Due: pending with run_at <= now, or running with an expired lease (its worker is gone: that
    attempt is recorded as `lost`, and the job fails if it has used all its attempts).
    PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` so concurrent workers take disjoint rows
    without waiting. SQLite: the settings make this transaction IMMEDIATE (the write lock is
    taken at BEGIN), so claims serialise; the UPDATE re-checks due-ness anyway."""
    now = now or clock.now()
    lease_id = uuid.uuid4().hex
    with transaction.atomic():
        due = Job.objects.filter(_due(now)).order_by("run_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.values_list("pk", "status", "attempts", "max_attempts")[:limit])
        if not rows:
            return []
        expired = [pk for pk, status, _, _ in rows if status == JobStatus.RUNNING]
        exhausted = {
            pk
            for pk, status, attempts, max_attempts in rows
            if status == JobStatus.RUNNING and attempts >= max_attempts
        }
        if expired:
            _record_lost(job_ids=expired, now=now)
        if exhausted:
            Job.objects.filter(pk__in=exhausted).update(
                status=JobStatus.FAILED, finished_at=now, **_NO_LEASE
            )
        claim_ids = [pk for pk, _, _, _ in rows if pk not in exhausted]
        Job.objects.filter(_due(now), pk__in=claim_ids).update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            locked_until=now + _lease(),
            locked_by=worker_id,
            lease_id=lease_id,
        )
        return list(Job.objects.filter(pk__in=claim_ids, lease_id=lease_id).order_by("run_at"))


def run_job(*, job: Job) -> AttemptOutcome | None:
    """Run one claimed job: open its attempt, call the handler, record the outcome.

    The handler runs outside any transaction of ours: it manages its own and must be idempotent.
    Any exception it raises (an unknown kind included) becomes a failed attempt; it never
    propagates. Returns the attempt's outcome, or None if this worker no longer held the lease
    (nothing ran) or lost it while running (the outcome was not applied to the job)."""
    attempt = start_attempt(job=job)
    if attempt is None:
        return None
    error: Exception | None = None
    try:
        handler = registry.get(job.kind)
        kwargs = dict(job.payload)
        if job.store_id is not None:
            kwargs["store_id"] = job.store_id
        with heartbeat.renewing(job_id=job.pk, lease_id=job.lease_id):
            handler.call(**kwargs)
    except Exception as exc:
        error = exc
        log.warning("job %s (%s) attempt %s failed", job.pk, job.kind, job.attempts, exc_info=exc)
    return finish_attempt(job=job, attempt=attempt, error=error)


def run_due(*, worker_id: str, limit: int, now: datetime | None = None) -> int:
    """Claim up to `limit` due jobs and run them one by one; returns how many ran."""
    jobs = claim_due(worker_id=worker_id, limit=limit, now=now)
    return sum(run_job(job=job) is not None for job in jobs)


def start_attempt(*, job: Job) -> JobAttempt | None:
    """Renew the lease of a claimed job and open its attempt row; None if the lease is gone.

    Renewing here (not only at claim) gives each job of a claimed batch a full lease, however
    long the jobs before it took."""
    now = clock.now()
    with transaction.atomic():
        held = Job.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, lease_id=job.lease_id
        ).update(locked_until=now + _lease())
        if not held:
            return None
        return JobAttempt.objects.create(
            job=job,
            number=job.attempts,
            worker=job.locked_by,
            started_at=now,
            outcome=AttemptOutcome.RUNNING,
        )


def finish_attempt(
    *, job: Job, attempt: JobAttempt, error: BaseException | None
) -> AttemptOutcome | None:
    """Record how an attempt ended and move the job on: succeeded, back to pending with
    backoff, or failed after `max_attempts`.

    The job write is conditional on this claim's `lease_id` (and status running), the attempt
    write on the attempt still being open: a worker whose lease expired and whose job was
    reclaimed (attempt marked `lost`) changes nothing. Returns None in that case."""
    now = clock.now()
    outcome = AttemptOutcome.SUCCEEDED if error is None else AttemptOutcome.FAILED
    text = "" if error is None else rules.describe_error(error)
    ours = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, lease_id=job.lease_id)
    with transaction.atomic():
        if error is None:
            won = ours.update(
                status=JobStatus.SUCCEEDED, finished_at=now, last_error="", **_NO_LEASE
            )
        elif job.attempts >= job.max_attempts:
            won = ours.update(
                status=JobStatus.FAILED, finished_at=now, last_error=text, **_NO_LEASE
            )
        else:
            won = ours.update(
                status=JobStatus.PENDING,
                run_at=now + rules.retry_delay(attempts=job.attempts),
                last_error=text,
                **_NO_LEASE,
            )
        JobAttempt.objects.filter(pk=attempt.pk, outcome=AttemptOutcome.RUNNING).update(
            outcome=outcome, finished_at=now, error=text
        )
    if not won:
        log.warning("job %s: lease %s lost before finishing; result ignored", job.pk, job.lease_id)
        return None
    return outcome


def release(*, job: Job) -> bool:
    """Give back a claimed job that was not started (a worker shutting down mid-batch), so the
    next worker takes it now instead of after the lease; the claim is not counted."""
    return bool(
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, lease_id=job.lease_id).update(
            status=JobStatus.PENDING, attempts=F("attempts") - 1, **_NO_LEASE
        )
    )


def cancel(*, job: Job) -> bool:
    """Stop a pending or running job from being (re)tried; False if it had already finished.

    A running attempt is not interrupted: its handler completes and its attempt row records
    the outcome, but the job stays cancelled."""
    return bool(
        Job.objects.filter(pk=job.pk, status__in=OPEN_STATUSES).update(
            status=JobStatus.CANCELLED, finished_at=clock.now(), **_NO_LEASE
        )
    )


def retry_now(*, job: Job) -> bool:
    """Make a pending or failed job due now ("run now" / "retry"); False for other statuses.

    A failed job gets one more attempt (its attempt count is kept). Raises `OpenDuplicate` if
    another unfinished job took its dedupe key meanwhile."""
    try:
        with transaction.atomic():
            changed = Job.objects.filter(
                pk=job.pk, status__in=(JobStatus.PENDING, JobStatus.FAILED)
            ).update(status=JobStatus.PENDING, run_at=clock.now(), finished_at=None)
    except IntegrityError as exc:
        raise OpenDuplicate(
            f"job {job.pk} cannot be retried: another unfinished job has key {job.dedupe_key!r}"
        ) from exc
    return bool(changed)


def prune_finished(*, finished_before: datetime, batch_size: int = 1000) -> int:
    """Delete succeeded and cancelled jobs (with their attempts) finished before the cutoff.

    Failed jobs are kept: they wait for a human. Deletes in batches to keep transactions short."""
    deleted = 0
    finished = Job.objects.filter(
        status__in=(JobStatus.SUCCEEDED, JobStatus.CANCELLED), finished_at__lt=finished_before
    )
    while ids := list(finished.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            JobAttempt.objects.filter(job_id__in=ids).delete()
            deleted += Job.objects.filter(pk__in=ids).delete()[1].get(Job._meta.label, 0)
    return deleted


def default_worker_id() -> str:
    """`host:pid` — unique per process across machines, and readable in the admin."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


_NO_LEASE: dict[str, Any] = {"locked_until": None, "locked_by": "", "lease_id": ""}


def _due(now: datetime) -> Q:
    return Q(status=JobStatus.PENDING, run_at__lte=now) | Q(
        status=JobStatus.RUNNING, locked_until__lt=now
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.JOBS_LEASE_SECONDS)


def _record_lost(*, job_ids: list[int], now: datetime) -> None:
    JobAttempt.objects.filter(job_id__in=job_ids, outcome=AttemptOutcome.RUNNING).update(
        outcome=AttemptOutcome.LOST, finished_at=now, error=LOST_ERROR
    )
    Job.objects.filter(pk__in=job_ids).update(last_error=LOST_ERROR)


def _insert_unless_open(*, job: Job) -> Job | None:
    """Insert `job`, or return the unfinished job that already holds its dedupe key.

    The insert runs in a savepoint: the IntegrityError of a concurrent twin must not poison the
    caller's transaction. The twin can also finish between our insert and our look-up (then
    the key is free again), hence the short loop."""
    for _ in range(3):
        existing = _find_open(dedupe_key=job.dedupe_key)
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError:
            job.pk = None
            continue
        return None
    raise IntegrityError(f"could not enqueue or find an open job for key {job.dedupe_key!r}")


def _find_open(*, dedupe_key: str | None) -> Job | None:
    return Job.objects.filter(dedupe_key=dedupe_key, status__in=OPEN_STATUSES).first()


def _run_eagerly(*, job_id: int) -> None:
    """JOBS_EAGER: claim this one job (if nobody did) and run it like a worker would."""
    lease_id = uuid.uuid4().hex
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        locked_until=clock.now() + _lease(),
        locked_by=f"eager:{default_worker_id()}"[:100],
        lease_id=lease_id,
    )
    if claimed:
        run_job(job=Job.objects.get(pk=job_id))
