"""Expired links: the page offers a fresh one, a job mails it (through a real SMTP server), the
new link works, and asking again is rate-limited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from django.test import Client

from aftercare.customers.models import Customer
from aftercare.jobs import services as job_services
from aftercare.jobs.models import Job, JobStatus
from aftercare.orders.models import Order
from aftercare.portal import handlers
from tests.portal.links import order_path, path_of, preferences_path
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=200)  # past the 180 days of a preferences link


def run_jobs() -> int:
    return job_services.run_due(worker_id="test-worker", limit=10)


def request_fresh(client: Client, expired_path: str, purpose: str) -> Any:
    page = client.get(expired_path)
    assert page.status_code == 410
    body = page.content.decode()
    match = re.search(r'<form method="post" action="([^"]+)"', body)
    assert match is not None
    action = match.group(1).replace("&amp;", "&")
    assert f"/fresh/{purpose}/" in action
    return client.post(action, {"csrfmiddlewaretoken": str(page.context["csrf_token"])})


def link_in(mail: EmailMessage) -> tuple[str, str]:
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    [url] = re.findall(r"http://\S+/c/\S+/", text.get_content())
    assert f'href="{url}"' in html.get_content()
    return url, text.get_content()


def test_expired_page_offers_a_fresh_link(customer: Customer) -> None:
    with time_machine.travel(T0, tick=False):
        path = preferences_path(customer)
    with time_machine.travel(LATER, tick=False):
        response = Client().get(path)
    body = response.content.decode()
    assert response.status_code == 410
    assert "This link has expired" in body
    assert "ja•••e@example.com" in body
    assert "Send me a fresh link" in body
    assert 'name="email"' not in body  # the token says who; nobody types an address
    assert "csrfmiddlewaretoken" in body


def test_fresh_link_is_mailed_and_works(
    customer: Customer, smtp_sink: SmtpSink, settings: Any
) -> None:
    customer.store.sender_name = "Acme Care"
    customer.store.sender_email = "care@acme.example"
    customer.store.reply_to_email = "help@acme.example"
    customer.store.save()
    with time_machine.travel(T0, tick=False):
        path = preferences_path(customer)
    with time_machine.travel(LATER, tick=False):
        client = Client(enforce_csrf_checks=True)
        response = request_fresh(client, path, "preferences")
        assert response.status_code == 200
        assert "Check your email" in response.content.decode()
        assert run_jobs() == 1
        [mail] = smtp_sink.wait_for(1)
        assert smtp_sink.envelopes[0][1] == ["jane.doe@example.com"]
        assert mail["To"] == "jane.doe@example.com"
        assert mail["From"] == "Acme Care <care@acme.example>"
        assert mail["Reply-To"] == "help@acme.example"
        assert "Acme Outfitters" in mail["Subject"]
        url, text = link_in(mail)
        assert url.startswith(settings.PUBLIC_URL)
        assert "Hello Jane," in text
        fresh = Client().get(path_of(url))
        assert fresh.status_code == 200
        assert "Your preferences" in fresh.content.decode()


def test_fresh_order_link_in_the_customers_language(
    customer: Customer, order: Order, smtp_sink: SmtpSink
) -> None:
    customer.store.languages = ["en", "ja"]
    customer.store.save()
    Customer.objects.filter(pk=customer.pk).update(locale="ja")
    with time_machine.travel(T0, tick=False):
        path = order_path(order)
    with time_machine.travel(T0 + timedelta(days=91), tick=False):
        response = request_fresh(Client(), path, "order")
        assert response.status_code == 200
        assert '<html lang="ja">' in response.content.decode()
        run_jobs()
        [mail] = smtp_sink.wait_for(1)
        assert mail["From"] == "Aftercare <aftercare@localhost>"  # no sender set: the default
        url, _ = link_in(mail)
        assert "#1042" in mail["Subject"]
        assert "Trail Runner Shoe" in Client().get(path_of(url)).content.decode()
        assert Client().get(path_of(url)).status_code == 200


def test_at_most_one_mail_per_subject_in_ten_minutes(
    customer: Customer, smtp_sink: SmtpSink
) -> None:
    with time_machine.travel(T0, tick=False):
        path = preferences_path(customer)
    with time_machine.travel(LATER, tick=False) as clock:
        client = Client()
        request_fresh(client, path, "preferences")
        clock.shift(timedelta(minutes=4))
        again = request_fresh(client, path, "preferences")
        body = again.content.decode()
        assert again.status_code == 200
        assert "already on its way" in body
        assert "6 minutes" in body
        assert Job.objects.filter(kind="portal.send_fresh_link").count() == 1
        run_jobs()
        clock.shift(timedelta(minutes=7))  # 11 minutes after the first
        assert "Check your email" in request_fresh(client, path, "preferences").content.decode()
        run_jobs()
        assert len(smtp_sink.wait_for(2)) == 2
    assert Job.objects.filter(kind="portal.send_fresh_link").count() == 2


def test_the_rate_limit_is_per_subject(customer: Customer, order: Order) -> None:
    with time_machine.travel(T0, tick=False):
        prefs, tracking = preferences_path(customer), order_path(order)
    with time_machine.travel(LATER, tick=False):
        request_fresh(Client(), prefs, "preferences")
        request_fresh(Client(), tracking, "order")
    assert Job.objects.filter(kind="portal.send_fresh_link").count() == 2


def test_fresh_link_form_needs_csrf(customer: Customer) -> None:
    with time_machine.travel(T0, tick=False):
        token = preferences_path(customer).split("/")[2]
    with time_machine.travel(LATER, tick=False):
        response = Client(enforce_csrf_checks=True).post(f"/c/{token}/fresh/preferences/")
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_valid_link_needs_no_fresh_one(customer: Customer) -> None:
    path = preferences_path(customer)
    token = path.split("/")[2]
    response = Client().post(f"/c/{token}/fresh/preferences/")
    assert response.status_code == 302
    assert response["Location"] == path
    assert not Job.objects.exists()


def test_invalid_token_gets_no_resend(customer: Customer) -> None:
    response = Client().get("/c/not-a-token/preferences/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "This link is not valid" in body
    assert "fresh link" not in body
    assert Client().post("/c/not-a-token/fresh/preferences/").status_code == 404
    assert Client().post("/c/x/fresh/points/").status_code == 404
    assert not Job.objects.exists()


def test_no_mail_for_a_customer_deleted_since(customer: Customer, smtp_sink: SmtpSink) -> None:
    handlers.send_fresh_link.enqueue(
        store_id=customer.store_id,
        purpose="preferences",
        subject_id=customer.pk,
        customer_id=customer.pk,
    )
    Customer.objects.filter(pk=customer.pk).update(deleted_at=T0)
    run_jobs()
    assert Job.objects.get().status == JobStatus.SUCCEEDED
    assert smtp_sink.messages == []


def test_mail_is_escaped_and_header_safe(customer: Customer, smtp_sink: SmtpSink) -> None:
    Customer.objects.filter(pk=customer.pk).update(first_name="<b>Jane</b>")
    store = customer.store
    store.name = "Acme <script>x</script>\nBcc: victim@example.com"
    store.save()
    handlers.send_fresh_link.call(
        store_id=store.pk, purpose="preferences", subject_id=customer.pk, customer_id=customer.pk
    )
    [mail] = smtp_sink.wait_for(1)
    assert mail["Bcc"] is None
    assert "\n" not in mail["Subject"]
    html = mail.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "<b>Jane</b>" not in content and "&lt;b&gt;Jane&lt;/b&gt;" in content
    assert "<script>" not in content
