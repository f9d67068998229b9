"""Importing a file of orders into the mirror.

    run = service.import_orders(store=store, path=Path("orders.ndjson"))
    run.orders_applied, run.rows_rejected, run.rejections[:3]

Every order goes through `woo_mapping.parse_order` and `mirror.apply_orders` (source "import",
backfill=True: flows see history, not news), so an import behaves like a replay of the shop's
webhooks: re-running a file changes nothing, a newer `date_modified` wins. Bad rows are rejected
with their line and a reason and never stop the rest of the file.

Each batch lands in one transaction together with the `ImportRun` counters, so after a crash
the run row and the mirror agree on what was imported: whole batches, a prefix of the file.
Between batches the write lock is released, so webhooks keep flowing during a long import."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from django.db import DataError, IntegrityError, connection, transaction

from aftercare.core import clock, planner_statistics
from aftercare.core.errors import InvalidInput
from aftercare.ingest import mirror
from aftercare.ingest.file_import import parsing, readers
from aftercare.ingest.file_import.readers import Rejection
from aftercare.ingest.models import ImportRun
from aftercare.ingest.woo_records import OrderRecord
from aftercare.stores.models import Store

MAX_STORED_REJECTIONS = 1000
# A parse worker takes parsing (json.loads + parse_order + checks, ~130 µs/order) off the
# importing process, which then only writes (~160 µs/order); the records come back pickled
# (~66 µs/order in the worker, ~13 in the importer, see parsing._DISPATCH). On 2 cores, 100k
# generated orders on SQLite: 33.1 s inline, 25.4 s with one worker, for ~35 % more CPU in total.
# So: one worker for files of 32 MB and more (a few thousand orders) when there are 2 cores.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
PARALLEL_MIN_CORES = 2
# SQLite, for the importing connection only and restored afterwards: a bigger page cache (the
# indexes of a million orders do not fit the default 64 MB) and rarer WAL checkpoints (each
# copies the hot index pages again). synchronous stays NORMAL: a crash loses no committed batch.
_SQLITE_IMPORT_PRAGMAS = {"cache_size": -262144, "wal_autocheckpoint": 10000}
# PostgreSQL, per batch transaction: commit without waiting for the WAL flush. A crash of the
# server can lose the last batches committed within ~0.6 s (never corrupt or half-apply one: the
# run's counters are in the same transaction, so run and mirror still agree and a re-run
# imports what is missing); other sessions keep their durable commits.
_PG_BATCH = "SET LOCAL synchronous_commit = off"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class ImportProgress:
    """What the import has done so far; passed to `progress` after every batch and at the end."""

    file_format: str
    bytes_total: int
    bytes_done: int = 0
    rows_read: int = 0
    rows_rejected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # mirror outcomes per order
    orders_valid: int = 0  # dry run: orders that parsed and would be applied
    ignored_columns: tuple[str, ...] = ()
    dry_run: bool = False


@dataclass
class _Delta:
    """Counters of one transaction; added to the run only once that transaction committed."""

    rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


def _analyze_mirror() -> None:
    """Refresh PostgreSQL's statistics of the tables an import grows. Autovacuum usually does
    this, but not fast enough during a bulk load (and not at all where it is turned off): with
    stale statistics ("the table is empty") the planner reads the batch's existing orders with a
    sequential scan instead of the unique index, and each batch costs more than the last."""
    from aftercare.customers.models import Customer
    from aftercare.events.models import Event
    from aftercare.orders.models import LineItem, Order, OrderStatusChange

    with connection.cursor() as cursor:
        for model in (Order, LineItem, OrderStatusChange, Customer, Event):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class _Importer:
    def __init__(self, *, run: ImportRun, store: Store, progress: ImportProgress) -> None:
        self.run, self.store, self.state = run, store, progress
        self.landed = 0  # batches

    def after_batch(self) -> None:
        """On PostgreSQL, ANALYZE after batches 1, 4, 16, 64, … (the tables have grown about
        fourfold each time; the cost stays a small, shrinking share of the import)."""
        self.landed += 1
        if connection.vendor == "postgresql" and self.landed & (self.landed - 1) == 0 and (
            self.landed.bit_length() % 2 == 1
        ):
            _analyze_mirror()

    def fields(self, delta: _Delta) -> dict[str, object]:
        """The run's counters once `delta` is added."""
        run = self.run
        room = max(MAX_STORED_REJECTIONS - len(run.rejections), 0)
        new = [rejection.as_json() for rejection in delta.rejections[:room]]
        fields: dict[str, object] = {
            "rows_read": run.rows_read + delta.rows,
            "rows_rejected": run.rows_rejected + sum(r.rows for r in delta.rejections),
            "orders_applied": run.orders_applied
            + delta.outcomes["created"]
            + delta.outcomes["updated"],
        }
        if new:  # the stored list only grows until it is full: rewrite it only then
            fields["rejections"] = [*run.rejections, *new]
        return fields

    def count(self, delta: _Delta, fields: dict[str, object]) -> None:
        """Take a landed (or, in a dry run, a parsed) delta into the run and the progress."""
        for name, value in fields.items():
            setattr(self.run, name, value)
        self.state.rows_read += delta.rows
        self.state.rows_rejected += sum(rejection.rows for rejection in delta.rejections)
        self.state.outcomes.update(delta.outcomes)

    def land(
        self, records: list[OrderRecord], lines: list[int], rows: list[int], delta: _Delta
    ) -> None:
        """Apply `records` and the run's counters in one transaction. A record the database
        refuses (a constraint our checks did not foresee) is found by halving the batch and
        rejected alone; the rest still lands."""
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # This batch's commit does not wait for its WAL flush (see _PG_BATCH).
                    with connection.cursor() as cursor:
                        cursor.execute(_PG_BATCH)
                if records:
                    result = mirror.apply_orders(
                        store=self.store, records=records, source="import", backfill=True
                    )
                    delta.outcomes.update(outcome.value for outcome in result.outcomes)
                fields = self.fields(delta)
                ImportRun.objects.filter(pk=self.run.pk).update(**fields)
        except (IntegrityError, DataError) as exc:
            delta.outcomes.clear()
            if len(records) <= 1:
                reason = f"the database refused it: {exc}"
                refused = Rejection(line=lines[0], reason=reason, rows=rows[0])
                delta.rejections.append(refused)
                self.land([], [], [], delta)
                return
            middle = len(records) // 2
            self.land(records[:middle], lines[:middle], rows[:middle], delta)
            self.land(records[middle:], lines[middle:], rows[middle:], _Delta())
            return
        self.count(delta, fields)
        self.after_batch()


def _workers(size: int, requested: int | None) -> int:
    if requested is not None:
        return requested
    cores = os.cpu_count() or 1
    return 1 if size >= PARALLEL_MIN_BYTES and cores >= PARALLEL_MIN_CORES else 0


@contextmanager
def _import_connection() -> Iterator[None]:
    """Tune the SQLite connection for a bulk write while the import runs, then put it back."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        before = {}
        for name, value in _SQLITE_IMPORT_PRAGMAS.items():
            cursor.execute(f"PRAGMA {name}")
            before[name] = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in before.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")


def import_orders(
    *,
    store: Store,
    path: Path,
    file_format: str | None = None,
    batch_size: int = 2000,
    progress: Callable[[ImportProgress], None] | None = None,
    dry_run: bool = False,
    parse_workers: int | None = None,
) -> ImportRun:
    """Import the orders in `path` (NDJSON or CSV, see docs/import-format.md) into `store`.

    Raises `ImportFileError` when the file cannot be read at all (missing, unknown format, bad
    CSV header); row problems are rejections on the returned run. With `dry_run` nothing is
    written: the returned run is unsaved and counts what would have been imported.
    `parse_workers`: processes that parse while this one writes; None decides by file size."""
    if batch_size < 1:
        raise InvalidInput(f"batch_size must be at least 1, got {batch_size}")
    source = readers.open_source(path, file_format=file_format)
    state = ImportProgress(
        file_format=source.file_format,
        bytes_total=source.size,
        ignored_columns=source.columns.ignored if source.columns else (),
        dry_run=dry_run,
    )
    run = ImportRun(
        store=store,
        filename=str(path)[-500:],
        file_format=source.file_format,
        started_at=clock.now(),
        status=RunStatus.RUNNING,
    )
    if not dry_run:
        run.save()
    importer = _Importer(run=run, store=store, progress=state)
    chunks = parsing.parsed_chunks(
        source.chunks(orders_per_chunk=batch_size),
        file_format=source.file_format,
        columns=source.columns,
        workers=_workers(source.size, parse_workers),
    )
    try:
        with closing(chunks), _import_connection():
            for parsed in chunks:
                delta = _Delta(rows=parsed.rows, rejections=parsed.rejections)
                if dry_run:
                    importer.count(delta, importer.fields(delta))
                    state.orders_valid += len(parsed.records)
                else:
                    importer.land(parsed.records, parsed.lines, parsed.row_counts, delta)
                state.bytes_done = parsed.end_offset
                if progress is not None:
                    progress(state)
    except BaseException:
        if not dry_run:
            ImportRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, finished_at=clock.now()
            )
        raise
    run.status, run.finished_at = RunStatus.SUCCEEDED, clock.now()
    if not dry_run:
        run.save(update_fields=["status", "finished_at"])
        if importer.landed:
            planner_statistics.refresh()  # SQLite; PostgreSQL was analysed along the way
    state.bytes_done = state.bytes_total
    if progress is not None:
        progress(state)
    return run
