"""Error codes of the job layer.

    raise UnknownJobKind(kind="ingest.fetch_order")

`UnknownJobKind` is raised *inside a run* (it becomes a failed attempt, retried like any other
error: during a rolling deploy an old worker may meet a kind only the new code knows)."""

from __future__ import annotations

from enum import StrEnum

from aftercare.core.errors import Conflict, DomainError


class JobErrorCode(StrEnum):
    UNKNOWN_KIND = "job_unknown_kind"
    UNKNOWN_PERIODIC = "job_unknown_periodic"
    NOT_RETRYABLE = "job_not_retryable"
    OPEN_DUPLICATE = "job_open_duplicate"


class UnknownJobKind(DomainError):
    code = JobErrorCode.UNKNOWN_KIND

    def __init__(self, *, kind: str) -> None:
        super().__init__(
            f"no handler is registered for job kind {kind!r} (is the module with its @task "
            "imported? handlers live in <app>/handlers.py)",
            kind=kind,
        )


class UnknownPeriodic(DomainError):
    code = JobErrorCode.UNKNOWN_PERIODIC

    def __init__(self, *, name: str) -> None:
        super().__init__(
            f"no periodic schedule named {name!r} is registered in this worker", name=name
        )


class NotRetryable(Conflict):
    code = JobErrorCode.NOT_RETRYABLE


class OpenDuplicate(Conflict):
    """Re-opening the job would give its dedupe key two unfinished jobs."""

    code = JobErrorCode.OPEN_DUPLICATE
