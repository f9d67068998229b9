"""`aftercare webhooks status --store S` and `aftercare webhooks replay --store S [--status dead]`:
see the inbox, and put deliveries back after a fix (they are applied again, idempotently)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from aftercare.core.errors import DomainError
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.ingest.webhooks import processing
from aftercare.stores import selectors


class Command(BaseCommand):
    help = "Inspect the webhook inbox of a store, or re-queue deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="deliveries by status, and the latest dead ones")
        status.add_argument("--store", required=True)
        replay = sub.add_parser("replay", help="re-queue deliveries (default: the dead ones)")
        replay.add_argument("--store", required=True)
        replay.add_argument(
            "--status",
            action="append",
            choices=[s.value for s in DeliveryStatus],
            help="statuses to re-queue (repeatable; default: dead)",
        )
        replay.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = selectors.get_store_by_slug(slug=options["store"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        deliveries = WebhookDelivery.objects.filter(store=store)
        if options["action"] == "status":
            for row in deliveries.values("status").annotate(n=Count("id")).order_by("status"):
                self.stdout.write(f"{row['status']:<10} {row['n']}")
            for dead in deliveries.filter(status=DeliveryStatus.DEAD).order_by("-id")[:10]:
                line = f"dead #{dead.pk} {dead.topic} {dead.resource_id}: {dead.outcome}"
                self.stdout.write(line)
            return
        statuses = options["status"] or [DeliveryStatus.DEAD]
        if options["dry_run"]:
            count = deliveries.filter(status__in=statuses).count()
            self.stdout.write(f"would re-queue {count} deliveries")
            return
        count = processing.requeue(store=store, statuses=statuses)
        self.stdout.write(f"re-queued {count} deliveries; the worker applies them next")
