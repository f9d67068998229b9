"""API v1 flows, presets and queue over HTTP, with real token auth (issue 4, "Interfaces other
tools rely on"): every route answers for its own store and 404 for another store's ids."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftercare.core import clock
from aftercare.customers.models import Customer
from aftercare.flows import matcher, runner
from aftercare.flows import services as flows_services
from aftercare.flows.models import Flow, FlowRun, RunStatus, ScheduledStep, StepStatus
from aftercare.ingest import mirror, woo_mapping
from aftercare.stores.models import Store
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db

REVIEW: dict[str, Any] = {
    "name": "Ask for a review",
    "category": "marketing",
    "trigger": {"type": "order.completed"},
    "filters": [{"fact": "order.status", "op": "eq", "value": "completed"}],
    "steps": [
        {"key": "wait", "type": "wait", "days": 14},
        {"key": "ask", "type": "action", "action": "send_email",
         "params": {"template": "review-request"}},
    ],
}  # fmt: skip


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(client: Client, url: str, token: str, body: Any = None) -> Any:
    if body is None:
        return client.post(url, headers=_auth(token))
    return client.post(url, body, content_type="application/json", headers=_auth(token))


def _customer(store: Store) -> Customer:
    return Customer.objects.filter(store=store).order_by("pk").first()  # type: ignore[return-value]


def _queued(
    store: Store,
    flow: Flow,
    *,
    status: str = StepStatus.PENDING,
    key: str = "ask",
    subject: str = "order:1",
    **fields: Any,
) -> ScheduledStep:
    """A run of `flow` for the store's customer with one step in the queue."""
    now = clock.now()
    customer = _customer(store)
    run, _ = FlowRun.objects.get_or_create(
        store=store,
        flow=flow,
        subject_key=subject,
        defaults={"customer": customer, "started_at": now},
    )
    return ScheduledStep.objects.create(
        store=store,
        flow=flow,
        run=run,
        customer=customer,
        step_key=key,
        step_type="action",
        due_at=fields.pop("due_at", now + timedelta(days=3)),
        status=status,
        created_at=now,
        **fields,
    )


# -- flows ----------------------------------------------------------------------------------


def test_create_flow_makes_a_draft_and_get_returns_its_definition(
    client: Client, token: str
) -> None:
    created = _post(client, "/api/v1/flows", token, REVIEW)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["name"] == "Ask for a review"
    assert body["trigger"] == "order.completed" and body["category"] == "marketing"
    assert body["figures"]["pending"] == 0 and body["figures"]["revenue"] == "0"

    got = client.get(f"/api/v1/flows/{body['id']}", headers=_auth(token)).json()
    assert got["definition"]["steps"] == REVIEW["steps"]
    assert got["definition"]["trigger"] == {"type": "order.completed", "config": {}}


def test_invalid_definition_is_400_listing_every_problem(client: Client, token: str) -> None:
    bad = copy.deepcopy(REVIEW)
    bad["trigger"] = {"type": "order.teleported"}
    bad["steps"][1]["action"] = "send_pigeon"
    response = _post(client, "/api/v1/flows", token, bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_flow"
    problems = error["details"]["problems"]
    assert set(problems) == {"trigger.type", "steps.1.action"}, problems
    assert "order.teleported" in problems["trigger.type"]

    no_steps = _post(
        client, "/api/v1/flows", token, {"name": "x", "trigger": {"type": "order.paid"}}
    )
    assert no_steps.status_code == 400
    assert "steps" in no_steps.json()["error"]["details"]["problems"]
    assert _post(client, "/api/v1/flows", token, [1, 2]).status_code in {400, 422}
    assert Flow.objects.count() == 0


def test_update_replaces_the_definition_and_bumps_the_version(
    client: Client, token: str, store: Store
) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    changed = copy.deepcopy(REVIEW)
    changed["name"] = "Review, a week later"
    changed["steps"][0]["days"] = 7
    response = client.put(
        f"/api/v1/flows/{flow.pk}", changed, content_type="application/json", headers=_auth(token)
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Review, a week later"
    assert response.json()["definition"]["steps"][0]["days"] == 7
    assert response.json()["version"] == flow.version + 1

    changed["steps"][0]["days"] = -1
    refused = client.put(
        f"/api/v1/flows/{flow.pk}", changed, content_type="application/json", headers=_auth(token)
    )
    assert refused.status_code == 400
    assert "steps.0.wait.days" in refused.json()["error"]["details"]["problems"]


def test_activate_pause_and_list_with_figures(client: Client, token: str, store: Store) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    _queued(store, flow, subject="order:1")
    _queued(store, flow, subject="order:2")
    _queued(store, flow, subject="order:3", status=StepStatus.DONE)

    active = _post(client, f"/api/v1/flows/{flow.pk}/activate", token)
    assert active.status_code == 200 and active.json()["status"] == "active"
    assert active.json()["activated_at"] is not None
    paused = _post(client, f"/api/v1/flows/{flow.pk}/pause", token)
    assert paused.json()["status"] == "paused"

    listing = client.get("/api/v1/flows", headers=_auth(token)).json()
    assert listing["count"] == 1
    row = listing["items"][0]
    assert {k: row[k] for k in ("id", "status", "preset", "trigger", "category")} == {
        "id": flow.pk, "status": "paused", "preset": "", "trigger": "order.completed",
        "category": "marketing",
    }  # fmt: skip
    assert row["figures"]["pending"] == 2 and row["figures"]["runs"] == 3
    assert set(row["figures"]) == {
        "pending", "runs", "sent", "opened", "clicked", "revenue", "attributed_orders",
    }  # fmt: skip


def test_export_is_yaml_that_imports_back(client: Client, token: str, store: Store) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    response = client.get(f"/api/v1/flows/{flow.pk}/export", headers=_auth(token))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/yaml")
    data = yaml.safe_load(response.content)
    assert data["aftercare_flow"] == 1 and data["name"] == "Ask for a review"
    again = flows_services.import_yaml(store=store, text=response.content.decode())
    assert again.steps == flow.steps and again.status == "draft"


# -- presets --------------------------------------------------------------------------------


def test_presets_list_names_labels_and_descriptions(client: Client, token: str) -> None:
    response = client.get("/api/v1/flows/presets", headers=_auth(token))
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert set(rows) >= {
        "thank-you", "order-status", "delay-notice", "review-request", "survey", "cross-sell",
        "next-purchase-coupon", "loyalty-invite", "win-back", "birthday", "anniversary",
        "onboarding",
    }  # fmt: skip
    assert rows["review-request"]["label"] == "Review request"
    assert "14 days" in rows["review-request"]["description"]
    assert rows["thank-you"]["category"] == "transactional"
    assert rows["thank-you"]["flow_id"] is None


def test_enabling_a_preset_twice_makes_one_flow(client: Client, token: str, store: Store) -> None:
    first = _post(client, "/api/v1/flows/presets/review-request/enable", token)
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "active" and first.json()["preset"] == "review-request"
    second = _post(client, "/api/v1/flows/presets/review-request/enable", token)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Flow.objects.filter(store=store, preset="review-request").count() == 1

    # A paused preset flow is resumed, not duplicated.
    _post(client, f"/api/v1/flows/{first.json()['id']}/pause", token)
    third = _post(client, "/api/v1/flows/presets/review-request/enable", token)
    assert third.status_code == 200 and third.json()["status"] == "active"
    assert Flow.objects.filter(store=store).count() == 1

    rows = {r["name"]: r for r in client.get("/api/v1/flows/presets", headers=_auth(token)).json()}
    assert rows["review-request"]["flow_id"] == first.json()["id"]
    assert rows["review-request"]["flow_status"] == "active"


def test_unknown_preset_is_404(client: Client, token: str) -> None:
    response = _post(client, "/api/v1/flows/presets/free-money/enable", token)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_preset"


# -- the queue ------------------------------------------------------------------------------


def test_queue_lists_steps_with_flow_customer_due_time_and_reason(
    client: Client, token: str, store: Store
) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    waiting = _queued(store, flow, subject="order:1")
    skipped = _queued(
        store, flow, subject="order:2", status=StepStatus.SKIPPED, reason="order was refunded"
    )
    failed = _queued(store, flow, subject="order:3", status=StepStatus.FAILED, error="boom")

    pending = client.get("/api/v1/queue", headers=_auth(token)).json()  # pending by default
    assert [row["id"] for row in pending["items"]] == [waiting.pk]
    row = pending["items"][0]
    assert row["flow"] == {"id": flow.pk, "name": "Ask for a review"}
    assert row["customer_email"] == "jane.buyer@example.com"
    assert row["step_key"] == "ask" and row["step_type"] == "action"
    assert row["status"] == "pending" and row["due_at"] and row["message_id"] is None

    skips = client.get("/api/v1/queue?status=skipped", headers=_auth(token)).json()
    assert [(r["id"], r["reason"]) for r in skips["items"]] == [(skipped.pk, "order was refunded")]
    fails = client.get("/api/v1/queue?status=failed", headers=_auth(token)).json()
    assert [(r["id"], r["error"]) for r in fails["items"]] == [(failed.pk, "boom")]
    everything = client.get("/api/v1/queue?status=all", headers=_auth(token)).json()
    assert everything["count"] == 3

    by_email = client.get(
        "/api/v1/queue?status=all&customer_email=Jane.Buyer@Example.com", headers=_auth(token)
    ).json()
    assert by_email["count"] == 3
    nobody = client.get("/api/v1/queue?customer_email=x@example.com", headers=_auth(token))
    assert nobody.json()["count"] == 0
    by_flow = client.get(f"/api/v1/queue?status=all&flow_id={flow.pk + 1}", headers=_auth(token))
    assert by_flow.json()["count"] == 0
    assert client.get("/api/v1/queue?status=nonsense", headers=_auth(token)).status_code == 422


def test_cancel_run_now_and_retry(client: Client, token: str, store: Store) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    waiting = _queued(store, flow, subject="order:1")
    later = _queued(store, flow, subject="order:2", due_at=clock.now() + timedelta(days=9))
    failed = _queued(store, flow, subject="order:3", status=StepStatus.FAILED, error="timeout")
    FlowRun.objects.filter(pk=failed.run_id).update(status=RunStatus.FAILED)

    now_due = _post(client, f"/api/v1/queue/{later.pk}/run-now", token)
    assert now_due.status_code == 200
    later.refresh_from_db()
    assert later.due_at <= clock.now() and later.status == "pending"

    cancelled = _post(client, f"/api/v1/queue/{waiting.pk}/cancel", token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert FlowRun.objects.get(pk=waiting.run_id).status == RunStatus.CANCELLED
    again = _post(client, f"/api/v1/queue/{waiting.pk}/cancel", token)
    assert again.status_code == 200  # idempotent
    not_waiting = _post(client, f"/api/v1/queue/{waiting.pk}/run-now", token)
    assert not_waiting.status_code == 409
    assert not_waiting.json()["error"]["code"] == "conflict"

    retried = _post(client, f"/api/v1/queue/{failed.pk}/retry", token)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert FlowRun.objects.get(pk=failed.run_id).status == RunStatus.ACTIVE
    assert _post(client, f"/api/v1/queue/{failed.pk}/retry", token).status_code == 409

    done = _queued(store, flow, subject="order:4", status=StepStatus.DONE)
    assert _post(client, f"/api/v1/queue/{done.pk}/cancel", token).status_code == 409


def test_cancel_pending_of_a_flow_in_bulk(client: Client, token: str, store: Store) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    other = flows_services.create_flow(store=store, data={**REVIEW, "name": "Other"})
    for n in range(3):
        _queued(store, flow, subject=f"order:{n}")
    _queued(store, flow, subject="order:9", status=StepStatus.DONE)
    kept = _queued(store, other, subject="order:1")
    response = _post(client, f"/api/v1/flows/{flow.pk}/cancel-pending", token)
    assert response.status_code == 200 and response.json() == {"cancelled": 3}
    assert ScheduledStep.objects.filter(flow=flow, status="cancelled").count() == 3
    kept.refresh_from_db()
    assert kept.status == "pending"


def test_a_real_order_reaches_the_queue_and_runs_now(
    client: Client, token: str, store: Store
) -> None:
    """End to end: enable the preset over HTTP, an order is completed in the shop, the matcher
    queues the wait, staff see it and run it now, the runner goes on to the next step."""
    flow_id = _post(client, "/api/v1/flows/presets/review-request/enable", token).json()["id"]
    order = copy.deepcopy(woo_json("order.json"))
    order["id"] = 15
    order["number"] = "15"
    order["refunds"] = []
    order["date_modified_gmt"] = "2031-01-01T00:00:00"
    order["billing"]["email"] = "jane.buyer@example.com"
    mirror.apply_orders(store=store, records=[woo_mapping.parse_order(order)], source="webhook")
    matcher.match_pending()

    queue = client.get(f"/api/v1/queue?flow_id={flow_id}", headers=_auth(token)).json()
    assert queue["count"] == 1, queue
    step = queue["items"][0]
    # The wait is folded into the due time of the step after it (scheduling.plan).
    assert step["step_key"] == "ask" and step["customer_email"] == "jane.buyer@example.com"
    assert datetime.fromisoformat(step["due_at"]) > clock.now() + timedelta(days=13)

    assert _post(client, f"/api/v1/queue/{step['id']}/run-now", token).status_code == 200
    runner.run_due()
    done = client.get(f"/api/v1/queue?status=all&flow_id={flow_id}", headers=_auth(token)).json()
    ran = done["items"][0]
    # Done (message queued) or skipped with its reason (no marketing consent in an opt-in store).
    assert ran["id"] == step["id"] and ran["status"] in {"done", "skipped"}, ran
    assert ran["reason"]


# -- tenant isolation -----------------------------------------------------------------------


def _routes_of_this_module() -> list[tuple[str, str]]:
    from aftercare.api.v1 import api

    found: list[tuple[str, str]] = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        if path.startswith(("/api/v1/flows/{", "/api/v1/queue/{")):
            found.extend((method.upper(), path) for method in methods)
    return found


def test_every_flow_and_queue_route_is_404_for_another_stores_token(
    client: Client, store: Store, token: str, other_token: str
) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    ids = {"flow_id": flow.pk}
    routes = _routes_of_this_module()
    assert len(routes) >= 9
    for method, path in routes:
        step = _queued(store, flow, subject=f"order:{path}:{method}", status=StepStatus.FAILED)
        url = path.replace("{flow_id}", str(ids["flow_id"])).replace("{step_id}", str(step.pk))
        kwargs: dict[str, Any] = {"headers": _auth(other_token)}
        if method == "PUT":
            kwargs |= {"data": REVIEW, "content_type": "application/json"}
        theirs = getattr(client, method.lower())(url, **kwargs)
        assert theirs.status_code == 404, (method, url, theirs.content)
        assert theirs.json()["error"]["code"] == "not_found"
    flow.refresh_from_db()
    assert flow.status == "draft" and flow.version == 1
    assert not ScheduledStep.objects.filter(store=store).exclude(status="failed").exists()


def test_lists_show_only_the_tokens_store(
    client: Client, store: Store, token: str, other_token: str
) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    _queued(store, flow)
    _post(client, "/api/v1/flows/presets/thank-you/enable", token)
    for url in ("/api/v1/flows", "/api/v1/queue?status=all", f"/api/v1/queue?flow_id={flow.pk}"):
        assert client.get(url, headers=_auth(token)).json()["count"] >= 1, url
        assert client.get(url, headers=_auth(other_token)).json()["count"] == 0, url
    presets = client.get("/api/v1/flows/presets", headers=_auth(other_token)).json()
    assert all(row["flow_id"] is None for row in presets)
    # Enabling the same preset in the other store makes the other store its own flow.
    theirs = _post(client, "/api/v1/flows/presets/thank-you/enable", other_token)
    assert theirs.status_code == 201
    assert Flow.objects.filter(preset="thank-you").count() == 2


def test_routes_need_a_token(client: Client, store: Store, token: str) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    for url in ("/api/v1/flows", "/api/v1/queue", f"/api/v1/flows/{flow.pk}"):
        assert client.get(url).status_code == 401
    assert client.post("/api/v1/flows/presets/thank-you/enable").status_code == 401


def _queries(client: Client, url: str, token: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers=_auth(token)).status_code == 200
    return len(captured)


def test_list_queries_do_not_grow_with_rows(client: Client, token: str, store: Store) -> None:
    flow = flows_services.create_flow(store=store, data=REVIEW)
    _queued(store, flow, subject="order:0")
    urls = ("/api/v1/flows", "/api/v1/queue?status=all")
    _queries(client, urls[0], token)  # the token's first use of the minute writes last_used_at
    few = {url: _queries(client, url, token) for url in urls}
    for n in range(1, 6):
        more = flows_services.create_flow(store=store, data={**REVIEW, "name": f"Flow {n}"})
        _queued(store, more, subject=f"order:{n}")
    assert {url: _queries(client, url, token) for url in urls} == few


def test_the_openapi_schema_documents_the_routes(client: Client, token: str) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/flows/presets/{name}/enable" in schema["paths"]
    assert "/api/v1/queue/{step_id}/run-now" in schema["paths"]
