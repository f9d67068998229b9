# ruff: noqa: N999 - the module name is the command's name: `aftercare import orders …`
"""`aftercare import orders FILE --store SLUG`: load order history from a file.

    aftercare import orders export.ndjson --store acme
    aftercare import orders orders.csv --store acme --batch-size 5000
    aftercare import orders orders.csv --store acme --dry-run      # validate only

Exit code 0 when the file was read (rejected rows are listed, with their line and reason, and
counted in the summary); 1 when nothing could be read (no such store or file, unknown format,
unusable CSV header). The formats are documented in docs/import-format.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from aftercare.core.errors import DomainError
from aftercare.ingest.file_import import readers
from aftercare.ingest.file_import import service as file_import
from aftercare.ingest.models import ImportRun
from aftercare.stores import selectors as store_selectors


class Command(BaseCommand):
    help = "Import order history from an NDJSON (WooCommerce REST orders) or CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("resource", choices=["orders"], help="what the file holds")
        parser.add_argument("file", type=Path)
        parser.add_argument("--store", required=True, help="the store's slug")
        parser.add_argument(
            "--format", choices=readers.FORMATS, help="default: from the file's extension"
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="orders per transaction")
        parser.add_argument(
            "--dry-run", action="store_true", help="parse and validate only; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=1)
        started = time.perf_counter()
        bar = tqdm(
            total=0, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
            disable=not sys.stderr.isatty(), desc=options["file"].name,
        )  # fmt: skip
        last: list[file_import.ImportProgress] = []

        def progress(state: file_import.ImportProgress) -> None:
            bar.total = state.bytes_total
            bar.update(state.bytes_done - bar.n)
            bar.set_postfix(rows=state.rows_read, rejected=state.rows_rejected, refresh=False)
            last[:] = [state]

        try:
            store = store_selectors.get_store_by_slug(slug=options["store"])
            run = file_import.import_orders(
                store=store,
                path=options["file"],
                file_format=options["format"],
                batch_size=options["batch_size"],
                progress=progress,
                dry_run=options["dry_run"],
            )
        except DomainError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        finally:
            bar.close()
        self._summary(run, last[0], seconds=time.perf_counter() - started)

    def _summary(
        self, run: ImportRun, state: file_import.ImportProgress, *, seconds: float
    ) -> None:
        rate = state.rows_read / seconds if seconds > 0 else 0.0
        what = "Checked" if state.dry_run else f"Imported (run #{run.pk})"
        self.stdout.write(
            f"{what} {run.filename}: {state.file_format}, {state.rows_read:,} rows "
            f"in {seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        if state.dry_run:
            self.stdout.write(f"  dry run: {state.orders_valid:,} orders valid, nothing written")
        else:
            counts = ", ".join(
                f"{state.outcomes[o]:,} {o}" for o in ("created", "updated", "unchanged", "stale")
            )
            self.stdout.write(f"  orders: {counts}")
        if state.ignored_columns:
            self.stdout.write(f"  ignored columns: {', '.join(state.ignored_columns)}")
        if not state.rows_rejected:
            self.stdout.write(self.style.SUCCESS("  no rows rejected"))
            return
        stored = run.rejections
        rows = "row" if state.rows_rejected == 1 else "rows"
        capped = f" (the first {len(stored):,} are listed)" if len(stored) >= 1000 else ""
        self.stdout.write(self.style.WARNING(f"  {state.rows_rejected:,} {rows} rejected{capped}:"))
        for rejection in stored:
            self.stdout.write(f"  line {rejection['line']}: {rejection['reason']}")
