"""Ending runs: finished (reached the end), exited (a condition or a re-check stopped it),
cancelled (staff), failed (a step ran out of attempts). A run ends once; later calls are no-ops."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aftercare.flows.models import FlowRun, RunStatus


def _end(*, run_ids: Iterable[int], status: str, now: datetime, reason: str) -> int:
    return FlowRun.objects.filter(pk__in=list(run_ids), status=RunStatus.ACTIVE).update(
        status=status, finished_at=now, exit_reason=reason[:200]
    )


def finish_many(*, run_ids: Iterable[int], now: datetime, reason: str = "") -> int:
    return _end(run_ids=run_ids, status=RunStatus.FINISHED, now=now, reason=reason)


def exit_run(*, run_id: int, now: datetime, reason: str) -> int:
    return _end(run_ids=[run_id], status=RunStatus.EXITED, now=now, reason=reason)


def cancel_runs(*, run_ids: Iterable[int], now: datetime, reason: str) -> int:
    return _end(run_ids=run_ids, status=RunStatus.CANCELLED, now=now, reason=reason)


def fail_run(*, run_id: int, now: datetime, reason: str) -> int:
    return _end(run_ids=[run_id], status=RunStatus.FAILED, now=now, reason=reason)
