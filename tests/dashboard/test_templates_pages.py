"""The template pages: the list (shipped / customised per language), the editor with its live
preview (a real customer's data, sandboxed, no tracking), save / reset / send a test; tenancy,
roles, CSRF, escaping, and a test mail that arrives at a real SMTP server."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.test import Client

from aftercare.customers.models import Customer
from aftercare.messaging import sender, template_catalog
from aftercare.messaging.models import Message, MessageTemplate
from aftercare.stores.models import StaffRole, Store
from tests.dashboard.test_flows_pages import ESCAPED_XSS, XSS
from tests.dashboard.test_settings_support import csrf_token, signed_in
from tests.factories import StoreFactory
from tests.mirror_factories import T0, CustomerFactory, LineItemFactory, OrderFactory
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.django_db

EDITOR = "/dashboard/templates/thank-you/en/email/"
PREVIEW = EDITOR + "preview/"
TEST = EDITOR + "test/"
RESET = EDITOR + "reset/"
HTMX = {"HX-Request": "true"}
DRAFT = {
    "subject": "Thanks {{ customer.first_name }}",
    "preheader": "Order #{{ order.number }}",
    "body": "Hello **{{ customer.first_name }}**, your order #{{ order.number }}.\n\n"
    "{{ order_items() }}",
}
BROKEN = "Hello\n\n{% if order.number %}\nno end\n"


@pytest.fixture
def owner(store: Store) -> Client:
    return signed_in(store, StaffRole.OWNER, email="owner@acme.example")


def buyer(store: Store, *, first_name: str = "Jane", number: str = "7731") -> Customer:
    customer = CustomerFactory(store=store, first_name=first_name, last_name="Roe")
    order = OrderFactory(store=store, customer=customer, number=number, date_created=T0)
    LineItemFactory(order=order, name="Blue Mug")
    return customer


def frames(page: str) -> list[str]:
    return re.findall(r"<iframe[^>]*>", page)


def srcdocs(page: str) -> list[str]:
    return [html_lib.unescape(m) for m in re.findall(r'srcdoc="([^"]*)"', page)]


# --- the list ---------------------------------------------------------------------------------


def test_list_shows_every_template_per_language_shipped_or_customised(
    owner: Client, store: Store
) -> None:
    store.languages = ["en", "ko"]
    store.save()
    MessageTemplate.objects.create(
        store=store, key="win-back", locale="ko", channel="email", subject="s", body="b",
        updated_at=T0, updated_by="owner@acme.example",
    )  # fmt: skip
    page = owner.get("/dashboard/templates/").content.decode()
    for known in template_catalog.template_keys():
        assert f"/dashboard/templates/{known.key}/en/email/" in page
        assert f"/dashboard/templates/{known.key}/ko/email/" in page
    cell = page[page.index('data-testid="version-win-back-ko-email"') :]
    assert "Customised" in cell[: cell.index("</td>")]
    cell = page[page.index('data-testid="version-win-back-en-email"') :]
    assert "Shipped" in cell[: cell.index("</td>")]
    assert 'href="/dashboard/templates/"' in page  # the nav item


def test_another_stores_version_does_not_show(owner: Client, store: Store) -> None:
    MessageTemplate.objects.create(
        store=StoreFactory(slug="globex"), key="win-back", locale="en", channel="email",
        subject="s", body="b", updated_at=T0,
    )  # fmt: skip
    page = owner.get("/dashboard/templates/").content.decode()
    assert "Customised" not in page.split("<tbody>")[1]


# --- the editor and its preview ---------------------------------------------------------------


def test_editor_previews_with_the_customer_of_the_latest_order(owner: Client, store: Store) -> None:
    buyer(store, first_name="Older", number="1")
    jane = CustomerFactory(store=store, first_name="Jane", last_name="Roe")
    OrderFactory(store=store, customer=jane, number="7731", date_created=T0 + timedelta(days=2))
    page = owner.get(EDITOR).content.decode()
    assert "{{ customer.greeting_name }}" in page  # the shipped text, in the form
    assert "customer.first_name" in page  # the variable reference
    assert jane.email in page
    found = frames(page)
    assert len(found) == 2  # desktop and phone
    assert all(' sandbox=""' in frame for frame in found)
    assert all("#7731" in doc for doc in srcdocs(page))
    assert f'value="{jane.pk}" form="editor" checked' in page


def test_preview_renders_the_draft_with_the_chosen_customer(owner: Client, store: Store) -> None:
    jane = buyer(store)
    response = owner.post(PREVIEW, {**DRAFT, "customer": jane.pk}, headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # a partial for HTMX
    assert "Thanks Jane" in page
    [desktop, phone] = srcdocs(page)
    assert desktop == phone
    assert "Blue Mug" in desktop and "#7731" in desktop
    assert "/m/o/" not in desktop and "/m/c/" not in desktop  # no tracking
    assert not MessageTemplate.objects.exists()  # previewing saves nothing


def test_preview_without_a_customer_uses_sample_data(owner: Client) -> None:
    page = owner.post(PREVIEW, {**DRAFT, "customer": ""}).content.decode()
    assert "Thanks Ann" in page
    assert "sample data" in page


def test_preview_shows_a_template_error_with_its_line(owner: Client) -> None:
    page = owner.post(PREVIEW, {**DRAFT, "body": BROKEN}).content.decode()
    error = re.search(r'data-testid="template-error">([^<]*)<', page)
    assert error is not None
    assert re.search(r"Body, line \d+", html_lib.unescape(error.group(1)))
    assert "<iframe" not in page


def test_unknown_variables_are_warned_about(owner: Client) -> None:
    page = owner.post(
        PREVIEW, {**DRAFT, "body": "Hi {{ customer.frist_name }} {{ custmer }}"}
    ).content.decode()
    warnings = page[page.index('data-testid="template-warnings"') :]
    assert "customer.frist_name" in warnings and "custmer" in warnings


def test_sms_preview_is_text_with_its_segments(owner: Client) -> None:
    page = owner.post(
        "/dashboard/templates/thank-you/en/sms/preview/", {"body": "Hi {{ customer.first_name }}"}
    ).content.decode()
    assert 'data-testid="preview-sms">Hi Ann<' in page
    assert "1 SMS segment" in page


def test_xss_in_a_customers_name_is_inert_in_the_preview(owner: Client, store: Store) -> None:
    hostile = buyer(store, first_name=XSS)
    for page in (
        owner.get(f"{EDITOR}?customer={hostile.pk}").content.decode(),
        owner.post(PREVIEW, {**DRAFT, "customer": hostile.pk}).content.decode(),
    ):
        outside = re.sub(r'srcdoc="[^"]*"', "", page)
        assert XSS not in outside  # never live in the dashboard page
        for doc in srcdocs(page):
            assert XSS not in doc  # and escaped inside the sandboxed mail too
            assert ESCAPED_XSS in doc


# --- tenancy ----------------------------------------------------------------------------------


def test_another_stores_customer_cannot_be_used(owner: Client, store: Store) -> None:
    stranger = buyer(StoreFactory(slug="globex"), first_name="Stranger")
    assert owner.get(f"{EDITOR}?customer={stranger.pk}").status_code == 404
    assert owner.post(PREVIEW, {**DRAFT, "customer": stranger.pk}).status_code == 404
    assert owner.post(TEST, {**DRAFT, "customer": stranger.pk}).status_code == 404
    assert owner.post(EDITOR, {**DRAFT, "customer": stranger.pk}).status_code == 404
    assert owner.get(f"/dashboard/templates/customers/?customer={stranger.pk}").status_code == 404
    assert owner.post(PREVIEW, {**DRAFT, "customer": "abc"}).status_code == 404
    assert not Message.objects.exists()
    assert not MessageTemplate.objects.exists()


def test_customer_search_finds_only_this_stores_customers(owner: Client, store: Store) -> None:
    mine = CustomerFactory(store=store, email="jane.mine@example.com", first_name="Jane")
    CustomerFactory(store=StoreFactory(slug="globex"), email="jane.theirs@example.com")
    page = owner.get("/dashboard/templates/customers/?q=jane", headers=HTMX).content.decode()
    assert "jane.mine@example.com" in page and f'value="{mine.pk}"' in page
    assert "jane.theirs@example.com" not in page
    page = owner.get("/dashboard/templates/customers/?q=nobody").content.decode()
    assert "No customer of this store matches." in page


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/templates/nope/en/email/",
        "/dashboard/templates/thank-you/en/webhook/",
        "/dashboard/templates/thank-you/ko/email/",  # the store does not write Korean
    ],
)
def test_unknown_templates_and_languages_are_404(owner: Client, url: str) -> None:
    assert owner.get(url).status_code == 404
    assert owner.post(url + "preview/", DRAFT).status_code == 404


# --- saving, resetting ------------------------------------------------------------------------


def test_save_then_reset(owner: Client, store: Store) -> None:
    response = owner.post(EDITOR, DRAFT)
    assert response.status_code == 302 and response["Location"] == EDITOR
    row = MessageTemplate.objects.get(store=store)
    assert (row.subject, row.updated_by) == (DRAFT["subject"], "owner@acme.example")
    page = owner.get(EDITOR).content.decode()
    assert "Customised" in page and "Reset to default" in page
    assert owner.post(RESET)["Location"] == EDITOR
    assert not MessageTemplate.objects.filter(store=store).exists()
    assert "Reset to default" not in owner.get(EDITOR).content.decode()


def test_a_broken_template_shows_its_line_and_is_not_saved(owner: Client, store: Store) -> None:
    response = owner.post(EDITOR, {**DRAFT, "body": BROKEN})
    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(r'data-testid="save-error">([^<]*)<', page)
    assert error is not None
    assert re.search(r"Not saved: Body, line \d+", html_lib.unescape(error.group(1)))
    assert html_lib.escape(BROKEN, quote=False).strip() in page  # the draft is kept
    assert not MessageTemplate.objects.filter(store=store).exists()


def test_an_agent_may_look_and_preview_but_not_change_or_send(store: Store) -> None:
    agent = signed_in(store, StaffRole.AGENT)
    page = agent.get(EDITOR).content.decode()
    assert "readonly" in page and ">Save<" not in page and "Send test to me" not in page
    assert agent.post(PREVIEW, DRAFT).status_code == 200
    assert agent.post(EDITOR, DRAFT).status_code == 403
    assert agent.post(TEST, DRAFT).status_code == 403
    MessageTemplate.objects.create(
        store=store, key="thank-you", locale="en", channel="email", subject="s", body="b",
        updated_at=T0,
    )  # fmt: skip
    assert agent.post(RESET).status_code == 403
    assert MessageTemplate.objects.get(store=store).subject == "s"
    assert not Message.objects.exists()


def test_changes_need_a_csrf_token(store: Store) -> None:
    browser = signed_in(store, StaffRole.OWNER, csrf=True)
    for url in (EDITOR, TEST, RESET, PREVIEW):
        assert browser.post(url, DRAFT).status_code == 403
    assert not MessageTemplate.objects.exists() and not Message.objects.exists()
    token = csrf_token(browser, EDITOR)
    assert browser.post(EDITOR, {**DRAFT, "csrfmiddlewaretoken": token}).status_code == 302


def test_pages_need_a_login(client: Client) -> None:
    assert client.get(EDITOR).status_code == 302
    assert client.post(PREVIEW, DRAFT).status_code == 302


# --- send test --------------------------------------------------------------------------------


def test_send_test_arrives_at_the_staff_members_address(
    owner: Client, store: Store, smtp_sink: SmtpSink
) -> None:
    jane = buyer(store)
    response = owner.post(
        TEST, {**DRAFT, "customer": jane.pk, "click_id": "click-abcdef01"}, headers=HTMX
    )
    page = response.content.decode()
    assert "A test is on its way to owner@acme.example." in page
    assert 'hx-swap-oob="true"' in page  # a fresh click id for the next click
    owner.post(TEST, {**DRAFT, "customer": jane.pk, "click_id": "click-abcdef01"}, headers=HTMX)
    assert Message.objects.filter(store=store, source="test").count() == 1  # one per click
    assert not MessageTemplate.objects.exists()  # the draft was tested, not saved
    assert sender.send_due() == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail["Subject"] == "[Test] Thanks Jane"
    assert smtp_sink.envelopes[0][1] == ["owner@acme.example"]
    assert "#7731" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_send_test_without_htmx_keeps_the_draft_on_the_page(owner: Client) -> None:
    response = owner.post(TEST, {**DRAFT, "body": "Unsaved draft {{ customer.first_name }}"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "A test is on its way" in page
    assert "Unsaved draft {{ customer.first_name }}" in page
    assert Message.objects.get().subject == "[Test] Thanks Ann"


def test_send_test_of_a_broken_draft_says_why(owner: Client) -> None:
    page = owner.post(TEST, {**DRAFT, "body": BROKEN}, headers=HTMX).content.decode()
    assert "Not sent: Body, line" in html_lib.unescape(page)
    assert not Message.objects.exists()
