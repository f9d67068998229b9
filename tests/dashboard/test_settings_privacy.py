"""The privacy page: look up an email (POST only), see the counts, download the JSON export,
erase after typing the email again; customer text is escaped; another store's people do not
exist here."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.privacy.models import ErasureRecord
from aftercare.stores.models import StaffRole, Store
from tests.dashboard.test_settings_support import post_with_token, signed_in
from tests.privacy.factories import mirror_person

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/settings/privacy/"


@pytest.fixture
def manager(store: Store) -> Client:
    return signed_in(store, StaffRole.MANAGER, email="manager@acme.example")


@pytest.fixture
def ann(store: Store) -> None:
    mirror_person(
        store, email="ann@example.com", first_name="Ann", last_name="<script>alert('ann')</script>"
    )


def test_lookup_shows_what_we_hold(manager: Client, ann: None) -> None:
    page = manager.post(PAGE, {"email": " ANN@example.com "}).content.decode()
    assert "What we hold about ann@example.com" in page
    assert "Download everything as JSON" in page and "Erase for good" in page
    assert '<td>Orders</td><td class="num">3</td>' in page


def test_lookup_of_someone_unknown(manager: Client, ann: None) -> None:
    page = manager.post(PAGE, {"email": "nobody@example.com"}).content.decode()
    assert "We hold nothing about this email" in page
    assert "Erase for good" not in page


def test_another_stores_customer_does_not_exist_here(
    manager: Client, store: Store, other_store: Store
) -> None:
    mirror_person(other_store, email="eve@example.com", first_name="Eve", last_name="Globex")
    page = manager.post(PAGE, {"email": "eve@example.com"}).content.decode()
    assert "We hold nothing about this email" in page
    export = json.loads(manager.post(f"{PAGE}export/", {"email": "eve@example.com"}).content)
    assert all(part == [] for part in export["data"].values())
    manager.post(f"{PAGE}erase/", {"email": "eve@example.com", "confirm_email": "eve@example.com"})
    assert Customer.objects.filter(store=other_store, email="eve@example.com").exists()


def test_export_downloads_json(manager: Client, ann: None) -> None:
    response = manager.post(f"{PAGE}export/", {"email": "ann@example.com"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["data"]["customers"][0]["last_name"] == "<script>alert('ann')</script>"
    assert len(data["data"]["orders"]) == 3


def test_erase_needs_the_email_typed_again(manager: Client, store: Store, ann: None) -> None:
    page = manager.post(
        f"{PAGE}erase/", {"email": "ann@example.com", "confirm_email": "anne@example.com"}
    ).content.decode()
    assert "This is not the same email. Nothing was erased." in page
    assert Customer.objects.filter(store=store, email="ann@example.com").exists()
    total = sum(Order.objects.filter(store=store).values_list("total", flat=True))
    response = manager.post(
        f"{PAGE}erase/",
        {"email": "ann@example.com", "confirm_email": " Ann@Example.com"},
        follow=True,
    )
    page = response.content.decode()
    assert "Erased:" in page and "WooCommerce" in page
    assert not Customer.objects.filter(store=store, email="ann@example.com").exists()
    assert sum(Order.objects.filter(store=store).values_list("total", flat=True)) == total
    record = ErasureRecord.objects.get()
    assert record.requested_by is not None
    assert record.requested_by.get_username() == "manager@acme.example"
    assert "by manager@acme.example" in page  # the recent erasures list
    again = manager.post(
        f"{PAGE}erase/",
        {"email": "ann@example.com", "confirm_email": "ann@example.com"},
        follow=True,
    )
    assert "nothing left to erase" in again.content.decode()
    assert ErasureRecord.objects.count() == 1


def test_the_forms_need_the_csrf_token(store: Store, ann: None) -> None:
    client = signed_in(store, StaffRole.OWNER, csrf=True)
    for url in (PAGE, f"{PAGE}export/", f"{PAGE}erase/"):
        assert (
            client.post(
                url, {"email": "ann@example.com", "confirm_email": "ann@example.com"}
            ).status_code
            == 403
        )
    ok = post_with_token(client, PAGE, f"{PAGE}export/", {"email": "ann@example.com"})
    assert ok.status_code == 200


def test_customer_text_is_escaped(manager: Client, store: Store, ann: None) -> None:
    """The page shows counts, not the person; what it echoes (the typed email) is escaped."""
    page = manager.post(PAGE, {"email": "ann@example.com"}).content.decode()
    assert "<script>alert('ann')</script>" not in page
    bad = manager.post(PAGE, {"email": '"><b>x</b>@example.com'}).content.decode()
    assert "<b>x</b>" not in bad
    assert "&quot;&gt;&lt;b&gt;x&lt;/b&gt;@example.com" in bad
