"""The preferences page's topics and language: shown, saved and honoured (the next mail is in
the chosen language), in English, Korean and Japanese; CSRF and expired links as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from aftercare.customers import consent, topics
from aftercare.customers.models import ConsentState, Customer
from aftercare.events.models import Event
from aftercare.messaging import outbox
from aftercare.messaging.models import Message
from aftercare.privacy import services as privacy
from aftercare.stores.models import Store
from tests.portal.factories import CustomerFactory, OrderFactory
from tests.portal.links import preferences_path

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
ALL_TOPICS = {f"topic-{key}": "on" for key in topics.KEYS}
# What the page says in each language (the topics' labels come from the customers catalogue).
TEXT = {
    "en": ("Which emails would you like?", "Offers and coupons", "Language of our messages"),
    "ko": ("어떤 이메일을 받으시겠어요?", "할인 및 쿠폰", "메시지 언어"),
    "ja": ("どのメールを受け取りますか\uff1f", "お得な情報とクーポン", "メッセージの言語"),
}


@pytest.fixture
def shop(store: Store) -> Store:
    store.languages = ["en", "ko", "ja"]
    store.save()
    return store


@pytest.fixture
def subscriber(shop: Store) -> Customer:
    return CustomerFactory(
        store=shop, email="jane.doe@example.com", marketing_consent=ConsentState.GRANTED
    )


def csrf_post(client: Client, path: str, data: dict[str, str]) -> object:
    page = client.get(path)
    assert page.status_code == 200
    token = page.context["csrf_token"]
    return client.post(path, {**data, "csrfmiddlewaretoken": str(token)})


def checkbox(body: str, name: str) -> str:
    """The <input> tag of checkbox `name` in `body`."""
    start = body.index(f'name="{name}"')
    return body[body.rindex("<input", 0, start) : body.index(">", start) + 1]


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
def test_topics_and_language_round_trip(subscriber: Customer, lang: str) -> None:
    client = Client(enforce_csrf_checks=True)
    path = preferences_path(subscriber)
    body = client.get(f"{path}?lang={lang}").content.decode()
    for text in TEXT[lang]:
        assert text in body
    for key in topics.KEYS:  # every topic on until they say otherwise
        assert " checked" in checkbox(body, f"topic-{key}")
    assert '<select name="language"' in body

    chosen = {"en": "ko", "ko": "ja", "ja": "en"}[lang]
    wanted = {**ALL_TOPICS, "email": "on", "language": chosen}
    del wanted["topic-offers"], wanted["topic-news"]
    response = csrf_post(client, f"{path}?lang={lang}", wanted)
    assert response.status_code == 302  # type: ignore[attr-defined]
    location = response["Location"]  # type: ignore[index]
    assert f"lang={chosen}" in location and "saved=1" in location

    subscriber.refresh_from_db()
    assert subscriber.topic_opt_outs == ["news", "offers"]
    assert subscriber.marketing_consent == ConsentState.GRANTED
    assert subscriber.preferred_locale == ("" if chosen == "en" else chosen)
    [event] = Event.objects.filter(type="customer.topics_changed")
    assert event.payload["source"] == "preferences_page"

    again = client.get(location).content.decode()
    for text in TEXT[chosen]:
        assert text in again  # the page now speaks the chosen language
    assert " checked" not in checkbox(again, "topic-offers")
    assert " checked" in checkbox(again, "topic-feedback")
    assert f'<option value="{chosen}" lang="{chosen}" selected>' in again


def test_language_choice_changes_the_language_of_the_next_mail(subscriber: Customer) -> None:
    order = OrderFactory(customer=subscriber, number="1042")
    path = preferences_path(subscriber)
    csrf_post(Client(), path, {**ALL_TOPICS, "email": "on", "language": "ko"})
    subscriber.refresh_from_db()
    assert subscriber.locale == "en_US"  # the shop's value stays
    result = outbox.queue(
        store=subscriber.store,
        customer=subscriber,
        channel="email",
        category="transactional",
        template_key="thank-you",
        idempotency_key="test:thank-you",
        order_id=order.pk,
        now=NOW,
        zone=ZoneInfo("UTC"),
    )
    message = Message.objects.get(pk=result.message_id)
    assert message.locale == "ko"
    assert message.subject.startswith("주문해 주셔서 감사합니다")


def test_saving_the_page_untouched_records_no_language_choice(subscriber: Customer) -> None:
    path = preferences_path(subscriber)
    csrf_post(Client(), path, {**ALL_TOPICS, "email": "on", "language": "en"})  # shown value
    subscriber.refresh_from_db()
    assert (subscriber.preferred_locale, subscriber.topic_opt_outs) == ("", [])
    assert not Event.objects.filter(
        type__in=["customer.topics_changed", "customer.language_changed"]
    ).exists()


def test_topics_only_while_email_marketing_is_on(shop: Store) -> None:
    customer = CustomerFactory(store=shop)  # consent unknown, store opt-in: not subscribed
    body = Client().get(preferences_path(customer)).content.decode()
    assert 'name="topic-offers"' not in body
    assert '<select name="language"' in body
    # Posting topic fields the page did not show changes nothing.
    csrf_post(Client(), preferences_path(customer), {"language": "en"})
    customer.refresh_from_db()
    assert customer.topic_opt_outs == []


def test_a_single_language_store_offers_no_choice(store: Store) -> None:
    customer = CustomerFactory(store=store, marketing_consent=ConsentState.GRANTED)
    body = Client().get(preferences_path(customer)).content.decode()
    assert 'name="topic-offers"' in body
    assert 'name="language"' not in body


def test_an_unoffered_language_is_refused(subscriber: Customer) -> None:
    path = preferences_path(subscriber)
    response = csrf_post(Client(), path, {**ALL_TOPICS, "email": "on", "language": "de"})
    assert response.status_code == 200  # the form again, with its error
    subscriber.refresh_from_db()
    assert subscriber.preferred_locale == ""


def test_unsubscribe_from_all_leaves_the_topics_alone(subscriber: Customer) -> None:
    consent.set_topics(customer=subscriber, unsubscribed={"loyalty"}, source="test")
    csrf_post(Client(), preferences_path(subscriber), {"email": "on", "unsubscribe_all": "1"})
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == ConsentState.DENIED
    assert subscriber.topic_opt_outs == ["loyalty"]


def test_the_form_needs_the_csrf_token(subscriber: Customer) -> None:
    response = Client(enforce_csrf_checks=True).post(
        preferences_path(subscriber), {"email": "on", "language": "ja"}
    )
    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert (subscriber.preferred_locale, subscriber.topic_opt_outs) == ("", [])


def test_an_expired_link_changes_nothing(subscriber: Customer) -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        path = preferences_path(subscriber, ttl=timedelta(days=1))
    with time_machine.travel(t0 + timedelta(days=2), tick=False):
        assert Client().get(path).status_code == 410
        response = Client().post(path, {"email": "on", "language": "ja"})
    assert response.status_code == 410
    subscriber.refresh_from_db()
    assert (subscriber.preferred_locale, subscriber.topic_opt_outs) == ("", [])


def test_export_and_erasure_cover_the_choices(subscriber: Customer) -> None:
    consent.set_topics(customer=subscriber, unsubscribed={"offers"}, source="test")
    consent.set_preferred_locale(customer=subscriber, locale="ja", source="test")
    exported = privacy.export_customer_data(store=subscriber.store, email=subscriber.email)
    text = str(exported)
    assert "'preferred_locale': 'ja'" in text
    assert "'topic_opt_outs': ['offers']" in text
    assert "customer.topics_changed" in text
    privacy.erase_customer(store=subscriber.store, email=subscriber.email)
    subscriber.refresh_from_db()
    assert (subscriber.preferred_locale, subscriber.topic_opt_outs) == ("", [])
