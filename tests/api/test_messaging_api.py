"""API v1 messages, bounces and one-click unsubscribe over HTTP, with real token auth (issue 4):
the outbox per store, suppressions with their events, and the RFC 8058 target."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftercare.core import clock, signed_links
from aftercare.customers.models import ConsentChange, Customer
from aftercare.events.models import Event
from aftercare.messaging import outbox, policy
from aftercare.messaging.models import Message, SendAttempt, Suppression
from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _customer(store: Store) -> Customer:
    return Customer.objects.filter(store=store).order_by("pk").first()  # type: ignore[return-value]


def _message(store: Store, **fields: Any) -> Message:
    now = clock.now()
    customer = fields.pop("customer", _customer(store))
    values: dict[str, Any] = {
        "channel": "email",
        "category": "transactional",
        "recipient": customer.email,
        "subject": "Thanks for your order",
        "body_text": "Hi Jane, thanks!",
        "template_key": "thank-you",
        "idempotency_key": f"test:{Message.objects.count()}",
        "next_attempt_at": now,
        "created_at": now,
        **fields,
    }
    return Message.objects.create(store=store, customer=customer, **values)


def _preferences_token(customer: Customer, **kwargs: Any) -> str:
    return signed_links.make_token(
        purpose="preferences",
        store_id=customer.store_id,
        subject_id=customer.pk,
        customer_id=customer.pk,
        **kwargs,
    )


# -- messages -------------------------------------------------------------------------------


def test_messages_filter_by_customer_email_status_channel_and_flow(
    client: Client, token: str, store: Store
) -> None:
    sent = _message(store, status="sent", sent_at=clock.now(), flow_id=7)
    failed = _message(store, status="failed", reason="550 no such user", flow_id=8)
    sms = _message(store, channel="sms", recipient="+15551234567", subject="")

    everything = client.get(
        "/api/v1/messages?customer_email=Jane.Buyer@Example.com", headers=_auth(token)
    ).json()
    assert [m["id"] for m in everything["items"]] == [sms.pk, failed.pk, sent.pk]  # newest first
    row = everything["items"][2]
    assert row["recipient"] == "jane.buyer@example.com" and row["status"] == "sent"
    assert row["flow_id"] == 7 and row["template_key"] == "thank-you"
    assert row["category"] == "transactional" and row["sent_at"] is not None
    assert {"first_opened_at", "first_clicked_at", "created_at", "reason"} <= set(row)

    def ids(query: str) -> list[int]:
        body = client.get(f"/api/v1/messages?{query}", headers=_auth(token)).json()
        return [m["id"] for m in body["items"]]

    assert ids("status=failed") == [failed.pk]
    assert ids("channel=sms") == [sms.pk]
    assert ids("flow_id=7") == [sent.pk]
    assert ids("customer_email=nobody@example.com") == []


def test_message_detail_has_the_text_and_every_attempt(
    client: Client, token: str, store: Store
) -> None:
    message = _message(store, status="sent", attempts=2)
    SendAttempt.objects.create(
        message=message, attempted_at=clock.now(), outcome="temporary", answer="421 try later"
    )
    SendAttempt.objects.create(
        message=message, attempted_at=clock.now(), outcome="sent", answer="250 2.0.0 Ok"
    )
    body = client.get(f"/api/v1/messages/{message.pk}", headers=_auth(token)).json()
    assert body["body_text"] == "Hi Jane, thanks!"
    assert [(a["outcome"], a["answer"]) for a in body["attempts"]] == [
        ("temporary", "421 try later"),
        ("sent", "250 2.0.0 Ok"),
    ]
    assert body["attempts"][0]["attempted_at"]
    assert "headers" not in body  # webhook messages keep their signing secret there


def test_messages_are_store_scoped(
    client: Client, token: str, other_token: str, store: Store
) -> None:
    mine = _message(store)
    theirs = client.get(f"/api/v1/messages/{mine.pk}", headers=_auth(other_token))
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/messages", headers=_auth(other_token)).json()["count"] == 0
    listing = client.get(
        "/api/v1/messages?customer_email=jane.buyer@example.com", headers=_auth(other_token)
    )
    assert listing.json()["count"] == 0
    assert client.get(f"/api/v1/messages/{mine.pk}", headers=_auth(token)).status_code == 200
    assert client.get("/api/v1/messages").status_code == 401


# -- bounces --------------------------------------------------------------------------------


def _bounce(client: Client, token: str, body: Any) -> Any:
    return client.post(
        "/api/v1/bounces", body, content_type="application/json", headers=_auth(token)
    )


def test_a_hard_bounce_suppresses_the_address_once_with_one_event(
    client: Client, token: str, store: Store
) -> None:
    body = {"email": " Jane.Buyer@Example.com ", "type": "hard", "detail": "550 5.1.1 unknown"}
    first = _bounce(client, token, body)
    assert first.status_code == 200, first.content
    out = first.json()
    assert out["address"] == "jane.buyer@example.com" and out["channel"] == "email"
    assert out["reason"] == "hard_bounce" and out["created"] is True
    assert out["detail"] == "550 5.1.1 unknown" and out["source"] == "api"

    again = _bounce(client, token, {**body, "type": "complaint"})
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["id"] == out["id"]
    assert again.json()["reason"] == "hard_bounce"  # the first reason is the evidence
    assert Suppression.objects.filter(store=store).count() == 1
    assert policy.is_suppressed(store=store, channel="email", address="JANE.BUYER@example.com")

    events = Event.objects.filter(store=store, type="message.bounced")
    assert events.count() == 1
    event = events.get()
    assert event.customer_id == _customer(store).pk and event.subject_type == "customer"
    assert event.payload["kind"] == "hard" and event.payload["source"] == "api"


def test_a_complaint_publishes_message_complained(client: Client, token: str, store: Store) -> None:
    response = _bounce(client, token, {"email": "jane.buyer@example.com", "type": "complaint"})
    assert response.status_code == 200 and response.json()["reason"] == "complaint"
    assert Event.objects.filter(store=store, type="message.complained").count() == 1


def test_a_bounce_for_an_unknown_address_suppresses_without_an_event(
    client: Client, token: str, store: Store
) -> None:
    response = _bounce(client, token, {"email": "ghost@example.com", "type": "hard"})
    assert response.status_code == 200 and response.json()["created"] is True
    assert not Event.objects.filter(type__in=["message.bounced", "message.complained"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "jane.buyer@example.com", "type": "soft"}, "type"),
        ({"email": "jane.buyer@example.com"}, "type"),
        ({"email": "not an address", "type": "hard"}, "address"),
        ({"type": "hard"}, "address"),
        ({}, "type"),
    ],
)
def test_bad_bounce_input_is_400_with_the_envelope(
    client: Client, token: str, body: dict[str, str], field: str
) -> None:
    response = _bounce(client, token, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["details"]["field"] == field
    assert not Suppression.objects.exists()


def test_bounces_are_per_store(
    client: Client, token: str, other_token: str, store: Store, other_store: Store
) -> None:
    assert _bounce(client, other_token, {"email": "jane.buyer@example.com", "type": "hard"})
    assert not policy.is_suppressed(store=store, channel="email", address="jane.buyer@example.com")
    assert policy.is_suppressed(
        store=other_store, channel="email", address="jane.buyer@example.com"
    )
    # jane is not a customer of the other store: no event on anyone's timeline.
    assert not Event.objects.filter(type="message.bounced").exists()
    assert client.post("/api/v1/bounces", {}, content_type="application/json").status_code == 401


# -- one-click unsubscribe ------------------------------------------------------------------


def test_one_click_unsubscribe_changes_consent_and_is_idempotent(token: str, store: Store) -> None:
    client = Client(enforce_csrf_checks=True)  # a mail provider sends no cookie, no CSRF token
    customer = _customer(store)
    Customer.objects.filter(pk=customer.pk).update(marketing_consent="granted")
    url = f"/api/v1/unsubscribe/{_preferences_token(customer)}"

    first = client.post(url, ONE_CLICK, content_type=FORM)  # no Authorization header either
    assert first.status_code == 200, first.content
    assert first.json() == {"unsubscribed": True, "channel": "email", "changed": True}
    assert "no-store" in first["Cache-Control"]
    customer.refresh_from_db()
    assert customer.marketing_consent == "denied"
    assert customer.consent_source == "one_click_unsubscribe"

    second = client.post(url, ONE_CLICK, content_type=FORM)
    assert second.status_code == 200 and second.json()["changed"] is False
    empty = client.post(url)
    assert empty.status_code == 200 and empty.json()["changed"] is False
    multipart = client.post(url, {"List-Unsubscribe": "One-Click"})  # some providers do this
    assert multipart.status_code == 200 and multipart.json()["changed"] is False
    assert ConsentChange.objects.filter(customer=customer).count() == 1
    changes = Event.objects.filter(store=store, type="customer.consent_changed")
    assert changes.count() == 1
    assert changes.get().payload["source"] == "one_click_unsubscribe"


def test_one_click_then_marketing_is_skipped_and_transactional_still_goes(
    client: Client, token: str, store: Store
) -> None:
    store.consent_mode = "opt-out"  # soft opt-in: buyers get marketing until they unsubscribe
    store.save(update_fields=["consent_mode"])
    customer = _customer(store)
    assert client.post(f"/api/v1/unsubscribe/{_preferences_token(customer)}").status_code == 200
    customer.refresh_from_db()  # as the runner loads it when the next step comes due

    def queue(category: str, key: str) -> outbox.QueueResult:
        return outbox.queue(
            store=store, customer=customer, channel="email", category=category,
            template_key="thank-you", idempotency_key=key, now=clock.now(), zone=ZoneInfo("UTC"),
            cap_hours=0,
        )  # fmt: skip

    marketing = queue("marketing", "after-unsubscribe:marketing")
    assert marketing.status == "skipped" and "unsubscribed" in marketing.reason
    assert queue("transactional", "after-unsubscribe:transactional").status == "queued"


def test_an_expired_token_still_unsubscribes(client: Client, token: str, store: Store) -> None:
    customer = _customer(store)
    url = f"/api/v1/unsubscribe/{_preferences_token(customer, ttl=timedelta(days=1))}"
    with time_machine.travel(clock.now() + timedelta(days=400)):
        response = client.post(url, ONE_CLICK, content_type=FORM)
    assert response.status_code == 200 and response.json()["changed"] is True
    customer.refresh_from_db()
    assert customer.marketing_consent == "denied"


def test_forged_or_foreign_tokens_are_404(
    client: Client, token: str, store: Store, other_store: Store
) -> None:
    customer = _customer(store)
    real = _preferences_token(customer)
    forged = real[:-3] + ("aaa" if not real.endswith("aaa") else "bbb")
    other_customer = signed_links.make_token(  # the subject is not the customer
        purpose="preferences", store_id=store.pk, subject_id=customer.pk + 1000,
        customer_id=customer.pk,
    )  # fmt: skip
    wrong_store = signed_links.make_token(
        purpose="preferences", store_id=other_store.pk, subject_id=customer.pk,
        customer_id=customer.pk,
    )  # fmt: skip
    order_token = signed_links.make_token(
        purpose="order", store_id=store.pk, subject_id=1, customer_id=customer.pk
    )
    for bad in (forged, other_customer, wrong_store, order_token, "nonsense", "x" * 400):
        response = client.post(f"/api/v1/unsubscribe/{bad}", ONE_CLICK, content_type=FORM)
        assert response.status_code == 404, bad
        assert response.json()["error"]["code"] == "invalid_link"
    customer.refresh_from_db()
    assert customer.marketing_consent == "unknown"
    assert not ConsentChange.objects.exists()


def test_an_erased_customer_is_404(client: Client, token: str, store: Store) -> None:
    customer = _customer(store)
    url = f"/api/v1/unsubscribe/{_preferences_token(customer)}"
    Customer.objects.filter(pk=customer.pk).update(deleted_at=clock.now())
    assert client.post(url, ONE_CLICK, content_type=FORM).status_code == 404


def test_get_redirects_to_the_portal_confirmation_page(
    client: Client, token: str, store: Store
) -> None:
    customer = _customer(store)
    token_ = _preferences_token(customer)
    response = client.get(f"/api/v1/unsubscribe/{token_}")
    assert response.status_code == 302
    assert response["Location"] == f"/c/{token_}/unsubscribe/"
    assert response["Referrer-Policy"] == "no-referrer"
    customer.refresh_from_db()
    assert customer.marketing_consent == "unknown"  # a GET (a scanner) unsubscribes nobody
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_the_url_in_marketing_mail_is_this_endpoint(store: Store, token: str) -> None:
    """outbox puts `/api/v1/unsubscribe/<token>` in List-Unsubscribe; it must resolve here."""
    from django.urls import resolve

    customer = _customer(store)
    match = resolve(f"/api/v1/unsubscribe/{_preferences_token(customer)}")
    assert "unsubscribe" in (match.url_name or "")


def test_the_message_list_queries_do_not_grow_with_rows(
    client: Client, token: str, store: Store
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/messages", headers=_auth(token)).status_code == 200
        return len(captured)

    _message(store)
    queries()  # the token's first use of the minute writes last_used_at
    few = queries()
    for _ in range(5):
        _message(store)
    assert queries() == few


def test_the_token_never_reaches_a_log(
    client: Client, store: Store, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    real = _preferences_token(_customer(store))
    Customer.objects.filter(store=store).update(deleted_at=clock.now())  # a 404 is logged
    with caplog.at_level(logging.INFO):
        assert client.post(f"/api/v1/unsubscribe/{real}").status_code == 404
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "unsubscribe" in logged
    assert real not in logged
