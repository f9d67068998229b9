"""Asking for an export, building its file in the worker, and cleaning up.

    export = services.request_customer_export(store=s, requested_by_id=u.pk,
                                              filters=filters, include_money=True)
    # the job `exports.build` calls build(export_id=…); the page polls export.percent

Files live in settings.DATA_DIR / "exports" under a random name (never a name from the
request) and are deleted 24 hours after they were finished (`purge_expired`, hourly)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from aftercare.analytics import customer_directory
from aftercare.analytics.customer_directory import DirectoryFilters
from aftercare.core import clock
from aftercare.exports import customer_csv
from aftercare.exports.models import Export, ExportKind, ExportStatus
from aftercare.stores.models import Store

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(hours=24)
# Up to this many rows the dashboard streams the file in the request; above, a job builds it.
INLINE_LIMIT = 2000
PROGRESS_EVERY = 1000  # rows between progress writes


def exports_dir() -> Path:
    return Path(settings.DATA_DIR) / "exports"


@transaction.atomic
def request_customer_export(
    *, store: Store, requested_by_id: int | None, filters: DirectoryFilters, include_money: bool
) -> Export:
    """An export row and its job, in one transaction."""
    from aftercare.exports.handlers import build_export  # handlers import this module

    export = Export.objects.create(
        store=store,
        kind=ExportKind.CUSTOMERS,
        requested_by_id=requested_by_id,
        filters=filters.to_params(),
        include_money=include_money,
        created_at=clock.now(),
    )
    build_export.enqueue(store_id=store.pk, export_id=export.pk, dedupe_key=f"export:{export.pk}")
    return export


def build(*, export_id: int) -> None:
    """Write the export's file from scratch (a retried job starts over) and mark it done.

    A failure marks the export failed with its reason and is not retried: staff see it and ask
    again."""
    export = Export.objects.select_related("store").filter(pk=export_id).first()
    if export is None or not export.in_progress:
        return  # done, failed or expired already: a replayed job changes nothing
    filters, _problems = customer_directory.parse_filters(export.filters)
    store = export.store
    now = clock.now()
    total = customer_directory.customers(store=store, filters=filters).count()
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=now, rows_total=total, rows_done=0, error=""
    )
    directory = exports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"customers-{store.pk}-{export.pk}-{secrets.token_hex(8)}.csv"
    partial = directory / f"{name}.part"
    try:
        written = _write(partial, export=export, store=store, filters=filters, total=total)
        partial.replace(directory / name)
    except Exception as error:
        log.exception("export %s failed", export.pk)
        partial.unlink(missing_ok=True)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:500],
            finished_at=clock.now(),
        )
        return
    finished = clock.now()
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.DONE,
        rows_done=written,
        rows_total=written,
        file_name=name,
        file_size=(directory / name).stat().st_size,
        finished_at=finished,
        expires_at=finished + KEEP_FOR,
    )


def _write(
    path: Path, *, export: Export, store: Store, filters: DirectoryFilters, total: int
) -> int:
    written = 0

    def progress(rows: int) -> None:
        nonlocal written
        written = rows
        if rows % PROGRESS_EVERY == 0 or rows >= total:
            # The customer count may grow while we write; the bar never passes the total.
            Export.objects.filter(pk=export.pk).update(rows_done=min(rows, total))

    with path.open("w", encoding="utf-8", newline="") as out:
        for text in customer_csv.lines(
            store=store, filters=filters, include_money=export.include_money, progress=progress
        ):
            out.write(text)
    return written


def inline_lines(
    *, store: Store, filters: DirectoryFilters, include_money: bool
) -> tuple[int, Iterator[str]] | None:
    """The CSV lines when the export is small enough to stream in the request, else None."""
    total = customer_directory.customers(store=store, filters=filters).count()
    if total > INLINE_LIMIT:
        return None
    return total, customer_csv.lines(store=store, filters=filters, include_money=include_money)


def file_of(*, export: Export) -> Path | None:
    """The finished file, or None if it is not ready, expired or gone."""
    if export.status != ExportStatus.DONE or not export.file_name:
        return None
    if export.expires_at is not None and export.expires_at <= clock.now():
        return None
    path = exports_dir() / Path(export.file_name).name
    return path if path.is_file() else None


def purge_expired() -> int:
    """Delete the files of exports past their 24 hours; returns how many."""
    now = clock.now()
    purged = 0
    for export in Export.objects.filter(status=ExportStatus.DONE, expires_at__lte=now):
        if export.file_name:
            (exports_dir() / Path(export.file_name).name).unlink(missing_ok=True)
        Export.objects.filter(pk=export.pk).update(status=ExportStatus.EXPIRED, file_name="")
        purged += 1
    return purged
