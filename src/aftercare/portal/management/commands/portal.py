"""`aftercare portal link --store S --email E --purpose preferences|order [--order N]` prints a
signed link to a customer's page (for staff answering a customer, and for tests).

The link is a credential for that customer's page: hand it only to that customer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftercare.core.errors import DomainError
from aftercare.portal import services
from aftercare.portal.selectors import ORDER, PREFERENCES
from aftercare.stores import selectors as store_selectors


class Command(BaseCommand):
    help = "Customer pages: print a signed link to a customer's page."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        link = sub.add_parser("link", help="print a signed link for a customer")
        link.add_argument("--store", required=True, help="store slug")
        link.add_argument("--email", required=True, help="the customer's email")
        link.add_argument("--purpose", required=True, choices=[PREFERENCES, ORDER])
        link.add_argument("--order", help="order number (for --purpose order)")
        link.add_argument(
            "--ttl-days", type=int, help="lifetime in days (default: the purpose's own)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ttl_days = options["ttl_days"]
        if ttl_days is not None and ttl_days < 1:
            raise CommandError("--ttl-days must be at least 1")
        try:
            store = store_selectors.get_store_by_slug(slug=options["store"])
            url = services.issue_link(
                store=store,
                email=options["email"],
                purpose=options["purpose"],
                order_number=options["order"],
                ttl=timedelta(days=ttl_days) if ttl_days else None,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(url)
