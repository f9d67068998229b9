"""Flows end to end: orders through the real mirror, events matched, steps run, messages sent to
a real SMTP server (aiosmtpd) — the paths the issue's "tests that matter" name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentState, Customer
from aftercare.flows import matcher, runner, services
from aftercare.flows.models import FlowRun, ScheduledStep, StepStatus
from aftercare.messaging import sender
from aftercare.messaging.models import Message, MessageStatus, SendAttempt
from aftercare.stores.models import Store
from tests.analytics.factories import order_record, place
from tests.smtp_server import SmtpSink

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul, 05:00 in Berlin


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
    """What the worker's pollers do, until nothing is left to do now."""
    for _ in range(10):
        busy = matcher.match_pending() + runner.run_due() + sender.send_due()
        if not busy:
            return


def customer(store: Store, email: str) -> Customer:
    return Customer.objects.get(store=store, email=email)


def grant(store: Store, email: str) -> None:
    consent.change_consent(
        customer=customer(store, email),
        channel=ConsentChannel.EMAIL,
        state=ConsentState.GRANTED,
        source="test",
    )


@pytest.mark.django_db(transaction=True)
def test_paid_order_gets_the_thank_you_in_the_customers_language(
    shop: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="thank-you")
        record = order_record(email="minji@example.com", created=NOW, status="processing")
        place(shop, record)
        Customer.objects.filter(email="minji@example.com").update(locale="ko_KR", first_name="민지")
        drive()
    [received] = mail.wait_for(1)
    assert received["To"] == "minji@example.com"
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert "민지" in text
    assert record.number in received["Subject"] or record.number in text
    assert "List-Unsubscribe" not in received  # transactional
    message = Message.objects.get()
    assert (message.status, message.locale, message.category) == ("sent", "ko", "transactional")
    assert SendAttempt.objects.get(message=message).outcome == "sent"


@pytest.mark.django_db(transaction=True)
def test_refund_during_the_wait_skips_the_review_request_with_its_reason(
    shop: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="review-request")
        record = order_record(email="a@example.com", created=NOW, status="completed")
        place(shop, record)
        grant(shop, "a@example.com")
        drive()
        step = ScheduledStep.objects.get()
        assert step.status == StepStatus.PENDING
        # 14 days later at 10:00 on the customer's (here: the store's) clock, Seoul.
        assert step.due_at == datetime(2026, 6, 15, 1, 0, tzinfo=UTC)
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        refunded = order_record(
            email="a@example.com",
            created=NOW,
            status="refunded",
            external_id=record.external_id,
            refunds=[(1, "100.00")],
            modified=NOW + timedelta(days=3),
        )
        place(shop, refunded)
        drive()
    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        drive()
    step.refresh_from_db()
    assert step.status == StepStatus.SKIPPED
    assert "re-check failed" in step.reason and "order." in step.reason
    assert FlowRun.objects.get().status == "exited"
    assert not Message.objects.exists()
    assert mail.messages == []


@pytest.mark.django_db(transaction=True)
def test_unsubscribed_customer_gets_transactional_but_not_marketing(
    shop: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="thank-you")
        services.create_flow(
            store=shop,
            status="active",
            data={
                "name": "Promo after purchase",
                "category": "marketing",
                "trigger": {"type": "order.paid"},
                "steps": [
                    {"key": "promo", "type": "action", "action": "send_email",
                     "params": {"template": "cross-sell"}},
                ],
            },
        )  # fmt: skip
        place(shop, order_record(email="b@example.com", created=NOW, status="processing"))
        grant(shop, "b@example.com")
        consent.change_consent(
            customer=customer(shop, "b@example.com"),
            channel=ConsentChannel.EMAIL,
            state=ConsentState.DENIED,
            source="one_click_unsubscribe",
        )
        drive()
    [received] = mail.wait_for(1)
    assert received["To"] == "b@example.com"
    promo = ScheduledStep.objects.get(step_key="promo")
    assert promo.status == StepStatus.SKIPPED
    assert "unsubscribed" in promo.reason


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOW, tick=False)
def test_frequency_cap_lets_one_marketing_mail_through(shop: Store, mail: SmtpSink) -> None:
    for name in ("cross-sell", "survey"):
        services.create_flow(
            store=shop,
            status="active",
            data={
                "name": name,
                "trigger": {"type": "order.completed"},
                "steps": [{"key": "send", "type": "action", "action": "send_email",
                           "params": {"template": name}}],
            },
        )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        place(shop, order_record(email="c@example.com", created=NOW, status="completed"))
        grant(shop, "c@example.com")
        drive()
    mail.wait_for(1)
    steps = sorted(ScheduledStep.objects.values_list("status", "reason"))
    assert [s for s, _ in steps] == ["done", "skipped"]
    assert "frequency cap" in steps[1][1]
    assert len(mail.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_marketing_waits_out_quiet_hours_on_the_customers_clock(shop: Store) -> None:
    late_in_seoul = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)  # 23:30 in Seoul
    traveller = time_machine.travel(late_in_seoul - timedelta(minutes=5), tick=False)
    with traveller:
        _promo_flow(shop)
    with time_machine.travel(late_in_seoul, tick=False):
        place(shop, order_record(email="d@example.com", created=late_in_seoul, status="completed"))
        grant(shop, "d@example.com")
        matcher.match_pending()
        runner.run_due()
    step = ScheduledStep.objects.get()
    assert step.status == StepStatus.PENDING
    assert step.due_at == datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # 08:00 in Seoul
    assert "quiet hours" in step.reason
    assert not Message.objects.exists()


def _promo_flow(shop: Store) -> None:
    services.create_flow(
        store=shop,
        status="active",
        data={
            "name": "Promo",
            "trigger": {"type": "order.completed"},
            "steps": [{"key": "send", "type": "action", "action": "send_email",
                       "params": {"template": "cross-sell"}}],
        },
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_replayed_events_and_history_start_nothing_twice(shop: Store, mail: SmtpSink) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="thank-you")
        record = order_record(email="e@example.com", created=NOW, status="processing")
        place(shop, record)
        place(shop, record)  # the same delivery again
        place(shop, order_record(email="old@example.com", created=NOW, status="processing"),
              backfill=True)  # fmt: skip
        drive()
        matcher.match_store(store_id=shop.pk, up_to=10**9)
        drive()
    mail.wait_for(1)
    assert FlowRun.objects.count() == 1
    assert Message.objects.count() == 1
    assert len(mail.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_duplicates_at_most_the_message_in_flight(
    shop: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="thank-you")
        for i in range(5):
            place(shop, order_record(email=f"k{i}@example.com", created=NOW, status="processing"))
        matcher.match_pending()
        runner.run_due()
        ids, _lease = sender.claim(limit=10, now=NOW)
        assert len(ids) == 5
        # The "killed" worker: it sent the first message and was killed before recording it.
        from aftercare.messaging import channels

        first = Message.objects.get(pk=min(ids))
        with channels.open_channel("email") as channel:
            channel.send(sender.outgoing_of(first))
    with time_machine.travel(NOW + sender.LEASE + timedelta(seconds=1), tick=False):
        drive()
    mail.wait_for(6)
    recipients = sorted(to for _, tos in mail.envelopes for to in tos)
    assert len(recipients) == 6 and len(set(recipients)) == 5  # one duplicate: the one in flight
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_flows_of_one_store_never_see_another_stores_events(
    shop: Store, other_store: Store, mail: SmtpSink
) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="thank-you")
        place(other_store, order_record(email="x@example.com", created=NOW, status="processing"))
        drive()
    assert not FlowRun.objects.exists()
    assert mail.messages == []


@pytest.mark.django_db(transaction=True)
def test_an_outcome_the_database_refuses_at_first_is_retried_never_resent(
    shop: Store, mail: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite answered "database is locked" after the server had accepted the mail: the
    outcome is recorded on a retry, and the mail is not requeued (it would go out twice)."""
    from django.db import OperationalError

    real_record = sender._record
    failures = iter([True, True])

    def busy_then_real(**kwargs: Any) -> None:
        if next(failures, False):
            raise OperationalError("database is locked")
        real_record(**kwargs)

    monkeypatch.setattr(sender, "_record", busy_then_real)
    monkeypatch.setattr(sender, "RECORD_RETRY_WAITS", (0.0, 0.0, 0.0))
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=shop, name="thank-you")
        place(shop, order_record(email="busy@example.com", created=NOW, status="processing"))
        drive()
    with time_machine.travel(NOW + sender.LEASE + timedelta(minutes=1), tick=False):
        drive()
    mail.wait_for(1)
    assert len(mail.messages) == 1
    assert Message.objects.get().status == MessageStatus.SENT
