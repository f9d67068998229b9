"""Scheduled triggers: birthdays, first-order anniversaries and win-back, found by a scan.

    schedule.scan_all(now=now)     # the worker's hourly periodic; returns runs started

No event says "today is Ana's birthday", so once an hour each store with such an active flow
is scanned for the customers whose day it is **on their own clock** (their time zone, else the
store's), from 09:00 local on. Runs are keyed by the occasion (`birthday:2026`,
`anniversary:2026`, `winback:<date of the last order>`), so scanning every hour — or twice,
from two workers — starts each occasion once, and a win-back re-arms by itself after the next
purchase (the last order's date, and with it the key, changes).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q

from aftercare.analytics.models import CustomerStats
from aftercare.core import clock, local_time
from aftercare.customers.models import Customer
from aftercare.flows import active, matcher
from aftercare.flows.active import ActiveFlow
from aftercare.flows.matcher import Candidate
from aftercare.flows.models import Flow, FlowStatus
from aftercare.flows.triggers import Start
from aftercare.stores.models import Store

SCHEDULED = ("customer.birthday", "customer.first_order_anniversary", "customer.win_back")
FROM_LOCAL_TIME = time(9, 0)
WIN_BACK_GRACE = timedelta(days=7)  # a worker down for a few days still catches up


def scan_all(*, now: datetime | None = None) -> int:
    now = now or clock.now()
    started = 0
    store_ids = (
        Flow.objects.filter(status=FlowStatus.ACTIVE, trigger__in=SCHEDULED)
        .values_list("store_id", flat=True)
        .distinct()
    )
    for store in Store.objects.filter(pk__in=list(store_ids)):
        started += scan_store(store=store, now=now)
    return started


def scan_store(*, store: Store, now: datetime) -> int:
    flows = [f for f in active.load(store_id=store.pk) if f.definition.trigger.type in SCHEDULED]
    found: list[Candidate] = []
    for flow in flows:
        kind = flow.definition.trigger.type
        config = flow.definition.trigger.config
        if kind == "customer.birthday":
            found += _birthdays(store=store, flow=flow, config=config, now=now)
        elif kind == "customer.first_order_anniversary":
            found += _anniversaries(store=store, flow=flow, config=config, now=now)
        else:
            found += _win_backs(store=store, flow=flow, config=config, now=now)
    return matcher.start_candidates(store=store, found=found, now=now)


def _days_before(config: dict[str, Any]) -> int:
    try:
        return max(0, min(int(config.get("days_before") or 0), 60))
    except (TypeError, ValueError):
        return 0


def _month_day_filter(field: str, days: list[date]) -> Q:
    query = Q()
    for day in days:
        query |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
        if (day.month, day.day) == (2, 28):  # Feb 29 birthdays are Feb 28 in common years
            try:
                date(day.year, 2, 29)
            except ValueError:
                query |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return query


def _is_the_day(
    *, anchor: date, days_before: int, zone_name: str, store: Store, now: datetime
) -> date | None:
    """The occasion's date if, on the person's clock, today is `days_before` it and it is past
    09:00; else None."""
    zone = local_time.zone(store_tz=store.time_zone, customer_tz=zone_name)
    local = now.astimezone(zone)
    if local.time() < FROM_LOCAL_TIME:
        return None
    target = local.date() + timedelta(days=days_before)
    occasion = local_time.next_anniversary(of=anchor, on_or_after=target)
    return occasion if occasion == target else None


def _window(now: datetime, days_before: int) -> list[date]:
    today = now.date()
    return [today + timedelta(days=days_before + shift) for shift in (-1, 0, 1)]


def _birthdays(
    *, store: Store, flow: ActiveFlow, config: dict[str, Any], now: datetime
) -> list[Candidate]:
    days_before = _days_before(config)
    rows = Customer.objects.filter(
        _month_day_filter("birthday", _window(now, days_before)),
        store=store,
        deleted_at__isnull=True,
    ).values_list("id", "birthday", "time_zone")
    found = []
    for customer_id, birthday, zone_name in rows:
        if birthday is None:
            continue
        occasion = _is_the_day(
            anchor=birthday, days_before=days_before, zone_name=zone_name, store=store, now=now
        )
        if occasion is not None:
            found.append(_candidate(flow, customer_id, f"birthday:{occasion.year}", occasion))
    return found


def _anniversaries(
    *, store: Store, flow: ActiveFlow, config: dict[str, Any], now: datetime
) -> list[Candidate]:
    days_before = _days_before(config)
    rows = CustomerStats.objects.filter(
        _month_day_filter("first_order_at", _window(now, days_before)),
        store=store,
        customer__deleted_at__isnull=True,
    ).values_list("customer_id", "first_order_at", "customer__time_zone")
    found = []
    for customer_id, first_order_at, zone_name in rows:
        if first_order_at is None:
            continue
        anchor = first_order_at.astimezone(
            local_time.zone(store_tz=store.time_zone, customer_tz=zone_name)
        ).date()
        occasion = _is_the_day(
            anchor=anchor, days_before=days_before, zone_name=zone_name, store=store, now=now
        )
        if occasion is not None and occasion.year > anchor.year:
            key = f"anniversary:{occasion.year}"
            found.append(
                _candidate(flow, customer_id, key, occasion, years=occasion.year - anchor.year)
            )
    return found


def _win_backs(
    *, store: Store, flow: ActiveFlow, config: dict[str, Any], now: datetime
) -> list[Candidate]:
    try:
        days = max(1, int(config.get("days") or 90))
    except (TypeError, ValueError):
        days = 90
    latest = now - timedelta(days=days)
    rows = CustomerStats.objects.filter(
        store=store,
        customer__deleted_at__isnull=True,
        last_order_at__lte=latest,
        last_order_at__gt=latest - WIN_BACK_GRACE,
    ).values_list("customer_id", "last_order_at")
    return [
        _candidate(flow, customer_id, f"winback:{last.date().isoformat()}", last.date())
        for customer_id, last in rows
        if last is not None
    ]


def _candidate(
    flow: ActiveFlow, customer_id: int, key: str, occasion: date, **extra: Any
) -> Candidate:
    context = {
        "event_type": flow.definition.trigger.type,
        "occasion": occasion.isoformat(),
        **extra,
    }
    return Candidate(
        flow=flow,
        event=None,
        start=Start(subject_key=key, customer_id=customer_id, context=context),
    )
