"""Fixtures of the job tests: empty poller/periodic registries and call log per test, and a
scratch database for tests that start worker subprocesses (the suite's SQLite test database
lives in memory, where no other process can see it)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from aftercare.jobs import worker
from tests.jobs import handlers

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_slate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other apps register pollers and periodics in ready(); job tests start from none."""
    handlers.calls.clear()
    monkeypatch.setattr(worker, "_pollers", {})
    monkeypatch.setattr(worker, "_periodics", {})


@pytest.fixture
def scratch_db(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for subprocesses, pointing at a fresh, migrated database of the suite's
    engine (a temp SQLite file, or a throwaway PostgreSQL database dropped afterwards)."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_JOBS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "aftercare.settings",
        "PYTHONPATH": str(REPO_ROOT),
    }
    if db["ENGINE"] == "django.db.backends.sqlite3":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        run_cli(env, "migrate", "--no-input", "-v0")
        yield env
        return

    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"aftercare_scratch_{uuid.uuid4().hex[:10]}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    server = make_conninfo(
        host=host, port=port, user=db["USER"], password=db["PASSWORD"] or None, dbname="postgres"
    )
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env["DATABASE_URL"] = f"postgres://{auth}@{host}:{port}/{name}"
    try:
        run_cli(env, "migrate", "--no-input", "-v0")
        yield env
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run `aftercare <args>` in a subprocess; its stdout, or the failure with its output."""
    return run_module(env, "aftercare.cli", *args, timeout=timeout)


def run_module(env: dict[str, str], module: str, *args: str, timeout: float = 120) -> str:
    """Run `python -m <module> <args>` from the checkout; its stdout, or fail with its output."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{module} {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout
