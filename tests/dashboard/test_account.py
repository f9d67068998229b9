"""Signing in (username or email), CSRF, password reset through a real SMTP server, the store
switcher and the per-user language."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftercare.stores import selectors as store_selectors
from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def owner(store: Store) -> object:
    return store_services.create_staff_member(
        store=store, email="Owner@Example.com", password=PASSWORD, role=StaffRole.OWNER
    ).user


def test_root_redirects_to_the_dashboard(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


@pytest.mark.parametrize("field", ["username", "email"])
@pytest.mark.parametrize("login", ["owner@example.com", "OWNER@example.com"])
def test_login_with_email_in_either_field(
    client: Client, owner: object, field: str, login: str
) -> None:
    response = client.post("/dashboard/login/", {field: login, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_wrong_password_says_so_and_keeps_you_out(client: Client, owner: object) -> None:
    response = client.post(
        "/dashboard/login/", {"username": "owner@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "correct" in response.content.decode()  # Django's "enter a correct username…"
    assert client.get("/dashboard/").status_code == 302


def test_login_form_needs_the_csrf_token(owner: object) -> None:
    client = Client(enforce_csrf_checks=True)
    refused = client.post(
        "/dashboard/login/", {"username": "owner@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 403
    page = client.get("/dashboard/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    ok = client.post(
        "/dashboard/login/",
        {
            "username": "owner@example.com",
            "password": PASSWORD,
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    assert ok.status_code == 302


def test_password_reset_by_email_through_smtp(
    client: Client, owner: object, smtp_sink: SmtpSink
) -> None:
    response = client.post("/dashboard/password-reset/", {"email": "owner@example.com"})
    assert response.status_code == 302
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "owner@example.com"
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://testserver(/dashboard/password-reset/\S+/\S+/)", body)
    assert link, body
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert done.status_code == 302
    assert Client().login(username="owner@example.com", password="a new long passphrase 42")
    # The link works once.
    again = client.get(link.group(1), follow=True)
    assert "no longer works" in again.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing(
    client: Client, smtp_sink: SmtpSink
) -> None:
    response = client.post("/dashboard/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302  # same answer: no account probing
    assert smtp_sink.messages == []


def test_store_switcher_only_switches_to_your_stores(
    client: Client, owner: object, store: Store, other_store: Store
) -> None:
    client.force_login(owner)  # type: ignore[arg-type]
    assert client.post("/dashboard/switch-store/", {"store": other_store.slug}).status_code == 400
    third = store_services.create_store(slug="third", name="Third Shop")
    store_services.add_staff(store=third, user=owner, role=StaffRole.AGENT)  # type: ignore[arg-type]
    page = client.get("/dashboard/").content.decode()
    assert "Third Shop" in page and "Globex" not in page
    assert client.post("/dashboard/switch-store/", {"store": "third"}).status_code == 302
    page = client.get("/dashboard/").content.decode()
    assert '<span class="title">Third Shop</span>' in page


def test_language_is_per_staff_user(client: Client, owner: object) -> None:
    client.force_login(owner)  # type: ignore[arg-type]
    response = client.post("/dashboard/language/", {"language": "ko", "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert store_selectors.staff_language(user_id=owner.pk) == "ko"  # type: ignore[attr-defined]
    assert '<html lang="ko">' in client.get("/dashboard/").content.decode()
    other = get_user_model().objects.create_user(username="x@example.com", password=PASSWORD)
    store_services.add_staff(store=Store.objects.get(slug="acme"), user=other, role=StaffRole.AGENT)
    fresh = Client()
    fresh.force_login(other)
    assert '<html lang="en">' in fresh.get("/dashboard/").content.decode()


def test_language_next_must_stay_on_this_site(client: Client, owner: object) -> None:
    client.force_login(owner)  # type: ignore[arg-type]
    response = client.post(
        "/dashboard/language/", {"language": "ja", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/dashboard/"


def test_staff_command_creates_a_login(store: Store) -> None:
    from django.core.management import call_command

    call_command(
        "staff",
        "create",
        "--store",
        "acme",
        "--email",
        "agent@example.com",
        "--password",
        PASSWORD,
        "--role",
        "agent",
        "--language",
        "ja",
    )
    assert Client().login(username="agent@example.com", password=PASSWORD)
    user = get_user_model().objects.get(username="agent@example.com")
    assert store_selectors.staff_language(user_id=user.pk) == "ja"
