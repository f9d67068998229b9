"""The outbox pages: the list (filters, pages) and one message — its HTML only inside a sandboxed
iframe, its text part, every send attempt with the provider's answer; tenancy, escaping and
query counts."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftercare.messaging import tracking
from aftercare.messaging.models import AttemptOutcome
from aftercare.stores.models import Store
from tests.dashboard.conftest import table_body
from tests.dashboard.test_flows_pages import ESCAPED_XSS, XSS, agent_client, make_flow, make_message
from tests.mirror_factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_list_shows_messages_with_recipient_subject_flow_and_status(
    owner: Client, store: Store
) -> None:
    flow = make_flow(store, name="Ask for reviews")
    customer = CustomerFactory(store=store, email="jane@example.com", first_name="Jane")
    message = make_message(store, customer=customer, subject="How was it?", flow=flow)
    body = table_body(owner.get("/dashboard/messages/"))
    assert "jane@example.com" in body
    assert "How was it?" in body
    assert "Ask for reviews" in body
    assert f"/dashboard/messages/{message.pk}/" in body
    assert "Sent" in body


def test_filters(owner: Client, store: Store) -> None:
    make_message(store, subject="Delivered one", customer=CustomerFactory(
        store=store, email="a@example.com"))  # fmt: skip
    make_message(
        store, subject="Refused one", status="failed",
        answers=((AttemptOutcome.PERMANENT, "550 5.1.1 no such user"),),
    )  # fmt: skip
    body = table_body(owner.get("/dashboard/messages/?status=failed"))
    assert "Refused one" in body and "Delivered one" not in body
    body = table_body(owner.get("/dashboard/messages/?email=A@example.com"))
    assert "Delivered one" in body and "Refused one" not in body
    assert owner.get("/dashboard/messages/?status=x&channel=y&flow=z&page=q").status_code == 200
    response = owner.get("/dashboard/messages/?status=failed", headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()


def test_message_html_is_shown_only_in_a_sandboxed_iframe(owner: Client, store: Store) -> None:
    hostile = (
        '<p onclick="steal()">Hi</p><script>alert(1)</script>'
        '"><script>alert(2)</script><img src=x onerror=alert(3)>'
    )
    message = make_message(store, body_html=hostile)
    page = owner.get(f"/dashboard/messages/{message.pk}/").content.decode()
    frames = re.findall(r"<iframe[^>]*>", page)
    assert len(frames) == 1
    frame = frames[0]
    assert ' sandbox=""' in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame)
    assert srcdoc is not None
    assert html_lib.unescape(srcdoc.group(1)) == hostile  # intact, but only as the frame's doc
    # Nothing of it is live markup in the dashboard page itself.
    assert "<script>alert" not in page
    assert "onerror=alert" not in page.replace(srcdoc.group(0), "")
    assert 'onclick="steal()"' not in page


def test_reading_a_message_here_fires_none_of_its_tracking(owner: Client, store: Store) -> None:
    message = make_message(store)
    message.tracking_token = "a" * 32
    message.links = ["https://shop.example/p/1", "https://shop.example/review?x=1"]
    pixel = tracking.open_pixel_url(token=message.tracking_token)
    clicks = [tracking.click_url(token=message.tracking_token, index=i) for i in range(2)]
    message.body_html = (
        f'<a href="{clicks[0]}">Product</a> <a href="{clicks[1]}">Review</a>'
        f'<img src="{pixel}" width="1" height="1" alt="">'
    )
    message.save()
    page = owner.get(f"/dashboard/messages/{message.pk}/").content.decode()
    srcdoc = html_lib.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    assert "/m/o/" not in srcdoc and "/m/c/" not in srcdoc
    assert 'href="https://shop.example/p/1"' in srcdoc
    assert 'href="https://shop.example/review?x=1"' in srcdoc
    assert 'src="data:image/gif;base64,' in srcdoc
    message.refresh_from_db()
    assert message.first_opened_at is None and message.first_clicked_at is None


def test_message_page_lists_every_attempt_with_the_providers_answer(
    owner: Client, store: Store
) -> None:
    message = make_message(
        store,
        answers=(
            (AttemptOutcome.TEMPORARY, "421 4.7.0 Try again later"),
            (AttemptOutcome.SENT, "250 2.0.0 Ok: queued as 4F2A"),
        ),
    )
    page = owner.get(f"/dashboard/messages/{message.pk}/").content.decode()
    assert "421 4.7.0 Try again later" in page
    assert "250 2.0.0 Ok: queued as 4F2A" in page
    assert "Temporary failure" in page and "Accepted" in page
    assert page.index("421 4.7.0") < page.index("250 2.0.0")  # in the order they happened
    assert "Hello" in page  # the text part


def test_a_text_only_message_has_no_frame(owner: Client, store: Store) -> None:
    message = make_message(store, body_html="")
    page = owner.get(f"/dashboard/messages/{message.pk}/").content.decode()
    assert "<iframe" not in page
    assert "Hello" in page


def test_agents_may_read_the_outbox(store: Store) -> None:
    message = make_message(store)
    agent = agent_client(store)
    assert agent.get("/dashboard/messages/").status_code == 200
    assert agent.get(f"/dashboard/messages/{message.pk}/").status_code == 200


def test_another_stores_message_is_404_and_never_listed(
    owner: Client, store: Store, other_store: Store
) -> None:
    theirs = make_message(
        other_store, subject="Globex news",
        customer=CustomerFactory(store=other_store, email="them@globex.example"),
    )  # fmt: skip
    assert owner.get(f"/dashboard/messages/{theirs.pk}/").status_code == 404
    page = owner.get("/dashboard/messages/").content.decode()
    assert "Globex news" not in page and "them@globex.example" not in page
    assert (
        "Globex news"
        not in owner.get("/dashboard/messages/?email=them@globex.example").content.decode()
    )


def test_subject_and_customer_name_are_escaped(owner: Client, store: Store) -> None:
    customer = CustomerFactory(store=store, first_name=XSS, last_name="")
    message = make_message(store, customer=customer, subject=f"Hi {XSS}")
    for url in ("/dashboard/messages/", f"/dashboard/messages/{message.pk}/"):
        page = owner.get(url).content.decode()
        assert XSS not in page, url
        assert ESCAPED_XSS in page, url


def test_the_list_costs_the_same_queries_for_two_messages_or_twenty(
    owner: Client, store: Store
) -> None:
    flow = make_flow(store)
    for _ in range(2):
        make_message(store, flow=flow)
    with CaptureQueriesContext(connection) as few:
        owner.get("/dashboard/messages/")
    for _ in range(18):
        make_message(store, flow=flow)
    with CaptureQueriesContext(connection) as many:
        owner.get("/dashboard/messages/")
    assert len(many) == len(few)
