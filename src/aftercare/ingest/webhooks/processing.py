"""Applying stored webhook deliveries to the mirror, in batches, from the worker.

    drain_inbox(limit=500) -> number of deliveries handled

Deliveries are claimed with a lease (a crashed worker's claims expire and are taken again),
grouped by store and resource, parsed, and applied with one `mirror.apply_*` call per group.
A delivery that cannot be parsed is `dead` at once (retrying cannot fix its body; after a code
fix, `aftercare webhooks replay` re-queues it); a batch that fails in the database is retried
one delivery at a time so one poison delivery cannot hold the others back."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from aftercare.core import clock
from aftercare.ingest import mirror, suppression, woo_mapping
from aftercare.ingest.mirror.result import Outcome
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.ingest.webhooks import topics
from aftercare.stores.models import Store

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10
_APPLIERS: dict[str, tuple[Callable[[Any], Any], Callable[..., mirror.ApplyResult]]] = {
    "order": (
        woo_mapping.parse_order,
        lambda **kw: mirror.apply_orders(source="woocommerce", **kw),
    ),
    "customer": (woo_mapping.parse_customer, mirror.apply_customers),
    "product": (woo_mapping.parse_product, mirror.apply_products),
    "coupon": (woo_mapping.parse_coupon, mirror.apply_coupons),
}


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


def claim(*, limit: int) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries under a lease (SKIP LOCKED on PostgreSQL; SQLite's
    IMMEDIATE transactions serialise claimers)."""
    now = clock.now()
    due = Q(status__in=[DeliveryStatus.RECEIVED, DeliveryStatus.FAILED], next_attempt_at__lte=now)
    due &= Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    with transaction.atomic():
        candidates = WebhookDelivery.objects.filter(due).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        WebhookDelivery.objects.filter(id__in=ids).filter(due).update(locked_until=now + LEASE)
    claimed = WebhookDelivery.objects.filter(id__in=ids, locked_until=now + LEASE)
    # The stored headers are for people and replays; applying needs the body only.
    return list(claimed.defer("headers").order_by("id"))


def _finish(delivery: WebhookDelivery, *, status: str, outcome: str) -> None:
    delivery.status = status
    delivery.outcome = outcome[:2000]
    delivery.locked_until = None
    delivery.processed_at = clock.now()


def _fail(delivery: WebhookDelivery, error: str) -> None:
    delivery.attempts += 1
    dead = delivery.attempts >= MAX_ATTEMPTS
    _finish(delivery, status=DeliveryStatus.DEAD if dead else DeliveryStatus.FAILED, outcome=error)
    delivery.next_attempt_at = clock.now() + _backoff(delivery.attempts)


_OUTCOME_STATUS = {
    Outcome.CREATED: DeliveryStatus.PROCESSED,
    Outcome.UPDATED: DeliveryStatus.PROCESSED,
    Outcome.DELETED: DeliveryStatus.PROCESSED,
    Outcome.UNCHANGED: DeliveryStatus.IGNORED,
    Outcome.STALE: DeliveryStatus.IGNORED,
    Outcome.NOT_FOUND: DeliveryStatus.IGNORED,
    Outcome.SUPPRESSED: DeliveryStatus.IGNORED,
}
_OUTCOME_TEXT = {
    Outcome.UNCHANGED: "same as stored (duplicate delivery)",
    Outcome.STALE: "older than what we have (late or replayed delivery)",
    Outcome.NOT_FOUND: "deleted object unknown here (or of another type)",
    Outcome.SUPPRESSED: "a person erased under the GDPR: not mirrored again",
}


def _email_of(record: Any) -> str:
    identity = getattr(record, "customer", None) or getattr(record, "identity", None)
    return str(getattr(identity, "email", "") or "")


def _redact(delivery: WebhookDelivery) -> None:
    delivery.body = suppression.ERASED_BODY
    delivery.headers = {}


def _apply_group(store: Store, resource: str, deliveries: Sequence[WebhookDelivery]) -> None:
    """Apply deliveries of one store and resource in receive order; sets each one's status.

    Consecutive upserts go to the mirror as one batch; a delete flushes the batch first, so
    "created, then trashed" never ends as "trashed, then created"."""
    parse, apply = _APPLIERS[resource]
    upserts: list[tuple[WebhookDelivery, Any]] = []

    def flush() -> None:
        if not upserts:
            return
        result = apply(store=store, records=[record for _, record in upserts])
        hidden = suppression.lookup(store=store, emails={_email_of(r) for _, r in upserts})
        for (delivery, record), outcome in zip(upserts, result.outcomes, strict=True):
            _finish(
                delivery,
                status=_OUTCOME_STATUS[outcome],
                outcome=_OUTCOME_TEXT.get(outcome, outcome.value),
            )
            found = hidden.get(_email_of(record)) if hidden else None
            if found is not None and found.hides(getattr(record, "date_created", None)):
                _redact(delivery)  # an erased person: their raw payload is not kept either
        upserts.clear()

    for delivery in deliveries:
        event = topics.split(delivery.topic)[1]
        try:
            payload = json.loads(delivery.body)
            if event != "deleted":
                upserts.append((delivery, parse(payload)))
                continue
            record = woo_mapping.parse_deleted(payload)
        except (ValueError, woo_mapping.MappingError) as exc:
            delivery.attempts += 1
            _finish(delivery, status=DeliveryStatus.DEAD, outcome=f"cannot be mirrored: {exc}")
            continue
        flush()
        result = mirror.mark_deleted(
            store=store, resource=resource, external_id=record.external_id, at=delivery.received_at
        )
        _finish(
            delivery,
            status=_OUTCOME_STATUS[result],
            outcome=_OUTCOME_TEXT.get(result, result.value),
        )
    flush()


def _handle_action(store: Store, delivery: WebhookDelivery) -> None:
    """`action.woocommerce_order_status_*` names an order id: fetch it over REST in a job."""
    from aftercare.ingest import handlers  # job handlers import this module

    if delivery.resource_id is None:
        _finish(delivery, status=DeliveryStatus.DEAD, outcome="action without an order id (arg)")
        return
    handlers.fetch_order.enqueue(
        store_id=store.pk,
        order_external_id=delivery.resource_id,
        dedupe_key=f"fetch_order:{store.pk}:{delivery.resource_id}",
    )
    _finish(delivery, status=DeliveryStatus.PROCESSED, outcome="order fetch queued")


def _save(deliveries: Sequence[WebhookDelivery]) -> None:
    """Write the deliveries' new state with one UPDATE per distinct outcome (a batch has a
    handful: created, updated, duplicate, stale…) instead of `bulk_update`, whose CASE WHEN per
    row and field costs about a millisecond per row to build. `processed_at` is the group's
    latest (they differ by the microseconds between their `_finish` calls); `next_attempt_at`
    is written only for deliveries `_fail` re-scheduled."""
    groups: dict[tuple[Any, ...], list[WebhookDelivery]] = defaultdict(list)
    for d in deliveries:
        retry_at = d.next_attempt_at if d.status == DeliveryStatus.FAILED else None
        groups[(d.status, d.outcome, d.locked_until, d.attempts, retry_at)].append(d)
    for (status, outcome, locked_until, attempts, retry_at), group in groups.items():
        values: dict[str, Any] = {
            "status": status,
            "outcome": outcome,
            "locked_until": locked_until,
            "attempts": attempts,
            "processed_at": max((d.processed_at for d in group if d.processed_at), default=None),
        }
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        ids = [d.pk for d in group]
        for start in range(0, len(ids), 500):
            WebhookDelivery.objects.filter(pk__in=ids[start : start + 500]).update(**values)
    erased = suppression.ERASED_BODY
    redacted = [d.pk for d in deliveries if d.body == erased]
    if redacted:
        WebhookDelivery.objects.filter(pk__in=redacted).update(body=erased, headers={})


def _chunk_size() -> int:
    """Deliveries applied per transaction. On SQLite a write transaction locks the whole
    database, and the webhook receiver's INSERT waits behind it: short transactions keep the
    receiver's acknowledgements fast while the worker drains a backlog (the cost is a little
    throughput). PostgreSQL locks rows, so big batches are free there."""
    configured: int = settings.INBOX_APPLY_CHUNK
    if configured > 0:
        return configured
    return 40 if connection.vendor == "sqlite" else 500


def process(deliveries: Sequence[WebhookDelivery]) -> None:
    """Apply claimed deliveries (in receive order within each store and resource)."""
    groups: dict[tuple[int, str], list[WebhookDelivery]] = defaultdict(list)
    stores = {s.pk: s for s in Store.objects.filter(pk__in={d.store_id for d in deliveries})}
    for delivery in deliveries:
        resource = topics.split(delivery.topic)[0]
        groups[(delivery.store_id, resource)].append(delivery)
    size = _chunk_size()
    for (store_id, resource), whole_group in groups.items():
        for start in range(0, len(whole_group), size):
            _process_group(stores[store_id], resource, whole_group[start : start + size])


def _process_group(store: Store, resource: str, group: list[WebhookDelivery]) -> None:
    """One transaction: apply `group` (one store, one resource, in receive order). If it fails,
    each delivery is retried on its own, so one poison delivery cannot hold the others back."""
    try:
        with transaction.atomic():
            if resource == "action":
                for delivery in group:
                    _handle_action(store, delivery)
            elif resource in _APPLIERS:
                _apply_group(store, resource, group)
            else:
                for delivery in group:
                    _finish(
                        delivery,
                        status=DeliveryStatus.IGNORED,
                        outcome=f"unknown topic {delivery.topic!r}",
                    )
            _save(group)
    except Exception as exc:
        if len(group) > 1:
            for delivery in group:
                _process_group(store, resource, [delivery])
            return
        logger.exception("webhook delivery %s failed", group[0].pk)
        _fail(group[0], f"{type(exc).__name__}: {exc}")
        _save(group)


def drain_inbox(*, limit: int = 500) -> int:
    """One worker tick: claim and apply up to `limit` deliveries. Returns how many."""
    deliveries = claim(limit=limit)
    if deliveries:
        process(deliveries)
    return len(deliveries)


def drain_for(*, seconds: float = 0.5, limit: int = 500) -> int:
    """The worker's poller: keep draining while there is work, for at most `seconds`, so a
    backlog is applied at full speed rather than one batch per worker tick."""
    deadline = time.monotonic() + seconds
    total = 0
    while True:
        handled = drain_inbox(limit=limit)
        total += handled
        if handled < limit or time.monotonic() >= deadline:
            return total


def requeue(*, store: Store, statuses: Sequence[str] = (DeliveryStatus.DEAD,)) -> int:
    """Put deliveries back in the inbox (after a fix): they are applied again, idempotently."""
    return WebhookDelivery.objects.filter(store=store, status__in=list(statuses)).update(
        status=DeliveryStatus.RECEIVED, next_attempt_at=clock.now(), locked_until=None, attempts=0
    )
