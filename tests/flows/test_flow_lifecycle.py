"""Flows as staff live with them: presets, YAML round trips, edits while runs wait, pausing,
the queue's cancel / run now / retry, branching on what the trigger saw, thresholds, and the
scheduled triggers (birthday on the customer's clock, win-back re-arming)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from aftercare.analytics.models import CustomerStats
from aftercare.core.errors import InvalidInput
from aftercare.customers.models import Customer
from aftercare.flows import matcher, runner, schedule, services
from aftercare.flows.definition import InvalidFlow
from aftercare.flows.models import Flow, FlowRun, FlowStatus, ScheduledStep, StepStatus
from aftercare.messaging.models import Message
from aftercare.stores.models import Store
from tests.analytics.factories import order_record, place

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def drive() -> None:
    for _ in range(10):
        if not (matcher.match_pending() + runner.run_due()):
            return


def _wait_then_mail(name: str = "Later") -> dict[str, object]:
    return {
        "name": name,
        "category": "transactional",
        "trigger": {"type": "order.completed"},
        "steps": [
            {"key": "wait", "type": "wait", "days": 2},
            {"key": "mail", "type": "action", "action": "send_email",
             "params": {"template": "order-completed"}},
        ],
    }  # fmt: skip


@pytest.mark.django_db
def test_enabling_a_preset_twice_makes_one_flow(store: Store) -> None:
    first = services.enable_preset(store=store, name="review-request")
    services.set_status(flow=first, status=FlowStatus.PAUSED)
    again = services.enable_preset(store=store, name="review-request")
    assert again.pk == first.pk and again.status == FlowStatus.ACTIVE
    assert Flow.objects.filter(store=store).count() == 1


@pytest.mark.django_db
def test_yaml_round_trip_and_bad_files(store: Store) -> None:
    flow = services.enable_preset(store=store, name="order-status")
    text = services.export_yaml(flow=flow)
    copy = services.import_yaml(store=store, text=text)
    assert copy.status == FlowStatus.DRAFT  # imported flows are reviewed before they run
    assert services.export_yaml(flow=copy) == text
    with pytest.raises(InvalidInput):
        services.import_yaml(store=store, text="name: [unclosed")
    with pytest.raises(InvalidFlow) as error:
        services.import_yaml(
            store=store,
            text="name: x\ntrigger: {type: order.teleported}\n"
            "steps: [{key: a, type: action, action: launch_rocket}]\n",
        )
    assert set(error.value.problems) == {"trigger.type", "steps.0.action"}


@pytest.mark.django_db
def test_a_step_removed_by_an_edit_is_skipped_with_its_reason(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        flow = services.create_flow(store=store, data=_wait_then_mail(), status="active")
        place(store, order_record(email="a@example.com", created=NOW, status="completed"))
        drive()
        data = _wait_then_mail()
        data["steps"] = [{"key": "other", "type": "action", "action": "add_tag",
                          "params": {"tag": "x"}}]  # fmt: skip
        services.update_flow(flow=flow, data=data)
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        drive()
    step = ScheduledStep.objects.get()
    assert (step.status, step.reason) == ("skipped", "this step is no longer in the flow")


@pytest.mark.django_db
def test_a_paused_flow_keeps_its_steps_waiting_and_run_now_cancel_retry(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        flow = services.create_flow(store=store, data=_wait_then_mail(), status="active")
        for i in range(3):
            place(store, order_record(email=f"p{i}@example.com", created=NOW, status="completed"))
        drive()
        services.set_status(flow=flow, status=FlowStatus.PAUSED)
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        drive()
        assert set(ScheduledStep.objects.values_list("status", flat=True)) == {"pending"}
        services.set_status(flow=flow, status=FlowStatus.ACTIVE)
        first, second, _third = ScheduledStep.objects.order_by("pk")
        assert services.cancel_step(step=first)
        assert not services.cancel_step(step=first)  # already cancelled
        drive()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == StepStatus.CANCELLED
    assert FlowRun.objects.get(pk=first.run_id).status == "cancelled"
    assert second.status == StepStatus.DONE
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_bulk_cancel_by_flow(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        flow = services.create_flow(store=store, data=_wait_then_mail(), status="active")
        for i in range(4):
            place(store, order_record(email=f"b{i}@example.com", created=NOW, status="completed"))
        drive()
        assert services.cancel_pending(flow=flow) == 4
    assert set(FlowRun.objects.values_list("status", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_order_status_preset_mails_the_status_the_trigger_saw(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=store, name="order-status")
        record = order_record(email="s@example.com", created=NOW, status="processing")
        place(store, record)
        # Completed before the worker got to the "processing" run: each run still mails its own.
        place(
            store,
            order_record(
                email="s@example.com",
                created=NOW,
                status="completed",
                external_id=record.external_id,
                modified=NOW + timedelta(days=2),
            ),
        )
        drive()
    assert sorted(Message.objects.values_list("template_key", flat=True)) == [
        "order-completed",
        "order-processing",
    ]


@pytest.mark.django_db
def test_threshold_trigger_fires_once_when_the_second_order_is_paid(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        services.create_flow(
            store=store,
            status="active",
            data={
                "name": "Second order",
                "trigger": {"type": "customer.threshold_reached",
                            "config": {"measure": "orders_count", "value": 2}},
                "steps": [{"key": "tag", "type": "action", "action": "add_tag",
                           "params": {"tag": "repeat"}}],
            },
        )  # fmt: skip
        for day in range(3):
            created = NOW + timedelta(days=day)
            for email in ("t@example.com", "u@example.com"):  # two people, the same threshold
                place(store, order_record(email=email, created=created, status="processing"))
            drive()
    assert FlowRun.objects.count() == 2  # once each, not again at the third order
    for email in ("t@example.com", "u@example.com"):
        customer = Customer.objects.get(email=email)
        run = FlowRun.objects.get(customer=customer)
        assert run.subject_key == f"threshold:orders_count:2:customer:{customer.pk}"
        assert list(customer.tag_links.values_list("tag__name", flat=True)) == ["repeat"]


@pytest.mark.django_db
def test_birthday_starts_on_the_customers_own_day_once(store: Store) -> None:
    store.time_zone = "America/New_York"
    store.save()
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=store, name="birthday")
        place(store, order_record(email="bd@example.com", created=NOW, status="processing"))
    Customer.objects.filter(email="bd@example.com").update(
        birthday=date(1990, 6, 2), time_zone="Asia/Seoul"
    )
    # 2 June 00:30 UTC: 09:30 on 2 June in Seoul (their birthday), still 1 June in New York.
    with time_machine.travel(datetime(2026, 6, 2, 0, 30, tzinfo=UTC), tick=False):
        assert schedule.scan_all() == 1
        assert schedule.scan_all() == 0  # the next hourly scan starts nothing new
    assert FlowRun.objects.get().subject_key == "birthday:2026"


@pytest.mark.django_db
def test_win_back_re_arms_after_a_new_purchase(store: Store) -> None:
    with time_machine.travel(NOW, tick=False):
        services.enable_preset(store=store, name="win-back")
        place(store, order_record(email="w@example.com", created=NOW, status="processing"))
    customer = Customer.objects.get(email="w@example.com")
    stats = CustomerStats.objects.create(
        customer=customer, store=store, orders_count=1, last_order_at=NOW - timedelta(days=91)
    )
    assert schedule.scan_all(now=NOW) == 1
    assert schedule.scan_all(now=NOW + timedelta(hours=1)) == 0
    stats.last_order_at = NOW + timedelta(days=10)
    stats.save()
    assert schedule.scan_all(now=NOW + timedelta(days=101)) == 1
    assert FlowRun.objects.count() == 2
