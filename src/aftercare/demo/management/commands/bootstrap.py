"""`aftercare bootstrap`: make a fresh installation usable in one step — migrate, load the demo
store when the database is empty, and make sure someone can log in. Safe to run at every start.

The first owner's password is generated once and kept in `<data dir>/initial-password.txt`
(mode 0600) so later starts can remind you of it; change it with `aftercare changepassword owner`.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store

OWNER = "owner"


class Command(BaseCommand):
    help = "Migrate, load the demo store into an empty database, ensure a staff login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="never load the demo store")
        parser.add_argument("--demo-customers", type=int, default=1500)

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise looks there
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database is up to date")
        if not Store.objects.exists() and not options["no_demo"]:
            self.stdout.write("empty database: building the demo store (a few seconds)…")
            call_command("demo", store="demo", customers=options["demo_customers"])
        password = self._ensure_owner(data_dir)
        public = settings.PUBLIC_URL
        self.stdout.write("")
        self.stdout.write(f"  Dashboard: {public}/dashboard/   (admin: {public}/admin/)")
        if password:
            self.stdout.write(f"  Log in as: {OWNER} / {password}")
        else:
            self.stdout.write(f"  Log in as: {OWNER} (your own password)")
        self.stdout.write("")

    def _ensure_owner(self, data_dir: Path) -> str | None:
        user_model = get_user_model()
        secret_file = data_dir / "initial-password.txt"
        user = user_model.objects.filter(username=OWNER).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username=OWNER, email="", password=password)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        for store in Store.objects.all():
            store_services.add_staff(store=store, user=user, role=StaffRole.OWNER)
        if secret_file.exists() and user.check_password(secret_file.read_text().strip()):
            return secret_file.read_text().strip()
        return None
