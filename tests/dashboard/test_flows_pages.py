"""The flow pages: the list with its preset gallery (enable in one click), pause and resume,
one flow, the YAML editor (every problem shown by its step), export and import; roles (agents
look, never change), tenancy (another store's flow is a 404), CSRF and escaping.

`make_flow`, `make_step` and `make_message` are shared with the queue and message page tests
and the tenancy walk (tests/api/test_tenancy.py)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aftercare.core import clock
from aftercare.customers.models import Customer
from aftercare.flows import presets
from aftercare.flows import services as flow_services
from aftercare.flows.models import Flow, FlowRun, FlowStatus, ScheduledStep, StepStatus
from aftercare.messaging.models import AttemptOutcome, Message, SendAttempt
from aftercare.stores.models import StaffRole, Store
from tests.dashboard.conftest import table_body
from tests.dashboard.test_settings_support import post_with_token, signed_in
from tests.mirror_factories import CustomerFactory

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"
_serial = itertools.count(1)


# --- shared builders ------------------------------------------------------------------------


def make_flow(
    store: Store, *, name: str = "Review request", status: str = FlowStatus.ACTIVE
) -> Flow:
    data = {**presets.load("review-request"), "name": name}
    return flow_services.create_flow(store=store, data=data, status=status)


def make_step(
    store: Store,
    *,
    flow: Flow | None = None,
    customer: Customer | None = None,
    status: str = StepStatus.PENDING,
    reason: str = "",
    error: str = "",
    due_in: timedelta = timedelta(days=14),
) -> ScheduledStep:
    flow = flow or make_flow(store)
    customer = customer or CustomerFactory(store=store)
    now = clock.now()
    run = FlowRun.objects.create(
        store=store, flow=flow, customer=customer, subject_key=f"order:{next(_serial)}",
        started_at=now,
    )  # fmt: skip
    return ScheduledStep.objects.create(
        store=store, flow=flow, run=run, customer=customer, step_key="ask",
        step_type="action", due_at=now + due_in, status=status, reason=reason, error=error,
        created_at=now,
    )  # fmt: skip


def make_message(
    store: Store,
    *,
    customer: Customer | None = None,
    subject: str = "How was your order?",
    body_html: str = "<p>Hello</p>",
    status: str = "sent",
    flow: Flow | None = None,
    answers: tuple[tuple[str, str], ...] = ((AttemptOutcome.SENT, "250 2.0.0 Ok: queued"),),
) -> Message:
    customer = customer or CustomerFactory(store=store)
    now = clock.now()
    message = Message.objects.create(
        store=store, customer=customer, channel="email", category="marketing",
        recipient=customer.email, subject=subject, body_text="Hello", body_html=body_html,
        idempotency_key=f"test:{next(_serial)}", next_attempt_at=now, created_at=now,
        status=status, flow_id=flow.pk if flow else None, template_key="review-request",
        attempts=len(answers),
    )  # fmt: skip
    for outcome, answer in answers:
        SendAttempt.objects.create(
            message=message, attempted_at=now, outcome=outcome, answer=answer, duration_ms=12
        )
    return message


def agent_client(store: Store) -> Client:
    return signed_in(store, StaffRole.AGENT)


def html(response: Any) -> str:
    return str(response.content.decode())


# --- the list and the gallery ---------------------------------------------------------------


def test_list_shows_flows_and_every_preset(owner: Client, store: Store) -> None:
    flow = make_flow(store, name="Ask for reviews")
    page = html(owner.get("/dashboard/flows/"))
    assert "Ask for reviews" in page
    assert f"/dashboard/flows/{flow.pk}/" in page
    for name in presets.names():
        assert f'name="name" value="{name}"' in page
    assert "Pause" in page


def test_empty_store_gets_the_gallery(owner: Client) -> None:
    response = owner.get("/dashboard/flows/")
    assert response.status_code == 200
    assert "No flows yet" in html(response)


def test_enabling_a_preset_takes_one_click_and_a_second_click_changes_nothing(
    owner: Client, store: Store
) -> None:
    response = owner.post("/dashboard/flows/presets/enable/", {"name": "thank-you"})
    assert response.status_code == 302
    flow = Flow.objects.get(store=store, preset="thank-you")
    assert flow.status == FlowStatus.ACTIVE
    assert flow.activated_at is not None
    owner.post("/dashboard/flows/presets/enable/", {"name": "thank-you"})
    assert Flow.objects.filter(store=store, preset="thank-you").count() == 1
    page = html(owner.get("/dashboard/flows/"))
    # The gallery says it is on and offers no second "Enable" for it.
    assert 'value="thank-you"' not in page


@pytest.mark.parametrize("name", ["no-such-preset", "../settings", ""])
def test_unknown_preset_is_404(owner: Client, store: Store, name: str) -> None:
    response = owner.post("/dashboard/flows/presets/enable/", {"name": name})
    assert response.status_code == 404
    assert not Flow.objects.filter(store=store).exists()


def test_every_shipped_preset_can_be_enabled(owner: Client, store: Store) -> None:
    for name in presets.names():
        assert owner.post("/dashboard/flows/presets/enable/", {"name": name}).status_code == 302
    assert Flow.objects.filter(store=store, status=FlowStatus.ACTIVE).count() == len(
        presets.names()
    )


def test_pause_and_resume(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    url = f"/dashboard/flows/{flow.pk}/status/"
    assert owner.post(url, {"status": "paused", "next": "list"})["Location"] == "/dashboard/flows/"
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PAUSED
    assert "Resume" in html(owner.get("/dashboard/flows/"))
    owner.post(url, {"status": "active"})
    flow.refresh_from_db()
    assert flow.status == FlowStatus.ACTIVE


def test_unknown_status_changes_nothing(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    owner.post(f"/dashboard/flows/{flow.pk}/status/", {"status": "draft"})
    flow.refresh_from_db()
    assert flow.status == FlowStatus.ACTIVE


def test_archiving_cancels_the_waiting_steps(owner: Client, store: Store) -> None:
    step = make_step(store)
    owner.post(f"/dashboard/flows/{step.flow_id}/status/", {"status": "archived"})
    step.refresh_from_db()
    assert step.status == StepStatus.CANCELLED
    assert Flow.objects.get(pk=step.flow_id).status == FlowStatus.ARCHIVED
    assert "Review request" not in table_body(owner.get("/dashboard/flows/"))
    assert "Review request" in table_body(owner.get("/dashboard/flows/?archived=1"))


def test_flow_page_shows_trigger_filters_steps_and_waiting(owner: Client, store: Store) -> None:
    customer = CustomerFactory(store=store, first_name="Mina", last_name="Kim")
    step = make_step(store, customer=customer)
    page = html(owner.get(f"/dashboard/flows/{step.flow_id}/"))
    assert "Order completed" in page or "order.completed" in page
    assert "Wait 14 days" in page
    assert "then at 10:00" in page
    assert "Mina Kim" in page
    assert f"/dashboard/flows/{step.flow_id}/cancel-pending/" in page


def test_bulk_cancel_of_a_flow(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    other = make_flow(store, name="Other")
    mine = [make_step(store, flow=flow) for _ in range(3)]
    theirs = make_step(store, flow=other)
    response = owner.post(f"/dashboard/flows/{flow.pk}/cancel-pending/", {"next": "queue"})
    assert response["Location"] == f"/dashboard/queue/?flow={flow.pk}"
    assert {s.status for s in ScheduledStep.objects.filter(pk__in=[s.pk for s in mine])} == {
        StepStatus.CANCELLED
    }
    theirs.refresh_from_db()
    assert theirs.status == StepStatus.PENDING


# --- the editor -----------------------------------------------------------------------------


def test_editor_shows_the_yaml_and_saves_a_change(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    page = html(owner.get(f"/dashboard/flows/{flow.pk}/edit/"))
    assert "review-request" in page and "trigger:" in page
    text = flow_services.export_yaml(flow=flow).replace("days: 14", "days: 10")
    text = text.replace("name: Review request", "name: Reviews after ten days")
    response = owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": text})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.name == "Reviews after ten days"
    assert flow.steps[0]["days"] == 10
    assert flow.version == 2


def test_editor_shows_each_problem_next_to_its_step(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    text = """
name: Broken
trigger: {type: order.completed}
steps:
  - {key: wait, type: wait, days: 3}
  - {key: send, type: action, action: send_a_pigeon}
"""
    response = owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": text})
    assert response.status_code == 200
    page = html(response)
    assert 'data-testid="step-problems-1"' in page
    assert "unknown action" in page
    assert "send_a_pigeon" in page
    flow.refresh_from_db()
    assert flow.name == "Review request"  # nothing saved
    # The text as typed stays in the editor.
    assert "send_a_pigeon" in page.split("<textarea")[1]


def test_editor_reports_schema_problems_by_field(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    text = """
name: Broken
trigger: {type: nothing.happened}
steps:
  - {key: wait, type: wait, days: -1}
"""
    page = html(owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": text}))
    assert 'data-testid="step-problems-0"' in page
    assert "<code>days</code>" in page


def test_editor_reports_schema_and_reference_problems_in_one_round(
    owner: Client, store: Store
) -> None:
    """A bad wait (schema) does not hide the unknown trigger, fact and action (references)."""
    flow = make_flow(store)
    text = """
name: Broken
trigger: {type: nothing.happened}
filters: [{fact: order.colour, op: eq, value: red}]
steps:
  - {key: wait, type: wait, days: -1}
  - {key: send, type: action, action: send_a_pigeon}
"""
    page = html(owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": text}))
    assert "<code>days</code>" in page
    for words in ("unknown trigger", "unknown fact &#x27;order.colour&#x27;", "send_a_pigeon"):
        assert words in page, words


def test_editor_reports_unknown_trigger_as_a_flow_problem(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    text = "name: X\ntrigger: {type: nothing.happened}\nsteps:\n  - {key: w, type: wait, days: 1}\n"
    page = html(owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": text}))
    assert 'data-testid="flow-problems"' in page
    assert "trigger.type" in page and "unknown trigger" in page


def test_editor_reports_broken_yaml_with_its_line(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    response = owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": "name: [unclosed\n"})
    assert response.status_code == 200
    assert "not valid YAML" in html(response)


def test_editor_escapes_what_was_typed(owner: Client, store: Store) -> None:
    flow = make_flow(store)
    text = f"name: x\ntrigger: {{type: '{XSS}'}}\nsteps:\n  - {{key: w, type: wait}}\n"
    page = html(owner.post(f"/dashboard/flows/{flow.pk}/edit/", {"text": text}))
    assert XSS not in page
    assert ESCAPED_XSS in page


def test_new_flow_is_a_draft(owner: Client, store: Store) -> None:
    page = html(owner.get("/dashboard/flows/new/"))
    text = page.split("<textarea")[1].split(">", 1)[1].split("</textarea>")[0]
    text = text.replace("&quot;", '"')
    response = owner.post("/dashboard/flows/new/", {"text": text})
    assert response.status_code == 302
    flow = Flow.objects.get(store=store)
    assert flow.status == FlowStatus.DRAFT
    owner.post(f"/dashboard/flows/{flow.pk}/status/", {"status": "active"})
    flow.refresh_from_db()
    assert flow.status == FlowStatus.ACTIVE


# --- export and import ----------------------------------------------------------------------


def test_export_downloads_yaml_that_imports_back(owner: Client, store: Store) -> None:
    flow = make_flow(store, name="Reviews")
    response = owner.get(f"/dashboard/flows/{flow.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="reviews.yaml"'
    data = yaml.safe_load(response.content)
    assert data["name"] == "Reviews"
    upload = SimpleUploadedFile("reviews.yaml", response.content, "application/yaml")
    imported = owner.post("/dashboard/flows/import/", {"file": upload})
    assert imported.status_code == 302
    copy = Flow.objects.exclude(pk=flow.pk).get(store=store)
    assert imported["Location"] == f"/dashboard/flows/{copy.pk}/"
    assert copy.status == FlowStatus.DRAFT
    assert copy.steps == flow.steps
    assert copy.trigger == flow.trigger


@pytest.mark.parametrize(
    "content",
    [b"name: [unclosed", b"- just\n- a list\n", b"\xff\xfe not utf-8", b"name: x\n"],
)
def test_a_bad_import_creates_nothing_and_says_why(
    owner: Client, store: Store, content: bytes
) -> None:
    upload = SimpleUploadedFile("bad.yaml", content, "application/yaml")
    response = owner.post("/dashboard/flows/import/", {"file": upload}, follow=True)
    assert not Flow.objects.filter(store=store).exists()
    assert 'class="notice error"' in html(response)


# --- roles, tenancy, CSRF, escaping ---------------------------------------------------------


def test_agents_see_flows_but_cannot_change_them(store: Store) -> None:
    flow = make_flow(store)
    agent = agent_client(store)
    page = html(agent.get("/dashboard/flows/"))
    assert "Review request" in page
    assert "/presets/enable/" not in page and "/status/" not in page
    assert agent.get(f"/dashboard/flows/{flow.pk}/").status_code == 200
    assert agent.get(f"/dashboard/flows/{flow.pk}/export/").status_code == 200
    assert agent.get(f"/dashboard/flows/{flow.pk}/edit/").status_code == 403
    assert agent.get("/dashboard/flows/new/").status_code == 403
    paused = {"status": "paused"}
    assert agent.post(f"/dashboard/flows/{flow.pk}/status/", paused).status_code == 403
    assert agent.post(f"/dashboard/flows/{flow.pk}/cancel-pending/").status_code == 403
    assert agent.post("/dashboard/flows/presets/enable/", {"name": "birthday"}).status_code == 403
    upload = SimpleUploadedFile("f.yaml", flow_services.export_yaml(flow=flow).encode())
    assert agent.post("/dashboard/flows/import/", {"file": upload}).status_code == 403
    flow.refresh_from_db()
    assert flow.status == FlowStatus.ACTIVE
    assert Flow.objects.filter(store=store).count() == 1


def test_managers_may_change_flows(store: Store) -> None:
    manager = signed_in(store, StaffRole.MANAGER)
    response = manager.post("/dashboard/flows/presets/enable/", {"name": "birthday"})
    assert response.status_code == 302


def test_another_stores_flow_is_404(owner: Client, store: Store, other_store: Store) -> None:
    theirs = make_flow(other_store)
    make_step(other_store, flow=theirs)
    for url in ("", "edit/", "export/"):
        assert owner.get(f"/dashboard/flows/{theirs.pk}/{url}").status_code == 404, url
    assert owner.post(f"/dashboard/flows/{theirs.pk}/edit/", {"text": "name: x"}).status_code == 404
    for url, data in (("status/", {"status": "paused"}), ("cancel-pending/", {})):
        assert owner.post(f"/dashboard/flows/{theirs.pk}/{url}", data).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status == FlowStatus.ACTIVE
    assert ScheduledStep.objects.get(flow=theirs).status == StepStatus.PENDING
    assert "Review request" not in table_body(owner.get("/dashboard/flows/"))


def test_enabling_a_preset_touches_only_the_current_store(
    owner: Client, store: Store, other_store: Store
) -> None:
    owner.post("/dashboard/flows/presets/enable/", {"name": "win-back"})
    assert Flow.objects.filter(store=store, preset="win-back").exists()
    assert not Flow.objects.filter(store=other_store).exists()


def test_every_flow_form_needs_the_csrf_token(store: Store) -> None:
    flow = make_flow(store)
    browser = signed_in(store, StaffRole.OWNER, csrf=True)
    posts: list[tuple[str, dict[str, Any]]] = [
        ("/dashboard/flows/presets/enable/", {"name": "birthday"}),
        (f"/dashboard/flows/{flow.pk}/status/", {"status": "paused"}),
        (f"/dashboard/flows/{flow.pk}/cancel-pending/", {}),
        (f"/dashboard/flows/{flow.pk}/edit/", {"text": flow_services.export_yaml(flow=flow)}),
        ("/dashboard/flows/new/", {"text": flow_services.export_yaml(flow=flow)}),
    ]
    for url, data in posts:
        assert browser.post(url, data).status_code == 403, url
    flow.refresh_from_db()
    assert flow.status == FlowStatus.ACTIVE and flow.version == 1
    assert Flow.objects.filter(store=store).count() == 1
    # The same form with the page's token goes through.
    response = post_with_token(
        browser, "/dashboard/flows/", f"/dashboard/flows/{flow.pk}/status/", {"status": "paused"}
    )
    assert response.status_code == 302


def test_flow_names_are_escaped(owner: Client, store: Store) -> None:
    flow = make_flow(store, name=f"Hi {XSS}")
    for url in ("/dashboard/flows/", f"/dashboard/flows/{flow.pk}/", "/dashboard/queue/"):
        page = html(owner.get(url))
        assert XSS not in page, url
    assert ESCAPED_XSS in html(owner.get("/dashboard/flows/"))


def test_flows_are_in_the_navigation(owner: Client) -> None:
    page = html(owner.get("/dashboard/"))
    for url in ("/dashboard/flows/", "/dashboard/queue/", "/dashboard/messages/"):
        assert f'href="{url}"' in page


def test_the_list_costs_the_same_queries_for_three_flows_or_twelve(
    owner: Client, store: Store, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(3):
        make_flow(store, name=f"Flow {index}")
    with CaptureQueriesContext(connection) as few:
        owner.get("/dashboard/flows/")
    for index in range(9):
        make_flow(store, name=f"More {index}")
    with CaptureQueriesContext(connection) as many:
        owner.get("/dashboard/flows/")
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("language", "words"), [("ko", ("플로", "대기열", "메시지")), ("ja", ("フロー", "キュー"))]
)
def test_the_pages_speak_korean_and_japanese(
    owner: Client, store: Store, language: str, words: tuple[str, ...]
) -> None:
    step = make_step(store, status=StepStatus.FAILED, error="boom")
    message = make_message(store, flow=step.flow)
    broken = (
        "name: x\ntrigger: {type: order.completed}\nsteps:\n  - {key: w, type: wait, days: -1}\n"
    )
    headers = {"Accept-Language": language}
    pages = [
        owner.get("/dashboard/flows/", headers=headers),
        owner.get(f"/dashboard/flows/{step.flow_id}/", headers=headers),
        owner.post(f"/dashboard/flows/{step.flow_id}/edit/", {"text": broken}, headers=headers),
        owner.get("/dashboard/queue/?status=failed", headers=headers),
        owner.get("/dashboard/messages/", headers=headers),
        owner.get(f"/dashboard/messages/{message.pk}/", headers=headers),
    ]
    assert [p.status_code for p in pages] == [200] * 6
    text = "".join(p.content.decode() for p in pages)
    for word in words:
        assert word in text


# --- the form editor ------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser would submit for the first POST form of a page (without a button)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in {"submit", "file"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if "checked" in a else "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.fields.append((self._select, chosen[-1]))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def form_fields(response: Any) -> dict[str, Any]:
    page = html(response)
    form = page[page.index('<form method="post" action="/dashboard/flows/') :]
    parser = _FormFields()
    parser.feed(form[: form.index("</form>")])
    data: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in data:
            data[name] = (
                [*data[name], value] if isinstance(data[name], list) else [data[name], value]
            )
        else:
            data[name] = value
    data.pop("csrfmiddlewaretoken", None)
    return data


def _as_sets(config: dict[str, Any]) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, list) else v for k, v in config.items()}


def test_the_form_editor_saves_every_preset_back_unchanged(owner: Client, store: Store) -> None:
    for name in presets.names():
        owner.post("/dashboard/flows/presets/enable/", {"name": name})
    for flow in Flow.objects.filter(store=store):
        url = f"/dashboard/flows/{flow.pk}/form/"
        fields = form_fields(owner.get(url))
        response = owner.post(url, {**fields, "op": "save"})
        assert response.status_code == 302, (flow.preset, html(response)[:3000])
        saved = Flow.objects.get(pk=flow.pk)
        assert saved.version == 2, flow.preset
        assert saved.steps == flow.steps, flow.preset
        assert saved.filters == flow.filters, flow.preset
        # Multiple choices (statuses) are a set: the form lists them in its own order.
        assert _as_sets(saved.trigger_config) == _as_sets(flow.trigger_config), flow.preset
        assert (saved.name, saved.category, saved.trigger) == (
            flow.name, flow.category, flow.trigger,
        ), flow.preset  # fmt: skip


def test_the_form_editor_adds_moves_and_removes_steps(owner: Client, store: Store) -> None:
    flow = make_flow(store)  # wait, ask
    url = f"/dashboard/flows/{flow.pk}/form/"
    shown = owner.get(url)
    assert '<option value="send_email" selected>Send an email</option>' in html(shown)
    fields = form_fields(shown)
    page = owner.post(url, {**fields, "op": "add_step:condition"})
    fields = form_fields(page)
    assert fields["s-count"] == "3" and fields["s-2-type"] == "condition"
    fields = form_fields(owner.post(url, {**fields, "op": "up:2"}))  # wait, condition, ask
    assert [fields[f"s-{i}-type"] for i in range(3)] == ["wait", "condition", "action"]
    fields["s-1-c-0-fact"] = "order.is_refunded"
    fields["s-1-c-0-op"] = "eq"
    fields["s-1-c-0-value"] = "false"
    fields = form_fields(owner.post(url, {**fields, "op": "add_filter"}))
    assert fields["f-count"] == "3"
    fields = form_fields(owner.post(url, {**fields, "op": "remove_filter:2"}))
    assert fields["f-count"] == "2"
    assert Flow.objects.get(pk=flow.pk).version == 1  # nothing saved so far
    response = owner.post(url, {**fields, "op": "save"})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert [s["type"] for s in flow.steps] == ["wait", "condition", "action"]
    assert flow.steps[1]["conditions"] == [
        {"fact": "order.is_refunded", "op": "eq", "value": False}
    ]
    fields = form_fields(owner.get(url))
    fields = form_fields(owner.post(url, {**fields, "op": "remove_step:1"}))
    owner.post(url, {**fields, "op": "save"})
    flow.refresh_from_db()
    assert [s["type"] for s in flow.steps] == ["wait", "action"]


def test_the_form_editor_shows_problems_by_step_and_keeps_what_was_typed(
    owner: Client, store: Store
) -> None:
    flow = make_flow(store)
    url = f"/dashboard/flows/{flow.pk}/form/"
    fields = form_fields(owner.get(url))
    fields = form_fields(owner.post(url, {**fields, "op": "add_step:action"}))
    fields["s-0-days"] = "-3"
    fields["s-2-p-template"] = ""
    fields["name"] = "Typed name"
    response = owner.post(url, {**fields, "op": "save"})
    assert response.status_code == 200
    page = html(response)
    assert 'data-testid="step-problems-0"' in page
    assert "Typed name" in page
    flow.refresh_from_db()
    assert flow.name == "Review request" and flow.version == 1
    fields["s-0-days"] = "3"
    page = html(owner.post(url, {**fields, "op": "save"}))
    assert 'data-testid="step-problems-2"' in page  # the action without its template
    assert "template" in page


def test_a_new_flow_from_the_form_editor_is_a_draft(owner: Client, store: Store) -> None:
    fields = form_fields(owner.get("/dashboard/flows/new/form/"))
    fields["name"] = "Welcome"
    response = owner.post("/dashboard/flows/new/form/", {**fields, "op": "save"})
    assert response.status_code == 302
    flow = Flow.objects.get(store=store)
    assert (flow.name, flow.status) == ("Welcome", FlowStatus.DRAFT)


def test_the_form_editor_is_for_managers_of_this_store_only(
    store: Store, other_store: Store
) -> None:
    theirs = make_flow(other_store)
    mine = make_flow(store)
    owner = signed_in(store, StaffRole.OWNER)
    assert owner.get(f"/dashboard/flows/{theirs.pk}/form/").status_code == 404
    assert owner.post(f"/dashboard/flows/{theirs.pk}/form/", {"op": "save"}).status_code == 404
    agent = agent_client(store)
    assert agent.get(f"/dashboard/flows/{mine.pk}/form/").status_code == 403
    assert agent.post("/dashboard/flows/new/form/", {"op": "save"}).status_code == 403
    browser = signed_in(store, StaffRole.OWNER, csrf=True)
    fields = form_fields(browser.get(f"/dashboard/flows/{mine.pk}/form/"))
    assert browser.post(f"/dashboard/flows/{mine.pk}/form/", fields).status_code == 403


@pytest.mark.parametrize(
    ("language", "status", "refund"),
    [("en", "Pending payment", "Partial refund"), ("ko", "결제 대기", "부분 환불"),
     ("ja", "支払い待ち", "一部返金")],
)  # fmt: skip
def test_trigger_choices_are_shown_in_the_staffs_language(
    owner: Client, store: Store, language: str, status: str, refund: str
) -> None:
    """The choices read as words (and in Korean or Japanese), the values stay the shop's."""
    headers = {"Accept-Language": language}
    data = {"name": "x", "trigger_type": "order.status_changed", "op": "refresh"}
    page = html(owner.post("/dashboard/flows/new/form/", data, headers=headers))
    assert f'value="pending"> {status}</label>' in page
    data["trigger_type"] = "order.refunded"
    page = html(owner.post("/dashboard/flows/new/form/", data, headers=headers))
    assert f'<option value="partial">{refund}</option>' in page
