"""A GDPR request covers what flows and messaging hold: the export lists the person's
messages; the erasure blanks them, cancels what still waits, and nothing more goes out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from aftercare.flows import matcher, runner, services
from aftercare.flows.models import FlowRun, ScheduledStep
from aftercare.messaging import sender
from aftercare.messaging.models import Message, Suppression
from aftercare.privacy import services as privacy
from aftercare.stores.models import Store
from tests.analytics.factories import order_record, place

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_export_and_erasure_cover_messages_and_waiting_steps(store: Store) -> None:
    services.enable_preset(store=store, name="thank-you")
    services.create_flow(
        store=store,
        status="active",
        data={
            "name": "Later",
            "category": "transactional",
            "trigger": {"type": "order.paid"},
            "steps": [
                {"key": "wait", "type": "wait", "days": 3},
                {"key": "mail", "type": "action", "action": "send_email",
                 "params": {"template": "order-completed"}},
            ],
        },
    )  # fmt: skip
    place(store, order_record(email="gone@example.com", created=NOW, status="processing"))
    matcher.match_pending()
    runner.run_due()
    sender.send_due()  # the local outbox: no EMAIL_URL in tests
    Suppression.objects.create(
        store=store, channel="email", address="gone@example.com", reason="complaint",
        created_at=NOW,
    )  # fmt: skip
    exported = privacy.export_customer_data(store=store, email="gone@example.com")
    [message] = exported["data"]["messages"]
    assert message["recipient"] == "gone@example.com" and message["status"] == "sent"
    assert exported["data"]["suppressions"][0]["reason"] == "complaint"

    privacy.erase_customer(store=store, email="gone@example.com")
    sent = Message.objects.get()
    assert (sent.recipient, sent.subject, sent.body_html) == ("erased", "", "")
    assert not Suppression.objects.exists()
    assert ScheduledStep.objects.get(step_key="mail").status == "cancelled"
    assert set(FlowRun.objects.values_list("status", flat=True)) == {"finished", "cancelled"}
