"""`aftercare staff create --store S --email E [--password P] --role owner|manager|agent
[--language ko]` gives someone a role in a store (creating their login); `aftercare staff list
--store S` shows who works on it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftercare.core.errors import DomainError
from aftercare.stores import selectors, services
from aftercare.stores.models import StaffMembership, StaffRole


class Command(BaseCommand):
    help = "Add staff to a store (creating their login) or list a store's staff."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--store", required=True, help="store slug")
        create.add_argument("--email", required=True, help="their email (also the username)")
        create.add_argument(
            "--password", help="their password; omit to let them set one by password reset"
        )
        create.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
        create.add_argument(
            "--language", default="", choices=["", *(code for code, _ in settings.LANGUAGES)]
        )
        listing = sub.add_parser("list")
        listing.add_argument("--store", required=True, help="store slug")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = selectors.get_store_by_slug(slug=options["store"])
            if options["action"] == "list":
                members = StaffMembership.objects.filter(store=store).select_related("user")
                for m in members.order_by("role", "user__username"):
                    self.stdout.write(f"{m.user.get_username()}\t{m.role}")
                return
            membership = services.create_staff_member(
                store=store,
                email=options["email"],
                password=options["password"],
                role=StaffRole(options["role"]),
                language=options["language"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{membership.user.get_username()} is {membership.role} of store {store.slug}"
        )
