"""The template editor's services: save checks first and stores per key + language + channel,
reset brings the shipped default back, the preview renders the draft with a real customer's
data (or the sample) and no tracking, and a test goes through the outbox and the real sender
to an SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftercare.core.errors import InvalidInput, NotFound
from aftercare.customers.models import Customer
from aftercare.messaging import sender, template_catalog, template_services
from aftercare.messaging.models import Message, MessageStatus, MessageTemplate
from aftercare.messaging.rendering import RenderedEmail, TemplateError
from aftercare.messaging.suppressions import suppress
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.factories import StoreFactory
from tests.mirror_factories import T0, CustomerFactory, LineItemFactory, OrderFactory
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.django_db

BROKEN = "Hi {{ customer.first_name }},\n\nThanks!\n{% if order.number %}\nNo end here\n"


def _save(store: Store, **fields: str) -> MessageTemplate:
    values = {
        "key": "thank-you",
        "locale": "en",
        "channel": "email",
        "subject": "Thanks, {{ customer.greeting_name }}",
        "preheader": "Order #{{ order.number }}",
        "body": "Hello **{{ customer.first_name }}**, order #{{ order.number }}.",
        "staff_email": "owner@acme.example",
    } | fields
    return template_services.save_template(store=store, **values)


def test_save_stores_the_version_the_catalogue_then_uses(store: Store) -> None:
    row = _save(store)
    assert (row.key, row.locale, row.channel, row.updated_by) == (
        "thank-you", "en", "email", "owner@acme.example",
    )  # fmt: skip
    source = template_catalog.get(store=store, key="thank-you", locale="en")
    assert source.origin == "store"
    assert source.subject == "Thanks, {{ customer.greeting_name }}"
    _save(store, subject="Second {{ order.number }}")  # one row per key, language, channel
    assert MessageTemplate.objects.filter(store=store).count() == 1
    assert template_catalog.get(store=store, key="thank-you", locale="en").subject.startswith(
        "Second"
    )


def test_a_broken_template_is_refused_with_its_line_and_not_stored(store: Store) -> None:
    with pytest.raises(TemplateError) as raised:
        _save(store, body=BROKEN)
    assert raised.value.field == "body"
    assert raised.value.line is not None
    assert f"line {raised.value.line}" in str(raised.value)
    assert not MessageTemplate.objects.filter(store=store).exists()


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"body": "  \n"}, "empty"), ({"subject": ""}, "subject"), ({"subject": "x" * 301}, "300")],
)
def test_empty_or_oversized_fields_are_refused(
    store: Store, fields: dict[str, str], problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        _save(store, **fields)
    assert not MessageTemplate.objects.filter(store=store).exists()


def test_unknown_keys_channels_and_languages_the_store_does_not_write_in(store: Store) -> None:
    for fields in ({"key": "nope"}, {"channel": "webhook"}, {"locale": "ko"}):
        with pytest.raises(NotFound):
            _save(store, **fields)
    store.languages = ["en", "ko"]
    store.save()
    assert _save(store, locale="ko-KR").locale == "ko"


def test_sms_keeps_only_a_body(store: Store) -> None:
    row = _save(store, channel="sms", subject="ignored", body="Thanks {{ customer.first_name }}!")
    assert (row.subject, row.preheader) == ("", "")


def test_reset_brings_the_shipped_default_back_and_touches_no_other_store(store: Store) -> None:
    other = StoreFactory(slug="globex")
    _save(store)
    _save(other)
    assert template_services.reset_template(
        store=store, key="thank-you", locale="en", channel="email"
    )
    assert template_catalog.get(store=store, key="thank-you", locale="en").origin == "default"
    assert template_catalog.get(store=other, key="thank-you", locale="en").origin == "store"
    assert not template_services.reset_template(
        store=store, key="thank-you", locale="en", channel="email"
    )


def test_versions_list_every_key_and_language_shipped_or_customised(store: Store) -> None:
    store.languages = ["en", "ja"]
    store.save()
    _save(store, locale="ja")
    found = {(v.key.key, v.locale, v.channel): v for v in template_services.versions(store=store)}
    assert found[("thank-you", "ja", "email")].customised
    assert not found[("thank-you", "en", "email")].customised
    assert ("thank-you", "en", "sms") in found
    assert {locale for _, locale, _ in found} == {"en", "ja"}


def _customer_with_order(store: Store, **names: str) -> tuple[Customer, Order]:
    customer = CustomerFactory(store=store, email="jane@example.com", **names)
    order = OrderFactory(store=store, customer=customer, number="7731", date_created=T0)
    LineItemFactory(order=order, name="Blue Mug")
    OrderFactory(store=store, customer=customer, number="1", date_created=T0 - timedelta(days=9))
    return customer, order


def test_preview_renders_the_draft_with_the_customers_latest_order(store: Store) -> None:
    customer, _ = _customer_with_order(store, first_name="Jane", last_name="Roe")
    shown = template_services.preview(
        store=store, key="thank-you", locale="en", channel="email", customer=customer,
        subject="Draft for {{ customer.first_name }}",
        body="Order #{{ order.number }}: {{ order_items() }}",
    )  # fmt: skip
    assert isinstance(shown, RenderedEmail)
    assert shown.subject == "Draft for Jane"
    assert "#7731" in shown.text and "Blue Mug" in shown.text
    assert not MessageTemplate.objects.exists()  # a preview stores nothing


def test_preview_has_no_tracking_and_no_working_customer_links(store: Store) -> None:
    customer, _ = _customer_with_order(store)
    shown = template_services.preview(
        store=store, key="review-request", locale="en", channel="email", customer=customer,
        body="[Shop]({{ links.shop_url }}) [Prefs]({{ links.preferences_url }})",
    )  # fmt: skip
    assert isinstance(shown, RenderedEmail)
    assert "/m/c/" not in shown.html and "/m/o/" not in shown.html  # no click or open tracking
    assert "/c/preview/unsubscribe/" in shown.html  # marketing footer, with a stand-in link
    assert "/c/preview/preferences/" in shown.html


def test_preview_without_a_customer_uses_the_sample_with_the_stores_name(store: Store) -> None:
    shown = template_services.preview(
        store=store, key="thank-you", locale="en", channel="email",
        body="{{ customer.first_name }} at {{ store.name }}",
    )  # fmt: skip
    assert isinstance(shown, RenderedEmail)
    assert "Ann at Acme Outfitters" in shown.text


def test_preview_of_an_sms_is_its_text(store: Store) -> None:
    shown = template_services.preview(
        store=store,
        key="thank-you",
        locale="en",
        channel="sms",
        body="Hi {{ customer.first_name }}",
    )
    assert shown == "Hi Ann"


def test_preview_refuses_another_stores_customer(store: Store) -> None:
    stranger = CustomerFactory(store=StoreFactory(slug="globex"))
    with pytest.raises(NotFound):
        template_services.preview(
            store=store, key="thank-you", locale="en", channel="email", customer=stranger
        )


def test_the_default_preview_customer_is_the_one_of_the_latest_order(store: Store) -> None:
    assert template_services.default_customer(store=store) is None
    CustomerFactory(store=store)  # no order
    old = CustomerFactory(store=store)
    OrderFactory(store=store, customer=old, date_created=T0)
    recent = CustomerFactory(store=store)
    OrderFactory(store=store, customer=recent, date_created=T0 + timedelta(days=1))
    OrderFactory(store=StoreFactory(slug="globex"), date_created=T0 + timedelta(days=2))
    assert template_services.default_customer(store=store) == recent


def test_send_test_goes_through_the_outbox_and_the_sender_to_smtp(
    store: Store, smtp_sink: SmtpSink
) -> None:
    customer, _ = _customer_with_order(store, first_name="Jane")
    result = template_services.send_test(
        store=store, to_email="owner@acme.example", key="thank-you", locale="en",
        channel="email", customer=customer,
        subject="Hello {{ customer.first_name }}", body="Order #{{ order.number }}",
        click_id="click-0001",
    )  # fmt: skip
    assert result.status == "queued"
    message = Message.objects.get(pk=result.message_id)
    assert (message.category, message.source, message.customer_id, message.tracking_token) == (
        "transactional", "test", None, "",
    )  # fmt: skip
    assert sender.send_due() == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail["Subject"] == "[Test] Hello Jane"
    assert mail["To"] == "owner@acme.example"
    assert "Order #7731" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_send_test_is_one_message_per_click(store: Store) -> None:
    args = {"store": store, "to_email": "owner@acme.example", "key": "thank-you",
            "locale": "en", "channel": "email"}  # fmt: skip
    first = template_services.send_test(**args, click_id="same-click-1")  # type: ignore[arg-type]
    again = template_services.send_test(**args, click_id="same-click-1")  # type: ignore[arg-type]
    other = template_services.send_test(**args)  # type: ignore[arg-type]
    assert first.message_id == again.message_id != other.message_id
    assert Message.objects.filter(store=store, source="test").count() == 2


def test_send_test_of_an_sms_template_arrives_as_an_email(store: Store) -> None:
    result = template_services.send_test(
        store=store, to_email="owner@acme.example", key="thank-you", locale="en", channel="sms",
        body="Hi {{ customer.first_name }}",
    )  # fmt: skip
    message = Message.objects.get(pk=result.message_id)
    assert message.channel == "email" and message.subject == "[Test] SMS · thank-you"
    assert message.body_text.strip() == "Hi Ann"


def test_send_test_refuses_a_broken_draft_and_a_missing_or_suppressed_address(
    store: Store,
) -> None:
    with pytest.raises(TemplateError):
        template_services.send_test(
            store=store, to_email="owner@acme.example", key="thank-you", locale="en",
            channel="email", body=BROKEN,
        )  # fmt: skip
    with pytest.raises(InvalidInput):
        template_services.send_test(
            store=store, to_email="", key="thank-you", locale="en", channel="email"
        )
    suppress(
        store=store, channel="email", address="owner@acme.example", reason="hard_bounce",
        detail="550", source="test",
    )  # fmt: skip
    result = template_services.send_test(
        store=store, to_email="owner@acme.example", key="thank-you", locale="en", channel="email"
    )
    assert result.status == "skipped" and "suppressed" in result.reason
    assert not Message.objects.filter(store=store).exists()
