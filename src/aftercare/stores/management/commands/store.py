"""`aftercare store create --slug S --name N [--webhook-secret X] [--currency USD]
[--time-zone TZ]`, `aftercare store list`, and `aftercare store configure --store S
[--consent-mode opt-in|opt-out] [--cap-hours N] [--quiet-hours 21:00-08:00]` (the never-spam
settings, with the dashboard settings page's rules: `settings_services.update_store_settings`)."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftercare.core.errors import DomainError
from aftercare.stores import selectors, services, settings_services
from aftercare.stores.models import ConsentMode, Store


def quiet_hours(value: str) -> tuple[datetime.time, datetime.time]:
    """Parse "21:00-08:00" into (21:00, 08:00); the window may wrap midnight."""
    try:
        start, end = (datetime.time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: give local times as HH:MM-HH:MM, e.g. 21:00-08:00"
        ) from None
    return start, end


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
        configure = sub.add_parser(
            "configure", help="consent mode, frequency cap, quiet hours, attribution"
        )
        configure.add_argument("--store", required=True, help="store slug")
        configure.add_argument(
            "--consent-mode",
            choices=ConsentMode.values,
            help="opt-in: marketing only to who said yes; opt-out: buyers until they unsubscribe",
        )
        configure.add_argument(
            "--cap-hours",
            type=int,
            help="at most one marketing message per customer per N hours (0: no cap)",
        )
        configure.add_argument(
            "--quiet-hours",
            type=quiet_hours,
            metavar="HH:MM-HH:MM",
            help="no marketing in this window of the customer's local time, e.g. 21:00-08:00",
        )
        configure.add_argument(
            "--attribution-days",
            type=int,
            help="credit a flow with orders placed within N days of a click on its message",
        )
        configure.add_argument(
            "--attribution-opens",
            choices=["yes", "no"],
            help="whether opens (not only clicks) earn a flow credit (default: no)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "configure":
            self._configure(options)
            return
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

    def _configure(self, options: dict[str, Any]) -> None:
        fields: dict[str, Any] = {}
        if options["consent_mode"] is not None:
            fields["consent_mode"] = options["consent_mode"]
        if options["cap_hours"] is not None:
            fields["marketing_cap_hours"] = options["cap_hours"]
        if options["quiet_hours"] is not None:
            fields["quiet_hours_start"], fields["quiet_hours_end"] = options["quiet_hours"]
        if options["attribution_days"] is not None:
            fields["attribution_window_days"] = options["attribution_days"]
        if options["attribution_opens"] is not None:
            fields["attribution_counts_opens"] = options["attribution_opens"] == "yes"
        try:
            store = selectors.get_store_by_slug(slug=options["store"])
            if fields:
                store = settings_services.update_store_settings(store=store, **fields)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        cap = store.marketing_cap_hours
        self.stdout.write(
            f"{store.slug}: consent mode {store.consent_mode}, "
            + (f"at most one marketing message per {cap} h" if cap else "no frequency cap")
            + f", quiet hours {store.quiet_hours_start:%H:%M}-{store.quiet_hours_end:%H:%M}"
            + f", attribution {store.attribution_window_days} days after a click"
            + (" or open" if store.attribution_counts_opens else "")
            + ("" if fields else " (nothing changed)")
        )
