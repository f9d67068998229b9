"""`aftercare analytics rebuild --store S` — recompute a store's figures from its mirror (after
a bug fix, a restore, or to check the incremental refresh); `--all` does every store.
`aftercare analytics refresh` — apply the new events now instead of waiting for the worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from aftercare.analytics import rebuild, refresh
from aftercare.events import high_water
from aftercare.stores.models import Store


class Command(BaseCommand):
    help = "Rebuild or refresh the analytics figures (daily aggregates, customer stats, RFM)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild_parser = sub.add_parser("rebuild", help="full recompute from the mirror")
        which = rebuild_parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--store", help="store slug")
        which.add_argument("--all", action="store_true", help="every store")
        sub.add_parser("refresh", help="apply new events now (what the worker does each minute)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "refresh":
            self._refresh()
            return
        if options["all"]:
            stores = list(Store.objects.order_by("slug"))
        else:
            store = Store.objects.filter(slug=options["store"]).first()
            if store is None:
                raise CommandError(f"no store with slug {options['store']!r}")
            stores = [store]
        for store in stores:
            self._rebuild(store)

    def _rebuild(self, store: Store) -> None:
        with tqdm(desc=f"{store.slug}: orders", unit=" orders", disable=None) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            result = rebuild.rebuild_store(store=store, progress=progress)
        self.stdout.write(
            f"{store.slug}: {result.orders} orders, {result.customers} customers, "
            f"{result.days} days rebuilt in {result.seconds:.1f} s"
        )

    def _refresh(self) -> None:
        steps = high_water.catch_up()
        store_ids = set().union(*(step.store_ids for step in steps))
        for step in steps:
            refresh.mark_quiet_stores_current(step=step)
        up_to = steps[-1].high_water
        read = 0
        for store in Store.objects.filter(pk__in=store_ids).order_by("slug"):
            read += refresh.refresh_store(store=store, up_to=up_to)
        self.stdout.write(f"{len(store_ids)} stores refreshed ({read} events) up to event {up_to}")
