"""Marketing topics: each flow names one, customers opt out of some on their preferences page,
and the outbox (when a step queues a message) and the sender (right before it goes) both skip
the topics they left — while other topics and transactional mail still reach them. Their
chosen language wins over the shop's locale, and the mirror never overwrites either choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from aftercare.analytics.models import CustomerStats
from aftercare.customers import consent, topics
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentState, Customer
from aftercare.events.models import Event
from aftercare.flows import active, definition, matcher, presets, runner, schedule, services
from aftercare.flows.definition import InvalidFlow
from aftercare.flows.models import ScheduledStep, StepStatus
from aftercare.ingest import mirror
from aftercare.ingest.woo_records import CustomerIdentity, CustomerRecord
from aftercare.messaging import sender
from aftercare.messaging.models import Message, MessageStatus
from aftercare.stores.models import Store
from tests.analytics.factories import order_record, place
from tests.smtp_server import SmtpSink

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul: outside quiet hours

# What each marketing preset is about (transactional presets have no topic).
EXPECTED_TOPICS = {
    "review-request": "feedback",
    "survey": "feedback",
    "cross-sell": "recommendations",
    "onboarding": "recommendations",
    "next-purchase-coupon": "offers",
    "win-back": "offers",
    "birthday": "offers",
    "anniversary": "offers",
    "loyalty-invite": "loyalty",
}


@pytest.fixture
def mail(smtp_sink: SmtpSink, settings: Any) -> SmtpSink:
    settings.EMAIL_URL = f"smtp://{smtp_sink.host}:{smtp_sink.port}"
    return smtp_sink


@pytest.fixture
def shop(store: Store) -> Store:
    store.languages = ["en", "ko", "ja"]
    store.time_zone = "Asia/Seoul"
    store.save()
    return store


def drive() -> None:
    for _ in range(10):
        if not (matcher.match_pending() + runner.run_due() + sender.send_due()):
            return


def subscribed_customer(store: Store, email: str) -> Customer:
    customer = Customer.objects.get(store=store, email=email)
    consent.change_consent(
        customer=customer, channel=ConsentChannel.EMAIL, state=ConsentState.GRANTED, source="test"
    )
    return customer


def _offers_flow(store: Store) -> None:
    services.create_flow(
        store=store,
        status="active",
        data={
            "name": "Coupon after purchase",
            "category": "marketing",
            "topic": "offers",
            "trigger": {"type": "order.completed"},
            "steps": [{"key": "coupon", "type": "action", "action": "send_email",
                       "params": {"template": "next-purchase-coupon"}}],
        },
    )  # fmt: skip


# --- definitions -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", presets.names())
def test_presets_validate_with_their_topics(name: str) -> None:
    parsed = definition.parse(presets.load(name))
    if parsed.category == "marketing":
        assert parsed.topic == EXPECTED_TOPICS[name]
        assert topics.is_topic(parsed.topic)
    else:
        assert parsed.topic == ""
        assert name not in EXPECTED_TOPICS


def test_an_unknown_topic_is_refused() -> None:
    data = presets.load("win-back") | {"topic": "spam"}
    with pytest.raises(InvalidFlow) as refused:
        definition.parse(data)
    assert "unknown topic 'spam'" in str(refused.value)
    assert "offers" in str(refused.value)


@pytest.mark.django_db
def test_the_topic_is_stored_loaded_and_exported(store: Store) -> None:
    flow = services.enable_preset(store=store, name="win-back")
    assert flow.topic == "offers"
    [loaded] = active.load(store_id=store.pk)
    assert loaded.topic == "offers" and loaded.definition.topic == "offers"
    text = services.export_yaml(flow=flow)
    assert "topic: offers" in text
    copy = services.import_yaml(store=store, text=text)
    assert copy.topic == "offers"
    services.update_flow(flow=flow, data=active.to_definition_data(flow) | {"topic": "news"})
    flow.refresh_from_db()
    assert flow.topic == "news"


# --- at queue time and at send time ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_opted_out_of_offers_gets_no_win_back_but_reviews_and_transactional_mail(
    shop: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        for name in ("thank-you", "review-request", "win-back"):
            services.enable_preset(store=shop, name=name)
        place(shop, order_record(email="ann@example.com", created=NOW, status="completed"))
        ann = subscribed_customer(shop, "ann@example.com")
        assert consent.set_topics(customer=ann, unsubscribed={"offers"}, source="test")
        drive()
    [thanks] = mail.wait_for(1)  # transactional: topics do not apply
    assert "List-Unsubscribe" not in thanks
    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        drive()
    mail.wait_for(2)
    review = Message.objects.get(template_key="review-request")
    assert (review.status, review.topic, review.category) == ("sent", "feedback", "marketing")
    # 91 days after their order, the win-back scan starts a run; its mail is an offer.
    CustomerStats.objects.update_or_create(
        customer=ann, defaults={"store": shop, "orders_count": 1, "last_order_at": NOW}
    )
    later = NOW + timedelta(days=91)
    with time_machine.travel(later, tick=False):
        assert schedule.scan_all(now=later) == 1
        drive()
    step = ScheduledStep.objects.get(flow__preset="win-back")
    assert step.status == StepStatus.SKIPPED
    assert step.reason == "opted out of topic 'offers'"
    assert not Message.objects.filter(template_key="win-back").exists()
    assert len(mail.messages) == 2


@pytest.mark.django_db(transaction=True)
def test_opting_out_after_the_message_was_queued_suppresses_it_at_send_time(
    shop: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        _offers_flow(shop)
        place(shop, order_record(email="bo@example.com", created=NOW, status="completed"))
        bo = subscribed_customer(shop, "bo@example.com")
        matcher.match_pending()
        runner.run_due()
        queued = Message.objects.get()
        assert (queued.status, queued.topic) == (MessageStatus.QUEUED, "offers")
        consent.set_topics(customer=bo, unsubscribed={"offers", "news"}, source="test")
        sender.send_due()
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SUPPRESSED
    assert queued.reason == "opted out of topic 'offers' since it was queued"
    assert mail.messages == []


@pytest.mark.django_db(transaction=True)
def test_opting_out_of_another_topic_changes_nothing(shop: Store, mail: SmtpSink) -> None:
    with time_machine.travel(NOW, tick=False):
        _offers_flow(shop)
        place(shop, order_record(email="cy@example.com", created=NOW, status="completed"))
        cy = subscribed_customer(shop, "cy@example.com")
        consent.set_topics(customer=cy, unsubscribed={"feedback", "loyalty"}, source="test")
        drive()
    mail.wait_for(1)
    assert Message.objects.get().status == MessageStatus.SENT


# --- the customer's choices: history, and the mirror leaves them alone -----------------------


@pytest.mark.django_db
def test_topic_changes_are_recorded_as_events_with_source(store: Store) -> None:
    place(store, order_record(email="di@example.com", created=NOW, status="completed"))
    di = Customer.objects.get(email="di@example.com")
    with time_machine.travel(NOW, tick=False):
        assert consent.set_topics(customer=di, unsubscribed={"offers", "bogus"}, source="page")
        assert not consent.set_topics(customer=di, unsubscribed={"offers"}, source="page")
        assert consent.set_topics(customer=di, unsubscribed=set(), source="page")
    di.refresh_from_db()
    assert di.topic_opt_outs == []
    first, second = Event.objects.filter(type="customer.topics_changed").order_by("id")
    assert first.payload == {
        "from": [],
        "to": ["offers"],
        "unsubscribed": ["offers"],
        "resubscribed": [],
        "source": "page",
    }
    assert (first.customer_id, first.occurred_at) == (di.pk, NOW)
    assert second.payload["resubscribed"] == ["offers"]


@pytest.mark.django_db
def test_preferred_language_must_be_one_the_store_writes(shop: Store) -> None:
    place(shop, order_record(email="ed@example.com", created=NOW, status="completed"))
    ed = Customer.objects.get(email="ed@example.com")
    assert consent.set_preferred_locale(customer=ed, locale="ko_KR", source="page")
    assert ed.preferred_locale == "ko"
    assert not consent.set_preferred_locale(customer=ed, locale="ko", source="page")
    with pytest.raises(Exception, match="does not write in 'de'"):
        consent.set_preferred_locale(customer=ed, locale="de", source="page")
    [event] = Event.objects.filter(type="customer.language_changed")
    assert event.payload == {"from": "", "to": "ko", "source": "page"}


@pytest.mark.django_db
def test_the_mirror_never_overwrites_the_customers_choices(shop: Store) -> None:
    place(shop, order_record(email="fay@example.com", created=NOW, status="completed"))
    fay = Customer.objects.get(email="fay@example.com")
    consent.set_preferred_locale(customer=fay, locale="ja", source="page")
    consent.set_topics(customer=fay, unsubscribed={"offers"}, source="page")
    # A new order, then the shop's account record with another locale.
    place(shop, order_record(email="fay@example.com", created=NOW + timedelta(days=1)))
    identity = CustomerIdentity(
        email="fay@example.com", external_id=77, first_name="Fay", locale="ko_KR"
    )
    mirror.apply_customers(
        store=shop,
        records=[CustomerRecord(external_id=77, identity=identity, date_created=NOW,
                                date_modified=NOW + timedelta(days=2))],
    )  # fmt: skip
    fay.refresh_from_db()
    assert (fay.external_id, fay.locale) == (77, "ko_KR")  # the mirror did apply the record
    assert fay.preferred_locale == "ja"
    assert fay.topic_opt_outs == ["offers"]


@pytest.mark.django_db
def test_new_customers_from_the_mirror_start_with_no_choices(store: Store) -> None:
    place(store, order_record(email="gus@example.com", created=NOW))
    gus = Customer.objects.get(email="gus@example.com")
    assert (gus.preferred_locale, gus.topic_opt_outs) == ("", [])
