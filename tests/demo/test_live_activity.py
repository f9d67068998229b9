"""The demo store's "today": after `aftercare demo`, presets are on and a few live orders make
the worker's matcher, runner and sender fill the outbox (the local one: EMAIL_URL unset) and the
queue — once, deterministically, and not at all with `--no-flows`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from aftercare.customers.models import Customer
from aftercare.demo import live_activity
from aftercare.demo.builder import build_demo_store
from aftercare.events.models import Event
from aftercare.flows import matcher, runner
from aftercare.flows.models import Flow, FlowRun, FlowStatus, ScheduledStep, StepStatus
from aftercare.messaging import sender
from aftercare.messaging.models import Message, SendAttempt
from aftercare.orders.models import Order, Refund
from aftercare.stores.models import Store
from aftercare.stores.services import create_store

NOW = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # on the hour: the command's anchor is NOW
MARKETING = {"review-request", "cross-sell", "survey"}


@pytest.fixture(autouse=True)
def local_outbox(settings: Any) -> None:
    settings.EMAIL_URL = ""  # the embedded mode: mails are kept in the local outbox


@pytest.fixture
def at_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def drive() -> None:
    """What the worker's pollers do, until nothing is left to do now."""
    for _ in range(10):
        if not (matcher.match_pending() + runner.run_due() + sender.send_due()):
            return


def _counts(store: Store) -> list[int]:
    return [
        Order.objects.filter(store=store).count(),
        Refund.objects.filter(order__store=store).count(),
        Event.objects.filter(store=store).count(),
        Flow.objects.filter(store=store).count(),
        FlowRun.objects.filter(store=store).count(),
        ScheduledStep.objects.filter(store=store).count(),
        Message.objects.filter(store=store).count(),
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("at_now")
def test_first_start_shows_mails_in_the_outbox_and_steps_in_the_queue() -> None:
    out = _demo("--store", "live", "--customers", "150", "--seed", "5")
    store = Store.objects.get(slug="live")
    assert "today:" in out and "switched on" in out
    active = Flow.objects.filter(store=store, status=FlowStatus.ACTIVE)
    assert set(active.values_list("preset", flat=True)) == set(live_activity.PRESETS)
    assert {"ko", "ja"} <= set(store.languages)

    drive()

    sent = Message.objects.filter(store=store, status="sent")
    assert {"thank-you", "order-processing", "order-completed"} <= set(
        sent.values_list("template_key", flat=True)
    )
    assert {"ko", "ja"} & set(sent.values_list("locale", flat=True))
    assert set(sent.values_list("category", flat=True)) == {"transactional"}
    answers = SendAttempt.objects.filter(message__store=store).values_list("answer", flat=True)
    assert answers and all("kept in the local outbox" in answer for answer in answers)
    # The marketing flows wait in the queue with their due dates (5, 7 and 14 days).
    pending = ScheduledStep.objects.filter(store=store, status=StepStatus.PENDING)
    assert set(pending.values_list("flow__preset", flat=True)) == MARKETING
    assert all(NOW + timedelta(days=4) < step.due_at < NOW + timedelta(days=16) for step in pending)
    # One order completed today was refunded afterwards: its review request still waits, to be
    # skipped when due.
    refunded = Order.objects.get(
        store=store, status="refunded", date_modified__gte=NOW - timedelta(hours=1)
    )
    assert refunded.refunded_total == refunded.total
    assert pending.filter(flow__preset="review-request", run__context__order_id=refunded.pk)
    # Today's buyers: some said yes to marketing at checkout.
    buyers = Customer.objects.filter(
        store=store, orders__date_created__gte=NOW - live_activity.PLACED_WITHIN[1]
    ).distinct()
    assert buyers.filter(marketing_consent="granted").exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("at_now")
def test_a_second_run_adds_no_second_today() -> None:
    _demo("--store", "again", "--customers", "80", "--seed", "2")
    store = Store.objects.get(slug="again")
    drive()
    before = _counts(store)
    # The owner pauses a preset: running the demo again must not switch it back on.
    Flow.objects.filter(store=store, preset="survey").update(status=FlowStatus.PAUSED)
    out = _demo("--store", "again", "--customers", "80", "--seed", "2")
    assert "already there" in out
    drive()
    assert _counts(store) == before
    assert Flow.objects.get(store=store, preset="survey").status == FlowStatus.PAUSED


@pytest.mark.django_db
def test_the_refunded_orders_review_request_is_skipped_when_due() -> None:
    with time_machine.travel(NOW, tick=False):
        _demo("--store", "later", "--customers", "150", "--seed", "5")
        store = Store.objects.get(slug="later")
        drive()
    refunded = Order.objects.get(
        store=store, status="refunded", date_modified__gte=NOW - timedelta(hours=1)
    )
    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        drive()
    steps = ScheduledStep.objects.filter(
        store=store, run__context__order_id=refunded.pk, flow__preset__in=MARKETING
    )
    assert steps.count() == len(MARKETING)
    for step in steps:
        assert step.status == StepStatus.SKIPPED
        assert "re-check failed" in step.reason and "refunded" in step.reason


@pytest.mark.django_db
@pytest.mark.usefixtures("at_now")
def test_no_flows_leaves_the_history_alone() -> None:
    out = _demo("--store", "quiet", "--customers", "60", "--no-flows")
    store = Store.objects.get(slug="quiet")
    assert "today" not in out
    assert not Flow.objects.filter(store=store).exists()
    created = Event.objects.filter(store=store, type="order.created")
    assert created.exists() and all(e.payload.get("backfill") is True for e in created)
    drive()
    assert not Message.objects.filter(store=store).exists()


def _today_rows(store: Store) -> list[tuple[Any, ...]]:
    since = NOW - live_activity.PLACED_WITHIN[1]
    return list(
        Order.objects.filter(store=store, date_modified__gte=since)
        .order_by("external_id")
        .values_list("external_id", "status", "billing_email", "total", "date_created")
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("at_now")
def test_the_same_seed_gives_the_same_day_even_in_a_tiny_store() -> None:
    stores = [create_store(slug=f"t{n}", name="Demo") for n in range(3)]
    days = []
    for store, seed in zip(stores, (4, 4, 8), strict=True):
        build_demo_store(store=store, now=NOW, customers=25, seed=seed)
        days.append(live_activity.add_today(store=store, now=NOW, customers=25, seed=seed))
    assert days[0].added and days[0].completed >= live_activity.MIN_COMPLETED
    assert days[0].placed >= 3 and days[0].refunded == 1
    assert _today_rows(stores[0]) == _today_rows(stores[1])
    assert _today_rows(stores[0]) != _today_rows(stores[2])
    assert all(created <= NOW for *_, created in _today_rows(stores[0]))
