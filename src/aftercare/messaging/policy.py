"""The never-spam rules, in one place: who may get marketing, when, and how often.

    policy.quiet_until(now=now, zone=zone, start=time(21), end=time(8))   # None, or when it ends
    policy.take_marketing_slot(store=s, customer_id=5, channel="email", now=now, cap_hours=16)

- **Quiet hours** (marketing only): a message due between `start` and `end` on the customer's
  local clock (the window may wrap midnight) waits until `end`.
- **Frequency cap** (marketing only): at most one marketing message per customer and channel per
  `cap_hours`. Taking the slot is one conditional UPDATE of the customer's `ContactThrottle` row
  (or its INSERT), so two workers handling two flows for one customer at the same moment cannot
  both pass; the loser is told "capped" and records the skip. The slot is taken in the caller's
  transaction: if the message is then not written (a crash), the slot is given back with it.
- **Consent**: `customers.consent.is_subscribed` (store's opt-in / opt-out mode), re-checked at
  send time; **suppression** (hard bounce, complaint) blocks transactional mail too.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from aftercare.core import bulk_rows, local_time
from aftercare.messaging.models import ContactThrottle, Suppression
from aftercare.stores.models import Store


def in_quiet_hours(*, local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight (21:00 to 08:00)


def quiet_until(*, now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime | None:
    """None when `now` is outside quiet hours on the local clock; else the UTC moment they end."""
    local = now.astimezone(zone)
    if not in_quiet_hours(local=local.time(), start=start, end=end):
        return None
    day = local.date()
    if start > end and local.time() >= start:  # evening part of a window that wraps midnight
        day += timedelta(days=1)
    return local_time.local_to_utc(day, end, zone)


def is_suppressed(*, store: Store, channel: str, address: str) -> str:
    """The suppression reason of `address` on `channel`, or "" when it may be sent to."""
    reason = (
        Suppression.objects.filter(store=store, channel=channel, address=normalise(address))
        .values_list("reason", flat=True)
        .first()
    )
    return reason or ""


def normalise(address: str) -> str:
    return address.strip().lower()


def take_marketing_slot(
    *,
    store: Store,
    customer_id: int,
    channel: str,
    now: datetime,
    cap_hours: int,
    has_row: bool | None = None,
) -> bool:
    """Claim the customer's marketing slot on `channel`: False when another marketing message
    went out less than `cap_hours` ago (0 = no cap, the time is still recorded). `has_row`:
    whether the customer's throttle row is known to exist (a batch loaded them), which saves a
    look-up; None = not known."""
    cutoff = now - timedelta(hours=cap_hours) if cap_hours else now
    if has_row is False and _insert_slot(
        store=store, customer_id=customer_id, channel=channel, now=now
    ):
        return True
    updated = ContactThrottle.objects.filter(
        customer_id=customer_id, channel=channel, last_marketing_at__lte=cutoff
    ).update(last_marketing_at=now)
    if updated:
        return True
    if has_row is not None:
        return False  # the row exists (known, or another worker inserted it a moment ago)
    if ContactThrottle.objects.filter(customer_id=customer_id, channel=channel).exists():
        return False
    return _insert_slot(store=store, customer_id=customer_id, channel=channel, now=now)


def _insert_slot(*, store: Store, customer_id: int, channel: str, now: datetime) -> bool:
    """The customer's first marketing slot on `channel`; False when their row exists (another
    worker took it a moment ago) — `ON CONFLICT DO NOTHING`, no savepoint needed."""
    inserted = bulk_rows.insert_or_skip(
        model=ContactThrottle,
        columns=("store_id", "customer_id", "channel", "last_marketing_at"),
        rows=[(store.pk, customer_id, channel, now)],
        conflict=("customer", "channel"),
        returning=("id",),
    )
    return bool(inserted)
