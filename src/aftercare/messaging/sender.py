"""Delivering the outbox: claim queued messages, send each over its channel, record every try.

    sender.send_due(limit=200)      # the worker's poller; returns how many messages it handled

**Exactly once, but for the one in flight.** Messages are claimed under a lease (status
`sending`); then each is sent and its outcome committed *before the next one is sent*. A worker
killed at any moment leaves: messages already marked sent (never sent again), at most one that
the server accepted but we did not mark (sent again once the lease expires: the one duplicate
the issue allows per kill), and claimed ones not yet tried (sent once, by whoever reclaims
them). On PostgreSQL each outcome commits with `synchronous_commit = off`: a killed *worker*
loses nothing (the server has the commit); only a crash of the database server itself could
forget the last few hundred milliseconds of outcomes, and those messages would go out twice.

**At send time, again:** a suppressed address (bounced, complained) gets nothing; marketing to a
customer who unsubscribed (or opted out of the message's topic) after the message was queued is
not sent. Both are recorded as `suppressed` with the reason.

**Failures:** a temporary one (SMTP 4xx, HTTP 429/5xx, timeouts) is retried with capped
exponential backoff up to `max_attempts`; a permanent one fails the message, and a refusal of
the address (SMTP 550 user unknown) adds it to the suppression list (`message.bounced`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Q

from aftercare.core import clock, encryption
from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
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
    SuppressionReason,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 200
# Stop taking new messages from a claimed batch after this long, so the lease never runs out
# under a slow provider (a batch that outlived its lease would be sent twice).
BATCH_BUDGET_SECONDS = LEASE.total_seconds() / 3
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)


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
    messages = list(
        Message.objects.filter(pk__in=ids, lease_id=lease_id)
        .select_related("customer", "store")
        .order_by("next_attempt_at", "pk")
    )
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_channel[message.channel].append(message)
    started = time.monotonic()
    for kind, group in by_channel.items():
        _send_group(kind=kind, group=group, started=started)
    return len(messages)


def _send_group(*, kind: str, group: list[Message], started: float) -> None:
    try:
        with channels.open_channel(kind=kind) as channel:
            for position, message in enumerate(group):
                if time.monotonic() - started > BATCH_BUDGET_SECONDS:
                    release(messages=group[position:])
                    return
                deliver(channel=channel, message=message)
    except Exception:
        # The channel could not even be opened (or broke in a way it did not classify): every
        # message not yet tried goes back to the queue with a backoff. One the provider already
        # answered but we could not record stays leased: it is the one in flight.
        log.exception("channel %s failed", kind)
        unfinished = [m for m in group if m.status == MessageStatus.SENDING]
        _retry_later(messages=unfinished, answer="channel failed to open or crashed")


def release(*, messages: list[Message]) -> None:
    """Give claimed, untried messages back to the queue (due now)."""
    Message.objects.filter(pk__in=[m.pk for m in messages], status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, lease_id="", locked_until=None
    )


def _retry_later(*, messages: list[Message], answer: str) -> None:
    now = clock.now()
    for message in messages:
        _record(
            message=message,
            delivery=Delivery(outcome=Outcome.TEMPORARY, answer=answer),
            now=now,
            duration_ms=0,
        )


def _blocked(message: Message) -> str:
    if reason := policy.is_suppressed(
        store=message.store, channel=message.channel, address=message.recipient
    ):
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


def deliver(*, channel: Channel, message: Message) -> None:
    """Send one claimed message and commit its outcome before returning."""
    now = clock.now()
    if reason := _blocked(message):
        _record_suppressed(message=message, reason=reason, now=now)
        return
    began = time.perf_counter()
    delivery = channel.send(outgoing_of(message))
    duration_ms = int((time.perf_counter() - began) * 1000)
    # From here the provider has answered: this message must never be requeued as untried
    # (that would send it twice), only recorded — retried while the database is busy.
    message.status = IN_FLIGHT
    for wait in RECORD_RETRY_WAITS:
        try:
            _record(message=message, delivery=delivery, now=clock.now(), duration_ms=duration_ms)
            return
        except OperationalError:  # SQLite "database is locked", a PostgreSQL blip
            log.warning("message %s: outcome not recorded yet, retrying", message.pk)
            time.sleep(wait)
    _record(message=message, delivery=delivery, now=clock.now(), duration_ms=duration_ms)


def _fast_commit() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record_suppressed(*, message: Message, reason: str, now: datetime) -> None:
    with transaction.atomic():
        _fast_commit()
        SendAttempt.objects.create(
            message=message, attempted_at=now, outcome=AttemptOutcome.SUPPRESSED, answer=reason
        )
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SUPPRESSED, reason=reason[:200], lease_id="", locked_until=None
        )
        _event(message, "message.suppressed", now, {"reason": reason})
    message.status = MessageStatus.SUPPRESSED


def _record(*, message: Message, delivery: Delivery, now: datetime, duration_ms: int) -> None:
    attempts = message.attempts + 1
    with transaction.atomic():
        _fast_commit()
        SendAttempt.objects.create(
            message=message,
            attempted_at=now,
            outcome=delivery.outcome.value,
            answer=delivery.answer[:2000],
            duration_ms=duration_ms,
        )
        update: dict[str, object] = {"attempts": attempts, "lease_id": "", "locked_until": None}
        if delivery.outcome is Outcome.SENT:
            update |= {
                "status": MessageStatus.SENT,
                "sent_at": now,
                "provider_message_id": delivery.provider_id[:200],
                "reason": "",
            }
            _event(message, "message.sent", now, {"channel": message.channel})
        elif delivery.outcome is Outcome.TEMPORARY and attempts < message.max_attempts:
            update |= {
                "status": MessageStatus.QUEUED,
                "next_attempt_at": now + backoff(attempts),
                "reason": f"retrying: {delivery.answer}"[:200],
            }
        else:
            update |= {"status": MessageStatus.FAILED, "reason": delivery.answer[:200]}
            _event(message, "message.failed", now, {"answer": delivery.answer[:500]})
            if delivery.bad_address:
                _suppress_bounce(message=message, answer=delivery.answer, now=now)
        Message.objects.filter(pk=message.pk).update(**update)
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
