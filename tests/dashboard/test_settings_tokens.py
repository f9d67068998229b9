"""API tokens (owners only): a new token is shown once and works against the API; the list
shows prefix, name, dates and status; revoking needs a POST; another store's token is a 404."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from aftercare.stores import services as store_services
from aftercare.stores.models import ApiToken, StaffRole, Store
from tests.dashboard.test_settings_support import post_with_token, signed_in

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/settings/tokens/"


@pytest.fixture
def owner(store: Store) -> Client:
    return signed_in(store, StaffRole.OWNER)


def test_a_new_token_is_shown_once(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    owner = signed_in(store, StaffRole.OWNER, csrf=True)
    with caplog.at_level(logging.DEBUG):
        response = post_with_token(owner, PAGE, PAGE, {"name": "ERP sync"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    token = re.search(r'id="new-token" value="(ac_[^"]+)"', page)
    assert token, page
    secret = token.group(1)
    assert "shown only this once" in page
    record = ApiToken.objects.get(store=store)
    assert record.name == "ERP sync" and secret.startswith(record.prefix)
    assert secret not in record.token_hash
    assert secret not in caplog.text  # never logged
    # It works against the API...
    api = Client().get("/api/v1/store", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.json()["slug"] == store.slug
    # ...and is never shown again.
    again = owner.get(PAGE).content.decode()
    assert secret not in again
    assert record.prefix in again and "ERP sync" in again


def test_a_token_needs_a_name(owner: Client) -> None:
    page = owner.post(PAGE, {"name": ""}).content.decode()
    assert "This field is required." in page
    assert not ApiToken.objects.exists()


def test_revoke(owner: Client, store: Store) -> None:
    issued = store_services.create_api_token(store=store, name="old")
    assert owner.get(f"{PAGE}{issued.record.pk}/revoke/").status_code == 405  # POST only
    response = owner.post(f"{PAGE}{issued.record.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    issued.record.refresh_from_db()
    assert issued.record.revoked_at is not None
    api = Client().get("/api/v1/store", headers={"Authorization": f"Bearer {issued.token}"})
    assert api.status_code == 401


def test_another_stores_tokens_are_invisible_and_404(
    owner: Client, store: Store, other_store: Store
) -> None:
    theirs = store_services.create_api_token(store=other_store, name="globex-secret-name")
    assert "globex-secret-name" not in owner.get(PAGE).content.decode()
    assert owner.post(f"{PAGE}{theirs.record.pk}/revoke/").status_code == 404
    theirs.record.refresh_from_db()
    assert theirs.record.revoked_at is None


def test_token_names_are_escaped(owner: Client, store: Store) -> None:
    store_services.create_api_token(store=store, name="<img src=x onerror=alert(1)>")
    page = owner.get(PAGE).content.decode()
    assert "<img src=x onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
