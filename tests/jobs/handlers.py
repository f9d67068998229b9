"""Handlers the job tests enqueue. Imported by the in-process tests and by worker subprocesses
(`tests.jobs.mp_runner`), so every kind here must work in both."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.db import connection

from aftercare.jobs.registry import task

calls: list[dict[str, Any]] = []  # what `tests.record` was called with, in this process

RUNS_TABLE = "jobs_test_runs"


@task(kind="tests.record")
def record(**kwargs: Any) -> None:
    calls.append(kwargs)


@task(kind="tests.boom", max_attempts=3)
def boom(**kwargs: Any) -> None:
    raise RuntimeError("boom")


@task(kind="tests.insert_run")
def insert_run(*, n: int, pause: float = 0.0) -> None:
    """Append a row per run (no unique constraint: a second run of one job would show)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RUNS_TABLE} (n, pid) VALUES (%s, %s)", [n, os.getpid()])  # noqa: S608
    time.sleep(pause)


@task(kind="tests.hang_once")
def hang_once(*, marker: str) -> None:
    """Hang the first time (the test kills that worker), succeed on the next attempt."""
    path = Path(marker)
    if not path.exists():
        path.touch()
        time.sleep(120)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RUNS_TABLE} (n, pid) VALUES (%s, %s)", [-1, os.getpid()])  # noqa: S608


@task(kind="tests.slow_claim_check")
def slow_claim_check(*, seconds: float) -> None:
    """Run longer than a lease while another worker keeps trying to claim due jobs: the
    heartbeat must keep this job out of their hands."""
    from aftercare.jobs import services

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stolen = services.claim_due(worker_id="thief", limit=10)
        assert not stolen, f"a running job was claimed by another worker: {stolen}"
        time.sleep(0.3)
