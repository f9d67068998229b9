"""`aftercare privacy export|erase` from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aftercare.customers.models import Customer
from aftercare.privacy.models import ErasureRecord
from aftercare.stores.models import Store
from tests.privacy.factories import mirror_person

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("privacy", *args, stdout=out)
    return out.getvalue()


def test_export_prints_json_or_writes_a_file(store: Store, tmp_path: Path) -> None:
    mirror_person(store, email="ann@example.com", first_name="Ann", last_name="Zed")
    data = json.loads(run("export", "--store", "acme", "--email", "ann@example.com"))
    assert data["data"]["customers"][0]["last_name"] == "Zed"
    target = tmp_path / "ann.json"
    assert "Wrote" in run(
        "export", "--store", "acme", "--email", "ann@example.com", "--output", str(target)
    )
    assert json.loads(target.read_text())["email"] == "ann@example.com"


def test_erase_dry_run_changes_nothing_then_yes_erases(store: Store) -> None:
    mirror_person(store, email="ann@example.com", first_name="Ann", last_name="Zed")
    out = run("erase", "--store", "acme", "--email", "ann@example.com", "--dry-run")
    assert "orders" in out and "Dry run" in out
    assert Customer.objects.filter(email="ann@example.com").exists()
    out = run("erase", "--store", "acme", "--email", "ann@example.com", "--yes")
    assert "Erased" in out and "WooCommerce" in out
    assert not Customer.objects.filter(email="ann@example.com").exists()
    assert ErasureRecord.objects.get().channel == "cli"
    again = run("erase", "--store", "acme", "--email", "ann@example.com", "--yes")
    assert "Nothing left to erase" in again


def test_erase_asks_for_the_email_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror_person(store, email="ann@example.com", first_name="Ann", last_name="Zed")
    monkeypatch.setattr("builtins.input", lambda prompt: "someone@else.com")
    with pytest.raises(CommandError, match="do not match"):
        run("erase", "--store", "acme", "--email", "ann@example.com")
    assert Customer.objects.filter(email="ann@example.com").exists()


def test_unknown_store_and_bad_email_are_clear_errors(store: Store) -> None:
    with pytest.raises(CommandError, match="no store"):
        run("export", "--store", "nope", "--email", "ann@example.com")
    with pytest.raises(CommandError, match="not an email"):
        run("export", "--store", "acme", "--email", "ann")
