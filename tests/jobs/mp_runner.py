"""Entry point of the subprocesses in the multi-process tests: Django set up, the test
handlers registered, then one step against the database named by DATABASE_URL.

    python -m tests.jobs.mp_runner setup 150 0.01    # runs table + 150 `tests.insert_run` jobs
    python -m tests.jobs.mp_runner hang MARKER       # runs table + one `tests.hang_once` job
    python -m tests.jobs.mp_runner worker GO_FILE    # wait until GO_FILE exists, then
                                                     # `aftercare worker --drain --batch-size 5`
    python -m tests.jobs.mp_runner report            # a JSON summary on stdout
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")
    import django

    django.setup()
    from tests.jobs import handlers  # registers the test kinds in this process

    step, *args = argv
    if step == "setup":
        _setup(count=int(args[0]), pause=float(args[1]), table=handlers.RUNS_TABLE)
    elif step == "hang":
        _setup(count=0, pause=0, table=handlers.RUNS_TABLE)
        handlers.hang_once.enqueue(marker=args[0])
    elif step == "worker":
        _worker(go_file=Path(args[0]))
    elif step == "report":
        _report(table=handlers.RUNS_TABLE)
    else:
        raise SystemExit(f"unknown step {step!r}")


def _setup(*, count: int, pause: float, table: str) -> None:
    from django.db import connection, transaction

    from tests.jobs import handlers

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (n integer NOT NULL, pid integer NOT NULL)")
    with transaction.atomic():
        for n in range(count):
            handlers.insert_run.enqueue(n=n, pause=pause)


def _worker(*, go_file: Path) -> None:
    from django.core.management import call_command

    deadline = time.monotonic() + 60
    while not go_file.exists():  # a start line, so all workers compete from the same moment
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.01)
    call_command("worker", "--drain", "--batch-size", "5")


def _report(*, table: str) -> None:
    from django.db import connection
    from django.db.models import Count, Max

    from aftercare.jobs.models import Job, JobAttempt

    summary: dict[str, object] = {"runs": 0, "distinct_jobs": 0, "pids": 0}
    if table in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), count(DISTINCT n), count(DISTINCT pid) FROM {table}")  # noqa: S608
            summary["runs"], summary["distinct_jobs"], summary["pids"] = cursor.fetchone()
    jobs = Job.objects.filter(kind="tests.insert_run")
    summary["statuses"] = dict(jobs.values_list("status").annotate(n=Count("pk")))
    summary["max_attempts_used"] = jobs.aggregate(m=Max("attempts"))["m"]
    summary["attempt_rows"] = JobAttempt.objects.filter(job__kind="tests.insert_run").count()
    summary["prune_runs"] = Job.objects.filter(
        kind="jobs.periodic", payload__name="jobs.prune_finished", status="succeeded"
    ).count()
    summary["hang_attempts"] = list(
        JobAttempt.objects.filter(job__kind="tests.hang_once")
        .order_by("number")
        .values_list("outcome", flat=True)
    )
    summary["hang_status"] = list(
        Job.objects.filter(kind="tests.hang_once").values_list("status", flat=True)
    )
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
