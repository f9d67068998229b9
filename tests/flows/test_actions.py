"""The actions that leave the building, end to end through real local servers: a text message
through a server speaking Twilio's API, a signed webhook to a receiver that verifies it, staff
notifications by mail; and the sender's handling of a provider that says no."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentState, Customer
from aftercare.flows import matcher, runner, services
from aftercare.flows.models import ScheduledStep
from aftercare.messaging import sender
from aftercare.messaging.models import Message, SendAttempt, Suppression
from aftercare.stores.models import Store
from tests.analytics.factories import order_record, place
from tests.factories import MembershipFactory
from tests.messaging.test_channel_webhook import SECRET, Receiver
from tests.messaging.twilio_server import TwilioServer
from tests.smtp_server import SmtpSink

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def drive() -> None:
    for _ in range(10):
        if not (matcher.match_pending() + runner.run_due() + sender.send_due()):
            return


def one_step_flow(store: Store, action: str, params: dict[str, Any], **extra: Any) -> None:
    services.create_flow(
        store=store,
        status="active",
        data={
            "name": f"{action} flow",
            "category": "transactional",
            "trigger": {"type": "order.paid"},
            "steps": [{"key": "act", "type": "action", "action": action, "params": params}],
            **extra,
        },
    )


@pytest.fixture
def twilio(settings: Any) -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        settings.TWILIO_API_BASE = server.url
        settings.TWILIO_ACCOUNT_SID = server.account_sid
        settings.TWILIO_AUTH_TOKEN = server.token
        settings.TWILIO_FROM = "+15005550006"
        yield server


@pytest.mark.django_db(transaction=True)
def test_a_text_message_goes_out_through_twilio(store: Store, twilio: TwilioServer) -> None:
    with time_machine.travel(NOW, tick=False):
        one_step_flow(store, "send_sms", {"template": "order-shipped"})
        place(store, order_record(email="sms@example.com", created=NOW, status="processing"))
        Customer.objects.filter(email="sms@example.com").update(phone="+821012345678")
        drive()
    [sent] = twilio.messages
    assert sent["To"] == "+821012345678" and sent["From"] == "+15005550006"
    message = Message.objects.get()
    assert message.status == "sent" and message.provider_message_id.startswith("SM")
    assert sent["Body"] == message.body_text


@pytest.mark.django_db(transaction=True)
def test_a_stopped_number_is_suppressed_and_never_tried_again(
    store: Store, twilio: TwilioServer
) -> None:
    twilio.stopped.add("+821099999999")
    with time_machine.travel(NOW, tick=False):
        one_step_flow(store, "send_sms", {"template": "order-shipped"})
        place(store, order_record(email="stop@example.com", created=NOW, status="processing"))
        Customer.objects.filter(email="stop@example.com").update(phone="+821099999999")
        drive()
        place(store, order_record(email="stop@example.com", created=NOW, status="processing"))
        drive()
    assert list(Message.objects.values_list("status", flat=True)) == ["failed"]
    assert Suppression.objects.get().address == "+821099999999"
    second = ScheduledStep.objects.order_by("pk").last()
    assert second is not None and "suppressed" in second.reason  # never queued again
    assert twilio.requests == 1


@pytest.mark.django_db(transaction=True)
def test_the_webhook_action_posts_a_signed_body_the_receiver_verifies(
    store: Store, settings: Any
) -> None:
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    with Receiver() as receiver, time_machine.travel(NOW, tick=True):
        one_step_flow(store, "webhook", {"url": receiver.url("/crm"), "secret": SECRET})
        place(store, order_record(email="hook@example.com", created=NOW, status="processing"))
        drive()
    [seen] = receiver.seen
    assert seen.signature_ok
    body = json.loads(seen.body)
    assert body["customer"]["email"] == "hook@example.com"
    assert body["flow"]["name"] == "webhook flow"
    message = Message.objects.get()
    assert message.status == "sent"
    # The secret is stored encrypted, in the flow and with the message, and never exported.
    from aftercare.flows.models import Flow

    flow = Flow.objects.get()
    assert SECRET not in json.dumps(flow.steps) and SECRET not in json.dumps(message.headers)
    assert SECRET not in services.export_yaml(flow=flow)


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_recorded(
    store: Store, settings: Any
) -> None:
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        receiver.answers["/flaky"] = (503, "busy", 0.0)
        with time_machine.travel(NOW, tick=True):
            one_step_flow(store, "webhook", {"url": receiver.url("/flaky"), "secret": SECRET})
            place(store, order_record(email="f@example.com", created=NOW, status="processing"))
            drive()
        message = Message.objects.get()
        assert message.status == "queued" and message.next_attempt_at > NOW
        receiver.answers["/flaky"] = (200, "ok", 0.0)
        with time_machine.travel(NOW + timedelta(minutes=5), tick=True):
            drive()
    message.refresh_from_db()
    assert message.status == "sent"
    outcomes = list(SendAttempt.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["temporary", "sent"]
    assert len(receiver.seen) == 2


@pytest.mark.django_db(transaction=True)
def test_notify_staff_mails_the_stores_managers(store: Store, smtp_sink: SmtpSink) -> None:
    manager = MembershipFactory(store=store, role="manager").user
    MembershipFactory(store=store, role="agent")
    with time_machine.travel(NOW, tick=False):
        one_step_flow(store, "notify_staff", {"role": "manager", "note": "Big order!"})
        place(store, order_record(email="vip@example.com", created=NOW, status="processing"))
        drive()
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == manager.email
    assert "Big order!" in mail.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_a_hard_bounce_suppresses_the_address_for_transactional_mail_too(
    store: Store, smtp_sink: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        one_step_flow(store, "send_email", {"template": "thank-you"})
        place(store, order_record(email="ok@example.com", created=NOW, status="processing"))
        Suppression.objects.create(
            store=store, channel="email", address="ok@example.com", reason="hard_bounce",
            created_at=NOW,
        )  # fmt: skip
        drive()
    assert smtp_sink.messages == []
    step = ScheduledStep.objects.get()
    assert step.status == "skipped" and "suppressed" in step.reason


@pytest.mark.django_db(transaction=True)
def test_marketing_sms_needs_sms_consent(store: Store, twilio: TwilioServer) -> None:
    with time_machine.travel(NOW, tick=False):
        one_step_flow(store, "send_sms", {"template": "thank-you"}, category="marketing")
        place(store, order_record(email="m@example.com", created=NOW, status="processing"))
        customer = Customer.objects.get(email="m@example.com")
        customer.phone = "+14155550100"
        customer.save()
        consent.change_consent(  # email consent says nothing about SMS
            customer=customer,
            channel=ConsentChannel.EMAIL,
            state=ConsentState.GRANTED,
            source="test",
        )
        drive()
    assert twilio.messages == []
    assert "sms" in ScheduledStep.objects.get().reason
