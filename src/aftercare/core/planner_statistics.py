"""Keeping the database's query planner informed as tables grow.

PostgreSQL's autovacuum does it (where it is on). SQLite never does it by itself: without
statistics its planner walked a 300,000-customer index for every customer search (p95 1.45 s
on the benchmark store; 3-51 ms after ANALYZE). `refresh()` runs SQLite's recommended
`PRAGMA optimize` with a sampling limit, so it costs about a second even at a million orders;
the worker calls it periodically, the file import after a big load."""

from __future__ import annotations

from django.db import connection


def refresh() -> None:
    if connection.vendor != "sqlite":
        return  # PostgreSQL: autovacuum's job (the import also ANALYZEs as tables grow)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")
