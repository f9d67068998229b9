"""`aftercare privacy export|erase`: answer a GDPR request from the command line.

    aftercare privacy export --store acme --email ann@example.com [--output ann.json]
    aftercare privacy erase --store acme --email ann@example.com --dry-run   # what would go
    aftercare privacy erase --store acme --email ann@example.com --yes

The export is JSON (to stdout unless --output). Erasure asks for the email again unless --yes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftercare.core.errors import DomainError
from aftercare.privacy import selectors
from aftercare.privacy import services as privacy_services
from aftercare.stores import selectors as store_selectors


class Command(BaseCommand):
    help = "Export or erase what a store holds about one email address (GDPR)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="everything held about the email, as JSON")
        export.add_argument("--store", required=True, help="the store's slug")
        export.add_argument("--email", required=True)
        export.add_argument("--output", help="write to this file instead of stdout")
        erase = sub.add_parser("erase", help="anonymise the person, keep the aggregates")
        erase.add_argument("--store", required=True, help="the store's slug")
        erase.add_argument("--email", required=True)
        erase.add_argument("--dry-run", action="store_true", help="only show what would go")
        erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = store_selectors.get_store_by_slug(slug=options["store"])
            if options["action"] == "export":
                data = privacy_services.export_customer_data(store=store, email=options["email"])
                text = json.dumps(data, indent=2, ensure_ascii=False)
                if options.get("output"):
                    Path(options["output"]).write_text(text + "\n", encoding="utf-8")
                    self.stdout.write(f"Wrote {options['output']}.")
                else:
                    self.stdout.write(text)
                return
            self._erase(store, options)
        except DomainError as exc:
            raise CommandError(str(exc)) from None

    def _erase(self, store: Any, options: dict[str, Any]) -> None:
        email = options["email"]
        held = selectors.holdings(store=store, email=email)
        for part, count in held.items():
            self.stdout.write(f"  {part:<20} {count}")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
            return
        if not options["yes"]:
            typed = input(f"Type the email again to erase it from {store.slug}: ")
            if typed.strip().lower() != email.strip().lower():
                raise CommandError("The emails do not match; nothing was erased.")
        result = privacy_services.erase_customer(store=store, email=email, channel="cli")
        if not result.erased:
            self.stdout.write(
                f"Nothing left to erase; erased before on {result.record.erased_at:%Y-%m-%d}."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased: {result.rows_changed} rows anonymised (record #{result.record.pk})."
            )
        )
        self.stdout.write(
            "Erase the person in WooCommerce too (Tools → Erase Personal Data), or the next "
            "sync brings their data back."
        )
