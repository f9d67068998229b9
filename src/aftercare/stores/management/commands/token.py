"""`aftercare token create --store S [--name N]` prints a new API token (shown once);
`aftercare token list --store S`; `aftercare token revoke --store S --prefix ac_1a2b3c4d`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftercare.core.errors import DomainError
from aftercare.stores import selectors, services
from aftercare.stores.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke API tokens of a store."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("create", "list", "revoke"):
            action = sub.add_parser(name)
            action.add_argument("--store", required=True, help="store slug")
            if name == "create":
                action.add_argument("--name", default="", help="what the token is for")
            if name == "revoke":
                action.add_argument("--prefix", required=True, help="the token's first characters")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = selectors.get_store_by_slug(slug=options["store"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if options["action"] == "create":
            issued = services.create_api_token(store=store, name=options["name"])
            # The token alone on stdout so scripts can capture it: TOKEN=$(aftercare token create …)
            self.stdout.write(issued.token)
            self.stderr.write(f"token for store {store.slug}; it is shown only this once")
        elif options["action"] == "list":
            for token in ApiToken.objects.filter(store=store).order_by("created_at"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(f"{token.prefix}…\t{token.name}\t{state}\t{token.last_used_at}")
        else:
            tokens = ApiToken.objects.filter(store=store, prefix=options["prefix"])
            if not tokens.exists():
                raise CommandError(f"no token starting {options['prefix']} in store {store.slug}")
            for token in tokens:
                services.revoke_api_token(token=token)
            self.stdout.write(f"revoked {tokens.count()} token(s)")
