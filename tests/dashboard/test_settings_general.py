"""The settings home and the rules every settings page shares: roles (agents see none of them,
managers not staff or tokens), CSRF on every form, validation, escaping."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store
from tests.dashboard.test_settings_support import post_with_token, signed_in, staff_user

pytestmark = pytest.mark.django_db

SETTINGS_PAGES = [
    "/dashboard/settings/",
    "/dashboard/settings/connection/",
    "/dashboard/settings/privacy/",
]
OWNER_PAGES = ["/dashboard/settings/staff/", "/dashboard/settings/tokens/"]
POSTS = [
    "/dashboard/settings/",
    "/dashboard/settings/connection/",
    "/dashboard/settings/connection/sync/",
    "/dashboard/settings/connection/disconnect/",
    "/dashboard/settings/staff/",
    "/dashboard/settings/staff/revenue/",
    "/dashboard/settings/staff/{member}/role/",
    "/dashboard/settings/staff/{member}/remove/",
    "/dashboard/settings/staff/{member}/resend/",
    "/dashboard/settings/tokens/",
    "/dashboard/settings/tokens/{token}/revoke/",
    "/dashboard/settings/privacy/",
    "/dashboard/settings/privacy/export/",
    "/dashboard/settings/privacy/erase/",
]


def valid_settings(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Acme Outfitters",
        "sender_name": "Acme",
        "sender_email": "hello@acme.example",
        "reply_to_email": "",
        "languages": ["en", "ko"],
        "default_locale": "en",
        "time_zone": "Europe/Berlin",
        "consent_mode": "opt-in",
        "marketing_cap_hours": "16",
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
        "attribution_window_days": "5",
        "brand_color": "#1d5fd1",
        "logo_url": "",
    }
    data.update(changes)
    return data


def urls(store: Store) -> list[str]:
    member = staff_user(store, StaffRole.AGENT, "someone@example.com").store_memberships.get()
    token = store_services.create_api_token(store=store, name="t").record
    return [u.format(member=member.pk, token=token.pk) for u in POSTS]


def test_agents_get_the_403_page_on_every_settings_url(store: Store) -> None:
    agent = signed_in(store, StaffRole.AGENT)
    for url in SETTINGS_PAGES + OWNER_PAGES:
        response = agent.get(url)
        assert response.status_code == 403, url
        assert "does not include this page" in response.content.decode()
    for url in urls(store):
        assert agent.post(url, {}).status_code == 403, url


def test_managers_may_not_manage_staff_or_tokens(store: Store) -> None:
    manager = signed_in(store, StaffRole.MANAGER)
    for url in SETTINGS_PAGES:
        assert manager.get(url).status_code == 200, url
    for url in OWNER_PAGES:
        assert manager.get(url).status_code == 403, url
    for url in urls(store):
        if "/staff/" in url or "/tokens/" in url:
            assert manager.post(url, {}).status_code == 403, url
    page = manager.get("/dashboard/settings/").content.decode()
    assert "/dashboard/settings/staff/" not in page  # no tab to a page they cannot open


def test_signed_out_visitors_are_sent_to_sign_in(store: Store) -> None:
    for url in SETTINGS_PAGES + OWNER_PAGES:
        response = Client().get(url)
        assert response.status_code == 302 and "/dashboard/login/" in response["Location"]


def test_every_settings_form_needs_the_csrf_token(store: Store) -> None:
    owner = signed_in(store, StaffRole.OWNER, csrf=True)
    for url in urls(store):
        assert owner.post(url, {}).status_code == 403, url


def test_owner_saves_settings(store: Store) -> None:
    owner = signed_in(store, StaffRole.OWNER, csrf=True)
    response = post_with_token(
        owner,
        "/dashboard/settings/",
        "/dashboard/settings/",
        valid_settings(
            quiet_hours_start="22:30",
            marketing_cap_hours="0",
            attribution_window_days="7",
            attribution_counts_opens="on",
        ),
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.attribution_window_days, store.attribution_counts_opens) == (7, True)
    assert store.time_zone == "Europe/Berlin" and store.languages == ["en", "ko"]
    assert store.quiet_hours_start == datetime.time(22, 30) and store.marketing_cap_hours == 0
    page = owner.get("/dashboard/settings/").content.decode()
    assert "Settings saved." in page
    assert 'value="Europe/Berlin"' in page


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"time_zone": "Europe/Atlantis"}, "is not a time zone name"),
        ({"languages": ["en", "fr"]}, "Select a valid choice"),
        ({"languages": []}, "This field is required"),
        ({"languages": ["ko"], "default_locale": "en"}, "must be one of the languages"),
        ({"sender_email": "hello@"}, "valid email"),
        ({"brand_color": "red"}, "#rrggbb"),
        ({"quiet_hours_start": "08:00", "quiet_hours_end": "08:00"}, "are the same"),
        ({"marketing_cap_hours": "169"}, "less than or equal to 168"),
        ({"marketing_cap_hours": "-1"}, "greater than or equal to 0"),
        ({"attribution_window_days": "0"}, "greater than or equal to 1"),
        ({"attribution_window_days": "91"}, "less than or equal to 90"),
        ({"consent_mode": "whatever"}, "Select a valid choice"),
    ],
)
def test_invalid_settings_are_explained_and_not_saved(
    store: Store, changes: dict[str, object], words: str
) -> None:
    owner = signed_in(store, StaffRole.OWNER)
    response = owner.post("/dashboard/settings/", valid_settings(**changes))
    assert response.status_code == 200
    assert words in response.content.decode()
    store.refresh_from_db()
    assert store.time_zone == "UTC"


def test_the_page_explains_consent_and_the_cap(store: Store) -> None:
    page = signed_in(store, StaffRole.MANAGER).get("/dashboard/settings/").content.decode()
    assert "GDPR" in page and "CAN-SPAM" in page
    assert "0 means no cap" in page


def test_store_text_is_escaped(store: Store) -> None:
    store.name = '<script>alert("store")</script>'
    store.sender_name = '"><img src=x onerror=alert(1)>'
    store.save()
    page = signed_in(store, StaffRole.OWNER).get("/dashboard/settings/").content.decode()
    assert '<script>alert("store")</script>' not in page
    assert "&lt;script&gt;alert(&quot;store&quot;)&lt;/script&gt;" in page
    assert "<img src=x onerror=alert(1)>" not in page
