"""`aftercare store …` and `aftercare token …`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aftercare.stores import selectors
from aftercare.stores.models import ApiToken, Store

pytestmark = pytest.mark.django_db


def test_store_create_then_token_create_prints_a_working_token() -> None:
    out = StringIO()
    call_command(
        "store",
        "create",
        "--slug",
        "acme",
        "--name",
        "Acme",
        "--webhook-secret",
        "whsec-x",
        stdout=out,
    )
    assert "created store acme" in out.getvalue()
    store = Store.objects.get(slug="acme")
    assert store.webhook_secret == "whsec-x"
    out, err = StringIO(), StringIO()
    call_command("token", "create", "--store", "acme", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert selectors.store_for_token(token=token) == store
    assert "shown only this once" in err.getvalue()
    stored = ApiToken.objects.get()
    assert token not in (stored.token_hash, stored.prefix)


def test_duplicate_or_bad_slug_is_a_clear_error() -> None:
    call_command("store", "create", "--slug", "acme", "--name", "Acme", stdout=StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("store", "create", "--slug", "acme", "--name", "Again", stdout=StringIO())
    with pytest.raises(CommandError, match="lower-case"):
        call_command("store", "create", "--slug", "Not A Slug", "--name", "x", stdout=StringIO())


def test_token_for_unknown_store_and_revoke() -> None:
    with pytest.raises(CommandError, match="no store"):
        call_command("token", "create", "--store", "nope", stdout=StringIO())
    call_command("store", "create", "--slug", "acme", "--name", "Acme", stdout=StringIO())
    out = StringIO()
    call_command("token", "create", "--store", "acme", stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    prefix = ApiToken.objects.get().prefix
    call_command("token", "revoke", "--store", "acme", "--prefix", prefix, stdout=StringIO())
    assert selectors.store_for_token(token=token) is None


def test_webhook_secret_is_encrypted_at_rest(store: Store) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM stores_store WHERE id = %s", [store.pk])
        raw = cursor.fetchone()[0]
    assert raw and raw != store.webhook_secret and store.webhook_secret not in raw
