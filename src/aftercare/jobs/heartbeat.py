"""Keeping the lease of a job that runs longer than a lease.

    with heartbeat.renewing(job_id=job.pk, lease_id=job.lease_id):
        handler.call(...)

A worker leases a claimed job for JOBS_LEASE_SECONDS; if the worker dies, the lease expires and
another worker takes the job. A healthy worker running a long job (a full REST sync of a big
store) must not lose it that way, or two workers would run it at once. So while the handler
runs, a thread renews the lease every third of its length. The thread stops with the handler,
and it renews only while the job is still this claim's (`lease_id`): a lease that was lost
(the process was frozen longer than a lease) is never taken back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection

from aftercare.core import clock
from aftercare.jobs.models import Job, JobStatus

log = logging.getLogger("aftercare.jobs")


def renew(*, job_id: int, lease_id: str) -> bool:
    """Extend the lease of a running job if this claim still holds it."""
    until = clock.now() + timedelta(seconds=settings.JOBS_LEASE_SECONDS)
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, lease_id=lease_id).update(
            locked_until=until
        )
    )


@contextmanager
def renewing(*, job_id: int, lease_id: str) -> Iterator[None]:
    done = threading.Event()
    interval = max(0.5, settings.JOBS_LEASE_SECONDS / 3)

    def beat() -> None:
        try:
            while not done.wait(interval):
                if not renew(job_id=job_id, lease_id=lease_id):
                    log.warning("job %s: lease %s lost; no longer renewing", job_id, lease_id)
                    return
        except Exception:  # a renewal failure must not kill the worker; the lease may lapse
            log.exception("job %s: renewing the lease failed", job_id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=interval + 30)
