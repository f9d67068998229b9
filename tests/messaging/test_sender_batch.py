"""The sender's batch: the send-time check reads suppressions, consent and topic opt-outs once
per claimed batch (after the claim, right before sending), keeps them current for the batch's
own bounces, reads them again once they are `SEND_CHECK_MAX_AGE` old, and costs a bounded
number of statements per message — against real SMTP servers (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from aftercare.core import clock
from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentState, Customer
from aftercare.events.models import Event
from aftercare.messaging import sender, suppressions
from aftercare.messaging.models import Message, MessageStatus, SendAttempt, Suppression
from aftercare.stores.models import Store
from tests.messaging.smtp_faults import FaultySmtpServer
from tests.smtp_server import SmtpSink

GONE = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"


@pytest.fixture
def faulty(settings: Any) -> Iterator[FaultySmtpServer]:
    with FaultySmtpServer() as server:
        settings.EMAIL_URL = server.url
        yield server


def customer(store: Store, email: str, *, consent_state: str = ConsentState.GRANTED) -> Customer:
    return Customer.objects.create(store=store, email=email, marketing_consent=consent_state)


def queue(
    store: Store,
    recipient: str,
    *,
    to: Customer | None = None,
    category: str = "transactional",
    topic: str = "",
) -> Message:
    now = clock.now()
    return Message.objects.create(
        store=store,
        customer=to,
        channel="email",
        category=category,
        topic=topic,
        recipient=recipient,
        sender="Acme Outfitters <shop@acme.test>",
        subject=f"Hello {recipient}",
        body_text=f"Hi {recipient}\n",
        body_html=f"<p>Hi {recipient}</p>\n",
        idempotency_key=f"test:{recipient}:{Message.objects.count()}",
        next_attempt_at=now,
        created_at=now,
    )


class Statements:
    """Counts what goes to the database driver (as bench/email_sending.py does): SQLite's BEGIN
    is a statement, COMMIT is not (the driver's commit)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def status_of(message: Message) -> tuple[str, str]:
    message.refresh_from_db()
    return message.status, message.reason


def delivered_to(server: FaultySmtpServer) -> list[str]:
    return sorted(to for mail in server.received for to in mail.rcpt_tos)


@pytest.mark.django_db(transaction=True)
def test_a_bounce_mid_batch_suppresses_a_later_message_of_the_same_batch(
    store: Store, faulty: FaultySmtpServer
) -> None:
    faulty.rcpt_replies["gone@example.com"] = GONE
    first = queue(store, "a@example.com")
    bounced = queue(store, "gone@example.com")
    middle = queue(store, "b@example.com")
    # The same address in other spelling: the server would accept it (its refusal is for the
    # exact spelling), so only the suppression the bounce made keeps it from going out.
    again = queue(store, " Gone@Example.com")
    last = queue(store, "c@example.com")

    assert sender.send_due(limit=10) == 5  # one claimed batch

    assert delivered_to(faulty) == ["a@example.com", "b@example.com", "c@example.com"]
    assert status_of(bounced) == (MessageStatus.FAILED, f"RCPT TO: {GONE}")
    assert status_of(again) == (MessageStatus.SUPPRESSED, "address suppressed (hard_bounce)")
    assert SendAttempt.objects.get(message=again).outcome == "suppressed"
    assert {status_of(m)[0] for m in (first, middle, last)} == {MessageStatus.SENT}
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason) == ("gone@example.com", "hard_bounce")
    assert suppression.source == f"message:{bounced.pk}"
    events = list(Event.objects.order_by("pk").values_list("type", "subject_id"))
    assert ("message.failed", bounced.pk) in events
    assert ("message.suppressed", again.pk) in events
    assert [t for t, _ in events].count("message.sent") == 3


@pytest.mark.django_db(transaction=True)
def test_an_address_suppressed_after_the_claim_is_not_sent(
    store: Store, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process suppresses an address (a complaint through the API) after this worker
    claimed the batch but before it sends it: the batch's facts are read after the claim."""
    queue(store, "early@example.com")
    late = queue(store, "late@example.com")
    real_claim = sender.claim

    def claim_then_complaint(**kwargs: Any) -> tuple[list[int], str]:
        claimed = real_claim(**kwargs)
        suppressions.suppress(
            store=store, channel="email", address="LATE@example.com", reason="complaint"
        )
        return claimed

    monkeypatch.setattr(sender, "claim", claim_then_complaint)

    assert sender.send_due() == 2

    assert [to for _, tos in smtp_sink.envelopes for to in tos] == ["early@example.com"]
    assert status_of(late) == (MessageStatus.SUPPRESSED, "address suppressed (complaint)")


@pytest.mark.django_db(transaction=True)
def test_changes_made_while_a_batch_is_sent_are_read_again_once_the_facts_are_old(
    store: Store, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first message goes out, someone else suppresses an address, a customer
    unsubscribes and another opts out of a topic; the facts are then older than
    SEND_CHECK_MAX_AGE (0 here), so every later message is checked against the new state."""
    jane = customer(store, "jane@example.com")
    bob = customer(store, "bob@example.com")
    first = queue(store, "first@example.com")
    complained = queue(store, "complained@example.com")
    unsubscribed = queue(store, "jane@example.com", to=jane, category="marketing")
    opted_out = queue(store, "bob@example.com", to=bob, category="marketing", topic="offers")
    other_topic = queue(
        store, "bob@example.com", to=bob, category="marketing", topic="recommendations"
    )
    monkeypatch.setattr(sender, "SEND_CHECK_MAX_AGE", 0.0)
    real_record = sender._record

    def record_then_changes(**kwargs: Any) -> None:
        real_record(**kwargs)
        if kwargs["message"].pk != first.pk:
            return
        suppressions.suppress(
            store=store, channel="email", address="complained@example.com", reason="complaint"
        )
        consent.change_consent(  # a fresh row: the sender's own rows must not be touched
            customer=Customer.objects.get(pk=jane.pk),
            channel=ConsentChannel.EMAIL,
            state=ConsentState.DENIED,
            source="test",
        )
        consent.set_topics(customer=Customer.objects.get(pk=bob.pk), unsubscribed=["offers"],
                           source="test")  # fmt: skip

    monkeypatch.setattr(sender, "_record", record_then_changes)

    assert sender.send_due() == 5

    assert sorted(to for _, tos in smtp_sink.envelopes for to in tos) == [
        "bob@example.com",
        "first@example.com",
    ]
    assert status_of(first)[0] == status_of(other_topic)[0] == MessageStatus.SENT
    assert status_of(complained) == (MessageStatus.SUPPRESSED, "address suppressed (complaint)")
    assert status_of(unsubscribed)[0] == MessageStatus.SUPPRESSED
    assert "no marketing consent" in status_of(unsubscribed)[1]
    assert status_of(opted_out) == (
        MessageStatus.SUPPRESSED,
        "opted out of topic 'offers' since it was queued",
    )


@pytest.mark.django_db(transaction=True)
def test_suppressed_addresses_and_consent_are_read_per_batch_not_per_message(
    store: Store, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statements per batch of n: a few for the batch (claim, messages, stores, suppressions)
    plus, per message, its attempt, its new state and its event (and SQLite's BEGIN) — the
    difference between a batch of 30 and one of 10 shows the per-message part alone. (The facts
    never get old here: a slow machine must not add their re-reading to the count.)"""
    monkeypatch.setattr(sender, "SEND_CHECK_MAX_AGE", 3600.0)
    Suppression.objects.create(
        store=store, channel="email", address="blocked@example.com", reason="manual",
        created_at=clock.now(),
    )  # fmt: skip

    def batch(n: int, tag: str) -> int:
        for i in range(n):
            person = customer(store, f"{tag}{i}@example.com")
            queue(
                store, person.email, to=person, category="marketing" if i % 2 else "transactional"
            )
        queue(store, "blocked@example.com")  # suppressed: one more message, no statement more
        statements = Statements()
        with connection.execute_wrapper(statements):
            assert sender.send_due(limit=200) == n + 1
        return statements.count

    small, big = batch(10, "small"), batch(30, "big")

    per_message = 3 + (connection.vendor == "sqlite")  # + BEGIN (PostgreSQL's is not a query)
    assert (big - small) / 20 <= per_message
    assert small - 11 * per_message <= 8
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 40
    assert Message.objects.filter(status=MessageStatus.SUPPRESSED).count() == 2
    assert SendAttempt.objects.count() == Event.objects.filter(type__startswith="message.").count()


@pytest.mark.django_db(transaction=True)
def test_postgresql_commits_are_asynchronous_only_while_the_batch_is_sent(
    store: Store, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    before = setting()
    seen: list[str] = []
    real_record = sender._record

    def record(**kwargs: Any) -> None:
        seen.append(setting())
        real_record(**kwargs)

    monkeypatch.setattr(sender, "_record", record)
    queue(store, "a@example.com")
    queue(store, "b@example.com")

    assert sender.send_due() == 2

    assert seen == ["off", "off"]
    assert setting() == before != "off"


@pytest.mark.django_db
def test_release_gives_back_only_what_is_still_ours(store: Store) -> None:
    """A batch over its budget releases its untried messages — not one whose lease ran out and
    that another worker has claimed since (releasing it could have it sent twice)."""
    first, second = queue(store, "a@example.com"), queue(store, "b@example.com")
    ids, lease = sender.claim(limit=10, now=clock.now())
    assert sorted(ids) == sorted([first.pk, second.pk])
    mine = sender.load(ids=ids, lease_id=lease)
    Message.objects.filter(pk=second.pk).update(lease_id="another-worker")  # reclaimed
    sender.release(messages=mine)
    assert Message.objects.get(pk=first.pk).status == MessageStatus.QUEUED
    taken = Message.objects.get(pk=second.pk)
    assert (taken.status, taken.lease_id) == (MessageStatus.SENDING, "another-worker")
