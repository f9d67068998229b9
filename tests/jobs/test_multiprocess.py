"""Real worker processes sharing one database: every job runs exactly once.

The workers are `aftercare worker --drain` subprocesses (via `tests.jobs.mp_runner`, which
registers the test handlers first) against a scratch database of the suite's engine: a file
SQLite database (WAL, IMMEDIATE transactions) or a throwaway PostgreSQL database (SKIP LOCKED).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jobs.conftest import REPO_ROOT, run_module

JOBS = 150
WORKERS = 3


def _runner(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    return run_module(env, "tests.jobs.mp_runner", *args, timeout=timeout)


@pytest.mark.slow
def test_concurrent_workers_run_every_job_exactly_once(
    scratch_db: dict[str, str], tmp_path: Path
) -> None:
    _runner(scratch_db, "setup", str(JOBS), "0.005")
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.jobs.mp_runner", "worker", str(go)],
            env=scratch_db,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    go.touch()
    outputs = []
    for process in workers:
        out, _ = process.communicate(timeout=120)
        outputs.append(out)
        assert process.returncode == 0, out

    report = json.loads(_runner(scratch_db, "report"))

    assert report["runs"] == JOBS, outputs  # no job ran twice...
    assert report["distinct_jobs"] == JOBS  # ...and none was skipped
    assert report["statuses"] == {"succeeded": JOBS}
    assert report["max_attempts_used"] == 1
    assert report["attempt_rows"] == JOBS
    assert report["pids"] >= 2, "the workers did not actually compete"
    assert report["prune_runs"] == 1  # a periodic schedule: once across all the workers
    drained = [line for out in outputs for line in out.splitlines() if line.startswith("drained")]
    assert len(drained) == WORKERS


@pytest.mark.slow
def test_a_killed_workers_job_is_recovered_by_another_after_its_lease(
    scratch_db: dict[str, str], tmp_path: Path
) -> None:
    env = {**scratch_db, "AFTERCARE_JOBS_LEASE_SECONDS": "1"}
    marker = tmp_path / "started"
    _runner(env, "hang", str(marker))
    tmp_path.joinpath("go").touch()
    doomed = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.jobs.mp_runner", "worker", str(tmp_path / "go")],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert doomed.poll() is None, "the first worker exited before hanging"
            assert time.monotonic() < deadline, "the first worker never started the job"
            time.sleep(0.05)
    finally:
        doomed.send_signal(signal.SIGKILL)  # no chance to clean up, like a lost machine
        doomed.wait(timeout=10)
    time.sleep(1.2)  # let the 1 s lease run out

    _runner(env, "worker", str(tmp_path / "go"))
    report = json.loads(_runner(env, "report"))

    assert report["hang_attempts"] == ["lost", "succeeded"]
    assert report["hang_status"] == ["succeeded"]
    assert report["runs"] == 1
