"""`aftercare store create --slug S --name N [--webhook-secret X] [--currency USD] [--time-zone TZ]`
and `aftercare store list`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftercare.core.errors import DomainError
from aftercare.stores import services
from aftercare.stores.models import Store


class Command(BaseCommand):
    help = "Create or list stores (the tenants)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a store")
        create.add_argument("--slug", required=True, help="lower-case id used in URLs")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--webhook-secret",
            help="secret of webhooks you create by hand in WooCommerce (default: generated)",
        )
        create.add_argument("--currency", default="USD")
        create.add_argument("--time-zone", default="UTC")
        create.add_argument("--locale", default="en", choices=["en", "ko", "ja"])
        sub.add_parser("list", help="list stores")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for store in Store.objects.order_by("slug"):
                self.stdout.write(
                    f"{store.slug}\t{store.name}\t{store.currency}\t{store.time_zone}"
                )
            return
        try:
            store = services.create_store(
                slug=options["slug"],
                name=options["name"],
                webhook_secret=options["webhook_secret"],
                currency=options["currency"],
                time_zone=options["time_zone"],
                default_locale=options["locale"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"created store {store.slug} ({store.name})")
