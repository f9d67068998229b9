"""The visible queue: waiting steps with customer, flow, due time and reason; filters; cancel,
run now, retry; bulk cancel by flow; roles, tenancy, CSRF, escaping and query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftercare.core import clock
from aftercare.flows.models import FlowRun, RunStatus, ScheduledStep, StepStatus
from aftercare.stores.models import StaffRole, Store
from tests.dashboard.conftest import table_body
from tests.dashboard.test_flows_pages import ESCAPED_XSS, XSS, agent_client, make_flow, make_step
from tests.dashboard.test_settings_support import post_with_token, signed_in
from tests.mirror_factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_waiting_steps_are_listed_soonest_first_with_customer_flow_and_due_time(
    owner: Client, store: Store
) -> None:
    flow = make_flow(store, name="Ask for reviews")
    later = make_step(
        store, flow=flow, customer=CustomerFactory(store=store, email="later@example.com"),
        due_in=timedelta(days=9),
    )  # fmt: skip
    sooner = make_step(
        store, flow=flow, customer=CustomerFactory(store=store, email="sooner@example.com"),
        due_in=timedelta(days=2),
    )  # fmt: skip
    make_step(store, flow=flow, status=StepStatus.DONE, reason="sent message 5")
    body = table_body(owner.get("/dashboard/queue/"))
    assert body.index("sooner@example.com") < body.index("later@example.com")
    assert "Ask for reviews" in body
    assert f"/dashboard/queue/{sooner.pk}/run-now/" in body
    assert f"/dashboard/queue/{later.pk}/cancel/" in body
    assert "sent message 5" not in body  # done steps are on their own tab
    assert "sent message 5" in table_body(owner.get("/dashboard/queue/?status=done"))
    assert "sent message 5" in table_body(owner.get("/dashboard/queue/?status=all"))


def test_filters_by_flow_and_customer_email(owner: Client, store: Store) -> None:
    first = make_flow(store, name="First flow")
    second = make_flow(store, name="Second flow")
    make_step(store, flow=first, customer=CustomerFactory(store=store, email="a@example.com"))
    make_step(store, flow=second, customer=CustomerFactory(store=store, email="b@example.com"))
    body = table_body(owner.get(f"/dashboard/queue/?flow={second.pk}"))
    assert "b@example.com" in body and "a@example.com" not in body
    body = table_body(owner.get("/dashboard/queue/?email=A@Example.com"))
    assert "a@example.com" in body and "b@example.com" not in body
    # Nonsense filters fall back instead of failing.
    assert owner.get("/dashboard/queue/?flow=abc&status=nope&page=x").status_code == 200


def test_htmx_gets_only_the_results(owner: Client, store: Store) -> None:
    make_step(store)
    response = owner.get("/dashboard/queue/", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<tbody>" in page and "<html" not in page


def test_failed_steps_show_their_error_and_a_retry_button(owner: Client, store: Store) -> None:
    step = make_step(store, status=StepStatus.FAILED, error="SMTP 451 try again later")
    body = table_body(owner.get("/dashboard/queue/?status=failed"))
    assert "SMTP 451 try again later" in body
    assert f"/dashboard/queue/{step.pk}/retry/" in body
    FlowRun.objects.filter(pk=step.run_id).update(status=RunStatus.FAILED)
    back = {"next": "/dashboard/queue/?status=failed"}
    response = owner.post(f"/dashboard/queue/{step.pk}/retry/", back)
    assert response["Location"] == "/dashboard/queue/?status=failed"
    step.refresh_from_db()
    assert step.status == StepStatus.PENDING
    assert FlowRun.objects.get(pk=step.run_id).status == RunStatus.ACTIVE


def test_cancel_ends_the_step_and_its_run(owner: Client, store: Store) -> None:
    step = make_step(store)
    owner.post(f"/dashboard/queue/{step.pk}/cancel/")
    step.refresh_from_db()
    assert step.status == StepStatus.CANCELLED
    assert FlowRun.objects.get(pk=step.run_id).status == RunStatus.CANCELLED
    # A second click is harmless and says so.
    response = owner.post(f"/dashboard/queue/{step.pk}/cancel/", follow=True)
    assert "no longer waiting" in response.content.decode()


def test_run_now_makes_the_step_due(owner: Client, store: Store) -> None:
    step = make_step(store, due_in=timedelta(days=14))
    before = clock.now()
    owner.post(f"/dashboard/queue/{step.pk}/run-now/")
    step.refresh_from_db()
    assert step.status == StepStatus.PENDING
    assert step.due_at <= clock.now()
    assert step.due_at >= before - timedelta(seconds=1)


def test_bulk_cancel_button_shows_when_filtered_by_flow(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    make_step(store, flow=flow)
    page = owner.get(f"/dashboard/queue/?flow={flow.pk}").content.decode()
    assert f"/dashboard/flows/{flow.pk}/cancel-pending/" in page
    owner.post(f"/dashboard/flows/{flow.pk}/cancel-pending/", {"next": "queue"})
    assert not ScheduledStep.objects.filter(flow=flow, status=StepStatus.PENDING).exists()


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/dashboard/queue/", "/dashboard/settings/", ""],
)
def test_after_an_action_only_the_queue_is_a_redirect_target(
    owner: Client, store: Store, target: str
) -> None:
    step = make_step(store)
    response = owner.post(f"/dashboard/queue/{step.pk}/run-now/", {"next": target})
    assert response["Location"] == "/dashboard/queue/"


def test_agents_see_the_queue_but_cannot_act(store: Store) -> None:
    step = make_step(store, status=StepStatus.FAILED)
    agent = agent_client(store)
    page = agent.get("/dashboard/queue/?status=failed").content.decode()
    assert step.customer is not None and step.customer.email in page
    assert "/retry/" not in page and "/cancel/" not in page
    for action in ("cancel", "run-now", "retry"):
        assert agent.post(f"/dashboard/queue/{step.pk}/{action}/").status_code == 403, action
    step.refresh_from_db()
    assert step.status == StepStatus.FAILED


def test_another_stores_step_is_404_and_never_listed(
    owner: Client, store: Store, other_store: Store
) -> None:
    theirs = make_step(
        other_store, customer=CustomerFactory(store=other_store, email="them@globex.example")
    )
    for action in ("cancel", "run-now", "retry"):
        assert owner.post(f"/dashboard/queue/{theirs.pk}/{action}/").status_code == 404, action
    theirs.refresh_from_db()
    assert theirs.status == StepStatus.PENDING
    assert "them@globex.example" not in owner.get("/dashboard/queue/?status=all").content.decode()
    # Their flow as a filter is ignored, not obeyed.
    page = owner.get(f"/dashboard/queue/?flow={theirs.flow_id}").content.decode()
    assert "them@globex.example" not in page


def test_queue_actions_need_the_csrf_token(store: Store) -> None:
    step = make_step(store)
    browser = signed_in(store, StaffRole.OWNER, csrf=True)
    for action in ("cancel", "run-now"):
        assert browser.post(f"/dashboard/queue/{step.pk}/{action}/").status_code == 403
    step.refresh_from_db()
    assert step.status == StepStatus.PENDING
    response = post_with_token(
        browser, "/dashboard/queue/", f"/dashboard/queue/{step.pk}/cancel/", {}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == StepStatus.CANCELLED


def test_customer_text_is_escaped(owner: Client, store: Store) -> None:
    customer = CustomerFactory(store=store, first_name=XSS, last_name="")
    make_step(store, customer=customer, status=StepStatus.SKIPPED, reason=f"skipped {XSS}")
    page = owner.get("/dashboard/queue/?status=skipped").content.decode()
    assert XSS not in page
    assert ESCAPED_XSS in page


def test_the_queue_costs_the_same_queries_for_two_steps_or_twenty(
    owner: Client, store: Store
) -> None:
    flow = make_flow(store)
    for _ in range(2):
        make_step(store, flow=flow)
    with CaptureQueriesContext(connection) as few:
        owner.get("/dashboard/queue/")
    for _ in range(18):
        make_step(store, flow=make_flow(store, name="Another"))
    with CaptureQueriesContext(connection) as many:
        owner.get("/dashboard/queue/")
    assert len(many) == len(few)


def test_pages_of_fifty(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    for _ in range(51):
        make_step(store, flow=flow)
    first: Any = owner.get("/dashboard/queue/")
    assert table_body(first).count("<tr>") == 50
    assert 'rel="next"' in first.content.decode()
    second = owner.get("/dashboard/queue/?status=pending&page=2")
    assert table_body(second).count("<tr>") == 1
