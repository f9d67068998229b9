"""`aftercare woocommerce connect|sync|webhooks`: connect a store to its shop, pull its data,
and see the webhooks the shop holds for us.

    aftercare woocommerce connect --store acme --url https://shop.example \\
        --consumer-key ck_… --consumer-secret -          # '-' reads the secret from stdin
    aftercare woocommerce sync --store acme [--since 2026-01-01] [--resources orders,customers]
    aftercare woocommerce webhooks --store acme

Lives in `ingest` (not `stores`) because `sync` needs `ingest.sync` and the layer contract lets
only ingest and above import it. Secrets are never printed; failures exit with status 1 and the
plain-language error.
"""

from __future__ import annotations

import getpass
import sys
import time
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from aftercare.core.errors import DomainError
from aftercare.ingest import sync
from aftercare.ingest.models import SyncRun
from aftercare.stores import connection, selectors
from aftercare.stores.models import Store


def parse_since(value: str) -> datetime:
    """YYYY-MM-DD or an ISO 8601 date-time; without an offset it is UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(f"--since {value!r}: use YYYY-MM-DD or an ISO date-time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class Command(BaseCommand):
    help = "Connect a store to WooCommerce, sync its data, or list its webhooks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        connect = sub.add_parser("connect", help="check REST API keys and register webhooks")
        connect.add_argument("--store", required=True, help="the store's slug")
        connect.add_argument("--url", required=True, help="the shop's address")
        connect.add_argument("--consumer-key", required=True, help="ck_… ('-' to type it)")
        connect.add_argument("--consumer-secret", required=True, help="cs_… ('-' to type it)")
        connect.add_argument(
            "--no-webhooks", action="store_true", help="only save the keys (read-only keys)"
        )
        pull = sub.add_parser("sync", help="pull customers, products, orders, coupons, reviews")
        pull.add_argument("--store", required=True)
        pull.add_argument("--since", help="only what changed after this date (YYYY-MM-DD|ISO)")
        pull.add_argument(
            "--resources",
            default=",".join(sync.RESOURCES),
            help=f"comma-separated, from {','.join(sync.RESOURCES)}",
        )
        hooks = sub.add_parser("webhooks", help="the shop's webhooks pointing at Aftercare")
        hooks.add_argument("--store", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = selectors.get_store_by_slug(slug=options["store"])
            if options["action"] == "connect":
                self._connect(store, options)
            elif options["action"] == "sync":
                self._sync(store, options)
            else:
                self._webhooks(store)
        except DomainError as exc:
            raise CommandError(str(exc)) from None

    def _secret(self, value: str, prompt: str) -> str:
        if value != "-":
            return value
        if sys.stdin.isatty():
            return getpass.getpass(prompt)
        return sys.stdin.readline().strip()

    def _connect(self, store: Store, options: dict[str, Any]) -> None:
        key = self._secret(options["consumer_key"], "Consumer key: ")
        secret = self._secret(options["consumer_secret"], "Consumer secret: ")
        connection.connect_woocommerce(
            store=store,
            url=options["url"],
            consumer_key=key,
            consumer_secret=secret,
            register_webhooks=not options["no_webhooks"],
            report=self.stdout.write,
        )
        self.stdout.write(self.style.SUCCESS(f"Store {store.slug} is connected."))
        self.stdout.write(f"Next: aftercare woocommerce sync --store {store.slug}")

    def _sync(self, store: Store, options: dict[str, Any]) -> None:
        since = parse_since(options["since"]) if options.get("since") else None
        resources = [r.strip() for r in options["resources"].split(",") if r.strip()]
        bars: dict[str, tqdm[Any]] = {}

        def progress(resource: str, done: int, total: int | None) -> None:
            bar = bars.get(resource)
            if bar is None:
                bar = bars[resource] = tqdm(desc=resource, total=total, unit=" obj", disable=None)
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        what = f"changes since {since:%Y-%m-%d %H:%M} UTC" if since else "everything"
        self.stdout.write(f"Syncing {', '.join(resources)} of {store.slug} ({what})…")
        started = time.monotonic()
        try:
            run = sync.sync_store(store=store, since=since, resources=resources, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        self._summary(run, seconds=time.monotonic() - started)

    def _summary(self, run: SyncRun, *, seconds: float) -> None:
        for resource in sync.RESOURCES:
            counts = run.counts.get(resource)
            if not counts:
                continue
            parts = ", ".join(f"{counts.get(k, 0)} {k}" for k in counts)
            self.stdout.write(f"  {resource:<10} {parts}")
        for bad in run.counts.get("rejected_objects", [])[:10]:
            self.stdout.write(f"  could not read {bad['resource']} {bad['id']}: {bad['reason']}")
        self.stdout.write(self.style.SUCCESS(f"Sync run #{run.pk} {run.status} in {seconds:.1f}s."))

    def _webhooks(self, store: Store) -> None:
        url = connection.webhook_delivery_url(store=store)
        hooks = connection.list_shop_webhooks(store=store)
        if not hooks:
            self.stdout.write(f"No webhooks in the shop point at {url}.")
            self.stdout.write(
                f"Register them: aftercare woocommerce connect --store {store.slug} …"
            )
            return
        self.stdout.write(f"Webhooks delivering to {url}:")
        for hook in hooks:
            note = "" if hook.registered else "  (secret unknown: run connect again)"
            if hook.delivery_url.rstrip("/") != url.rstrip("/"):
                note += f"  (delivers to {hook.delivery_url})"
            self.stdout.write(f"  #{hook.woo_id:<6} {hook.topic:<18} {hook.status:<9}{note}")
        inactive = [h for h in hooks if h.status != "active"]
        if inactive:
            self.stdout.write(
                f"{len(inactive)} not active; the periodic reconcile re-activates disabled ones, "
                "'connect' re-registers missing ones."
            )
