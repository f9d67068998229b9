"""Delivering the outbox: claim queued messages, send each over its channel, record every try.

    sender.send_due(limit=200)      # the worker's poller; returns how many messages it handled

**Exactly once, but for the one in flight.** Messages are claimed under a lease (status
`sending`); then each is sent and its outcome committed *before the next one is sent*. A worker
killed at any moment leaves: messages already marked sent (never sent again), at most one that
the server accepted but we did not mark (sent again once the lease expires: the one duplicate
the issue allows per kill), and claimed ones not yet tried (sent once, by whoever reclaims
them). On PostgreSQL the sender's commits run with `synchronous_commit = off` (set for the
session while a batch is sent, reset after it): a killed *worker* loses nothing (the server has
the commit); only a crash of the database server itself could forget the last few hundred
milliseconds of outcomes, and those messages would go out twice.

**At send time, again:** a suppressed address (bounced, complained) gets nothing; marketing to a
customer who unsubscribed (or opted out of the message's topic) after the message was queued is
not sent. Both are recorded as `suppressed` with the reason. What this check reads is read for
the whole claimed batch, *after* the claim, right before its first message goes out: the
suppression list (one query per store and channel, for the batch's addresses) and the
customers' consent and topic opt-outs (their rows, loaded with the messages). It is read again
whenever it is older than `SEND_CHECK_MAX_AGE` (0.5 s) when a message is checked. So a
suppression, unsubscribe or topic opt-out that someone else commits while a batch is being sent
is honoured for every message of the batch checked 0.5 s or more after it — not necessarily for
one checked sooner (a per-message query used to narrow that window to the message's own
send). A hard bounce in the batch suppresses its address at once for the rest of the batch
(the batch's list is updated with the suppression row). SMS consent lives in the consent
history and is still read per message.

**Per message sent** the database sees one transaction of three plain statements
(`core.bulk_rows`, no model instances): the `SendAttempt` row, the message's new state, and
its event through `events.bus.publish_many` (the same row as before; subscribers, if any, get
their jobs) — plus SQLite's `BEGIN`. A batch adds a handful: claim, messages (with customers),
stores (once each: a store row decrypts its secrets), suppressions.

**Failures:** a temporary one (SMTP 4xx, HTTP 429/5xx, timeouts) is retried with capped
exponential backoff up to `max_attempts`; a permanent one fails the message, and a refusal of
the address (SMTP 550 user unknown) adds it to the suppression list (`message.bounced`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Q

from aftercare.core import clock, encryption
from aftercare.core.bulk_rows import insert_tuples, update_rows
from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import Customer
from aftercare.events import bus
from aftercare.events.bus import EventDraft
from aftercare.messaging import channels, policy, suppressions
from aftercare.messaging.channels.base import Channel, Delivery, Outcome, Outgoing
from aftercare.messaging.models import (
    AttemptOutcome,
    Category,
    ChannelKind,
    Message,
    MessageStatus,
    SendAttempt,
    Suppression,
    SuppressionReason,
)
from aftercare.stores.models import Store

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 200
# Stop taking new messages from a claimed batch after this long, so the lease never runs out
# under a slow provider (a batch that outlived its lease would be sent twice).
BATCH_BUDGET_SECONDS = LEASE.total_seconds() / 3
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
# The send-time check's facts (suppressions, consent, topic opt-outs) are read again when older
# than this (seconds) at the moment a message is checked (module docstring).
SEND_CHECK_MAX_AGE = 0.5
_IN_CHUNK = 500  # addresses per `IN (…)` of the suppression look-up


# Local marker of a message the provider has answered but whose outcome is not recorded yet:
# whatever fails next, it is not "untried" (see deliver). Never stored.
IN_FLIGHT = "in_flight"
RECORD_RETRY_WAITS = (0.05, 0.2, 0.5, 1.0, 2.0, 4.0)


def backoff(attempts: int) -> timedelta:
    delay: timedelta = BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_CAP)


def _due(now: datetime) -> Q:
    return Q(status=MessageStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=MessageStatus.SENDING, locked_until__lt=now
    )


def claim(*, limit: int, now: datetime) -> tuple[list[int], str]:
    lease_id = uuid.uuid4().hex
    with transaction.atomic():
        due = Message.objects.filter(_due(now)).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            Message.objects.filter(pk__in=ids).update(
                status=MessageStatus.SENDING, lease_id=lease_id, locked_until=now + LEASE
            )
    return ids, lease_id


def send_due(*, limit: int = BATCH, now: datetime | None = None) -> int:
    ids, lease_id = claim(limit=limit, now=now or clock.now())
    if not ids:
        return 0
    read_at = time.monotonic()  # the facts below are at least this fresh
    messages = load(ids=ids, lease_id=lease_id)
    facts = SendTimeFacts(messages, read_at=read_at)
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_channel[message.channel].append(message)
    started = time.monotonic()
    with _fast_commits():
        for kind, group in by_channel.items():
            _send_group(kind=kind, group=group, started=started, facts=facts)
    return len(messages)


def load(*, ids: list[int], lease_id: str) -> list[Message]:
    """The claimed messages with their customers (full rows: the consent check reads them), in
    sending order; each store is loaded once and shared (a store row decrypts its secrets)."""
    messages = list(
        Message.objects.filter(pk__in=ids, lease_id=lease_id)
        .select_related("customer")
        .order_by("next_attempt_at", "pk")
    )
    stores = Store.objects.in_bulk({m.store_id for m in messages})
    for message in messages:
        message.store = stores[message.store_id]
    return messages


@contextmanager
def _fast_commits() -> Iterator[None]:
    """PostgreSQL: the commits made inside do not wait for the WAL flush (module docstring).
    Set for the session once, not per transaction (a statement per message saved), and reset
    however the block ends."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_group(*, kind: str, group: list[Message], started: float, facts: SendTimeFacts) -> None:
    try:
        with channels.open_channel(kind=kind) as channel:
            for position, message in enumerate(group):
                if time.monotonic() - started > BATCH_BUDGET_SECONDS:
                    release(messages=group[position:])
                    return
                deliver(channel=channel, message=message, facts=facts)
    except Exception:
        # The channel could not even be opened (or broke in a way it did not classify): every
        # message not yet tried goes back to the queue with a backoff. One the provider already
        # answered but we could not record stays leased: it is the one in flight.
        log.exception("channel %s failed", kind)
        unfinished = [m for m in group if m.status == MessageStatus.SENDING]
        _retry_later(messages=unfinished, answer="channel failed to open or crashed")


def release(*, messages: list[Message]) -> None:
    """Give claimed, untried messages back to the queue (due now) — only while they are still
    ours: one whose lease ran out and that another worker claimed since is that worker's to
    send, and putting it back in the queue could have it sent twice."""
    Message.objects.filter(
        pk__in=[m.pk for m in messages],
        status=MessageStatus.SENDING,
        lease_id__in={m.lease_id for m in messages},
    ).update(status=MessageStatus.QUEUED, lease_id="", locked_until=None)


def _retry_later(*, messages: list[Message], answer: str) -> None:
    now = clock.now()
    for message in messages:
        _record(
            message=message,
            delivery=Delivery(outcome=Outcome.TEMPORARY, answer=answer),
            now=now,
            duration_ms=0,
        )


class SendTimeFacts:
    """What the send-time check reads for a batch of messages: the suppression list for their
    addresses, and (through the messages' customer rows) consent and topic opt-outs.

    Read for the whole batch at once, again when older than `SEND_CHECK_MAX_AGE` at the moment
    a message is checked, and kept current for this batch's own hard bounces (`suppressed`)."""

    def __init__(self, messages: list[Message], *, read_at: float | None = None) -> None:
        self.messages = messages
        self.read_at = time.monotonic() if read_at is None else read_at
        # (store id, channel, normalised address) → reason
        self.suppressed: dict[tuple[int, str, str], str] = {}
        self._read_suppressions()

    def _read_suppressions(self) -> None:
        wanted: dict[tuple[int, str], set[str]] = defaultdict(set)
        for message in self.messages:
            wanted[(message.store_id, message.channel)].add(policy.normalise(message.recipient))
        found: dict[tuple[int, str, str], str] = {}
        for (store_id, channel), addresses in wanted.items():
            ordered = sorted(addresses)
            for start in range(0, len(ordered), _IN_CHUNK):
                rows = Suppression.objects.filter(
                    store_id=store_id,
                    channel=channel,
                    address__in=ordered[start : start + _IN_CHUNK],
                ).values_list("address", "reason")
                found.update(((store_id, channel, address), reason) for address, reason in rows)
        self.suppressed = found

    def _read_customers(self) -> None:
        """Consent and topic opt-outs of the customers of marketing messages, onto the rows the
        messages hold (what `consent.current_state` / `opted_out_of` read)."""
        held: dict[int, list[Customer]] = defaultdict(list)
        for message in self.messages:
            if message.category == Category.MARKETING and message.customer is not None:
                held[message.customer.pk].append(message.customer)
        if not held:
            return
        ids = sorted(held)
        for start in range(0, len(ids), _IN_CHUNK):
            rows = Customer.objects.filter(pk__in=ids[start : start + _IN_CHUNK]).values_list(
                "pk", "marketing_consent", "topic_opt_outs"
            )
            for pk, marketing_consent, topic_opt_outs in rows:
                for customer in held[pk]:
                    customer.marketing_consent = marketing_consent
                    customer.topic_opt_outs = topic_opt_outs

    def refresh_if_stale(self) -> None:
        now = time.monotonic()
        if now - self.read_at <= SEND_CHECK_MAX_AGE:
            return
        self._read_suppressions()
        self._read_customers()
        self.read_at = now

    def suppression_of(self, message: Message) -> str:
        """The suppression reason of the message's address on its channel, or ""."""
        key = (message.store_id, message.channel, policy.normalise(message.recipient))
        return self.suppressed.get(key, "")

    def suppress(self, message: Message, *, reason: str) -> None:
        """The message's address was just suppressed (by this batch): later messages see it."""
        key = (message.store_id, message.channel, policy.normalise(message.recipient))
        self.suppressed.setdefault(key, reason)


def _blocked(message: Message, facts: SendTimeFacts) -> str:
    facts.refresh_if_stale()
    if reason := facts.suppression_of(message):
        return f"address suppressed ({reason})"
    if (
        message.category == Category.MARKETING
        and message.customer is not None
        and message.channel in (ChannelKind.EMAIL, ChannelKind.SMS)
    ):
        state = consent.current_state(
            customer=message.customer, channel=ConsentChannel(message.channel)
        )
        if not consent.is_subscribed(store=message.store, state=state):
            return "no marketing consent at send time (unsubscribed since it was queued)"
        if consent.opted_out_of(customer=message.customer, topic=message.topic):
            return f"opted out of topic {message.topic!r} since it was queued"
    return ""


def _secret(message: Message) -> str:
    stored = str((message.headers or {}).get("secret", ""))
    return encryption.decrypt(stored) if stored else ""


def outgoing_of(message: Message) -> Outgoing:
    headers = {k: str(v) for k, v in (message.headers or {}).items() if k != "secret"}
    return Outgoing(
        message_id=message.pk,
        channel=message.channel,
        recipient=message.recipient,
        sender=message.sender,
        reply_to=message.reply_to,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        headers=headers,
        secret=_secret(message),
    )


def deliver(*, channel: Channel, message: Message, facts: SendTimeFacts | None = None) -> None:
    """Send one claimed message and commit its outcome before returning. `facts`: the batch's
    send-time facts (read for this message alone when not given)."""
    if facts is None:
        facts = SendTimeFacts([message])
    now = clock.now()
    if reason := _blocked(message, facts):
        _record_suppressed(message=message, reason=reason, now=now)
        return
    began = time.perf_counter()
    delivery = channel.send(outgoing_of(message))
    duration_ms = int((time.perf_counter() - began) * 1000)
    # From here the provider has answered: this message must never be requeued as untried
    # (that would send it twice), only recorded — retried while the database is busy.
    message.status = IN_FLIGHT
    _record_answer(message=message, delivery=delivery, duration_ms=duration_ms)
    if delivery.bad_address and message.status == MessageStatus.FAILED:
        # _record put the address on the suppression list: the rest of the batch sees it too.
        facts.suppress(message, reason=SuppressionReason.HARD_BOUNCE.value)


def _record_answer(*, message: Message, delivery: Delivery, duration_ms: int) -> None:
    for wait in RECORD_RETRY_WAITS:
        try:
            _record(message=message, delivery=delivery, now=clock.now(), duration_ms=duration_ms)
            return
        except OperationalError:  # SQLite "database is locked", a PostgreSQL blip
            log.warning("message %s: outcome not recorded yet, retrying", message.pk)
            time.sleep(wait)
    _record(message=message, delivery=delivery, now=clock.now(), duration_ms=duration_ms)


_ATTEMPT_COLUMNS = ("message_id", "attempted_at", "outcome", "answer", "duration_ms")


def _insert_attempt(
    *, message: Message, now: datetime, outcome: str, answer: str, duration_ms: int = 0
) -> None:
    insert_tuples(
        model=SendAttempt,
        columns=_ATTEMPT_COLUMNS,
        rows=[(message.pk, now, outcome, answer, duration_ms)],
    )


def _update_message(*, message: Message, update: dict[str, Any]) -> None:
    update_rows(model=Message, fields=tuple(update), rows=[{**update, "id": message.pk}])


def _record_suppressed(*, message: Message, reason: str, now: datetime) -> None:
    with transaction.atomic():
        _insert_attempt(
            message=message, now=now, outcome=AttemptOutcome.SUPPRESSED.value, answer=reason
        )
        _update_message(
            message=message,
            update={
                "status": MessageStatus.SUPPRESSED.value,
                "reason": reason[:200],
                "lease_id": "",
                "locked_until": None,
            },
        )
        _event(message, "message.suppressed", now, {"reason": reason})
    message.status = MessageStatus.SUPPRESSED


def _record(*, message: Message, delivery: Delivery, now: datetime, duration_ms: int) -> None:
    attempts = message.attempts + 1
    with transaction.atomic():
        _insert_attempt(
            message=message,
            now=now,
            outcome=delivery.outcome.value,
            answer=delivery.answer[:2000],
            duration_ms=duration_ms,
        )
        update: dict[str, Any] = {"attempts": attempts, "lease_id": "", "locked_until": None}
        if delivery.outcome is Outcome.SENT:
            update |= {
                "status": MessageStatus.SENT.value,
                "sent_at": now,
                "provider_message_id": delivery.provider_id[:200],
                "reason": "",
            }
            _event(message, "message.sent", now, {"channel": message.channel})
        elif delivery.outcome is Outcome.TEMPORARY and attempts < message.max_attempts:
            update |= {
                "status": MessageStatus.QUEUED.value,
                "next_attempt_at": now + backoff(attempts),
                "reason": f"retrying: {delivery.answer}"[:200],
            }
        else:
            update |= {"status": MessageStatus.FAILED.value, "reason": delivery.answer[:200]}
            _event(message, "message.failed", now, {"answer": delivery.answer[:500]})
            if delivery.bad_address:
                _suppress_bounce(message=message, answer=delivery.answer, now=now)
        _update_message(message=message, update=update)
    message.status = str(update["status"])
    message.attempts = attempts


def _suppress_bounce(*, message: Message, answer: str, now: datetime) -> None:
    suppressions.suppress(
        store=message.store,
        channel=message.channel,
        address=message.recipient,
        reason=SuppressionReason.HARD_BOUNCE,
        detail=answer,
        source=f"message:{message.pk}",
    )


def _event(message: Message, type_: str, now: datetime, payload: dict[str, object]) -> None:
    bus.publish_many(
        [
            EventDraft(
                store_id=message.store_id,
                type=type_,
                subject_type="message",
                subject_id=message.pk,
                customer_id=message.customer_id,
                occurred_at=now,
                payload={"flow_id": message.flow_id, "template": message.template_key, **payload},
            )
        ]
    )
