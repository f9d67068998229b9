"""The preferences page and the one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from aftercare.customers.models import ConsentChange, ConsentState, Customer
from aftercare.events.models import Event
from aftercare.stores.models import ConsentMode, Store
from tests.portal.factories import CustomerFactory
from tests.portal.links import preferences_path

pytestmark = pytest.mark.django_db


def strict_client() -> Client:
    """A client that enforces CSRF like a browser request without a token would meet it."""
    return Client(enforce_csrf_checks=True)


def csrf_post(client: Client, path: str, data: dict[str, str]) -> object:
    page = client.get(path)
    assert page.status_code == 200
    token = page.context["csrf_token"]
    return client.post(path, {**data, "csrfmiddlewaretoken": str(token)})


def test_page_shows_masked_email_and_current_state(customer: Customer) -> None:
    response = Client().get(preferences_path(customer))
    body = response.content.decode()
    assert response.status_code == 200
    assert "ja•••e@example.com" in body
    assert "jane.doe@example.com" not in body
    assert 'name="email"' in body
    assert 'name="sms"' not in body  # no phone, no SMS choice
    assert "not subscribed" in body


def test_sms_choice_only_with_a_phone(store: Store) -> None:
    customer = CustomerFactory(store=store, phone="+821012345678")
    body = Client().get(preferences_path(customer)).content.decode()
    assert 'name="sms"' in body
    assert "••• 5678" in body
    assert "+821012345678" not in body


def test_opting_in_records_a_change_and_an_event(customer: Customer) -> None:
    client = strict_client()
    path = preferences_path(customer)
    response = csrf_post(client, path, {"email": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(path + "?")
    assert "saved=1" in response["Location"]
    customer.refresh_from_db()
    assert customer.marketing_consent == ConsentState.GRANTED
    assert customer.consent_source == "preferences_page"
    [change] = ConsentChange.objects.filter(customer=customer)
    assert (change.channel, change.state, change.source) == ("email", "granted", "preferences_page")
    [event] = Event.objects.filter(type="customer.consent_changed", subject_id=customer.pk)
    assert event.payload == {
        "channel": "email",
        "from": "unknown",
        "to": "granted",
        "source": "preferences_page",
    }
    assert "Your preferences are saved." in client.get(response["Location"]).content.decode()


def test_saving_unchanged_choices_records_nothing(customer: Customer) -> None:
    csrf_post(strict_client(), preferences_path(customer), {})  # unticked, and it was unknown
    assert not ConsentChange.objects.exists()


def test_opting_out_of_sms_only(store: Store) -> None:
    customer = CustomerFactory(
        store=store, phone="+14155550100", marketing_consent=ConsentState.GRANTED
    )
    path = preferences_path(customer)
    csrf_post(strict_client(), path, {"email": "on", "sms": "on"})
    csrf_post(strict_client(), path, {"email": "on"})
    states = list(
        ConsentChange.objects.filter(customer=customer)
        .order_by("id")
        .values_list("channel", "state")
    )
    assert states == [("sms", "granted"), ("sms", "denied")]
    customer.refresh_from_db()
    assert customer.marketing_consent == ConsentState.GRANTED


def test_unsubscribe_from_all(store: Store) -> None:
    customer = CustomerFactory(
        store=store, phone="+14155550100", marketing_consent=ConsentState.GRANTED
    )
    csrf_post(strict_client(), preferences_path(customer), {"email": "on", "unsubscribe_all": "1"})
    customer.refresh_from_db()
    assert customer.marketing_consent == ConsentState.DENIED
    assert not ConsentChange.objects.filter(channel="sms").exists()  # it was not subscribed


def test_opt_out_store_shows_unknown_as_subscribed(store: Store) -> None:
    store.consent_mode = ConsentMode.OPT_OUT
    store.save()
    customer = CustomerFactory(store=store)
    body = Client().get(preferences_path(customer)).content.decode()
    assert "checked" in body
    csrf_post(strict_client(), preferences_path(customer), {})
    customer.refresh_from_db()
    assert customer.marketing_consent == ConsentState.DENIED


def test_preference_form_needs_the_csrf_token(customer: Customer) -> None:
    response = strict_client().post(preferences_path(customer), {"email": "on"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.marketing_consent == ConsentState.UNKNOWN
    assert not ConsentChange.objects.exists()


# --- one-click unsubscribe -----------------------------------------------------------------


@pytest.fixture
def subscribed(customer: Customer) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(marketing_consent=ConsentState.GRANTED)
    customer.refresh_from_db()
    return customer


def test_one_click_post_works_without_csrf_or_cookies_and_is_idempotent(
    subscribed: Customer,
) -> None:
    path = preferences_path(subscribed, page="unsubscribe")
    for _ in range(2):
        client = strict_client()  # a mail provider: no cookie, no CSRF token
        response = client.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
        assert not response.cookies.get("csrftoken")
    subscribed.refresh_from_db()
    assert subscribed.marketing_consent == ConsentState.DENIED
    [change] = ConsentChange.objects.filter(customer=subscribed)
    assert (change.state, change.source) == ("denied", "one_click_unsubscribe")
    assert Event.objects.filter(type="customer.consent_changed").count() == 1


def test_one_click_as_multipart_body(subscribed: Customer) -> None:
    path = preferences_path(subscribed, page="unsubscribe")
    response = strict_client().post(path, {"List-Unsubscribe": "One-Click"})  # multipart
    assert response.status_code == 200
    subscribed.refresh_from_db()
    assert subscribed.marketing_consent == ConsentState.DENIED


def test_get_never_unsubscribes(subscribed: Customer) -> None:
    path = preferences_path(subscribed, page="unsubscribe")
    response = Client().get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="confirm"' in body
    assert "ja•••e@example.com" in body
    subscribed.refresh_from_db()
    assert subscribed.marketing_consent == ConsentState.GRANTED
    assert not ConsentChange.objects.exists()


def test_confirm_button_unsubscribes(subscribed: Customer) -> None:
    path = preferences_path(subscribed, page="unsubscribe")
    response = strict_client().post(path, {"confirm": "1"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert ConsentChange.objects.get().source == "unsubscribe_page"


def test_post_without_the_one_click_body_changes_nothing(subscribed: Customer) -> None:
    path = preferences_path(subscribed, page="unsubscribe")
    response = strict_client().post(path, {"List-Unsubscribe": "Something"})
    assert response.status_code == 400
    subscribed.refresh_from_db()
    assert subscribed.marketing_consent == ConsentState.GRANTED


def test_unsubscribe_still_works_with_an_expired_link(subscribed: Customer) -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        path = preferences_path(subscribed, page="unsubscribe", ttl=timedelta(days=1))
    with time_machine.travel(t0 + timedelta(days=400), tick=False):
        response = strict_client().post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 200
    subscribed.refresh_from_db()
    assert subscribed.marketing_consent == ConsentState.DENIED


def test_tampered_unsubscribe_link_changes_nothing(subscribed: Customer) -> None:
    path = preferences_path(subscribed, page="unsubscribe")
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("xx" if token[-2:] != "xx" else "yy"))
    response = strict_client().post(
        tampered, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 404
    subscribed.refresh_from_db()
    assert subscribed.marketing_consent == ConsentState.GRANTED
