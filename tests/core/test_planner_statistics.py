"""SQLite gets planner statistics from the worker (it has no autovacuum)."""

from __future__ import annotations

import pytest
from django.db import connection

from aftercare.core import planner_statistics
from aftercare.jobs import worker


def test_the_worker_refreshes_statistics_periodically() -> None:
    assert worker.periodics()["db.planner_statistics"].fn is planner_statistics.refresh


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_refresh_writes_sqlite_statistics(store: object) -> None:
    planner_statistics.refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        (rows,) = cursor.fetchone()
    assert rows > 0
