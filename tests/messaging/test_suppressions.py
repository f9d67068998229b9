"""messaging.suppressions: one normalised row per address, first reason kept, one event per
new bounce or complaint about a known customer, none for anything else."""

from __future__ import annotations

import pytest

from aftercare.core.errors import InvalidInput
from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.messaging import policy, suppressions
from aftercare.messaging.models import Suppression
from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def jane(store: Store) -> Customer:
    return Customer.objects.create(store=store, email="jane@example.com", phone="+15551230000")


def test_suppress_is_idempotent_and_keeps_the_first_reason(store: Store, jane: Customer) -> None:
    row, created = suppressions.suppress(
        store=store, channel="email", address=" JANE@example.com", reason="complaint",
        detail="abuse report", source="api",
    )  # fmt: skip
    assert created and row.address == "jane@example.com"
    again, created_again = suppressions.suppress(
        store=store, channel="email", address="jane@example.com", reason="hard_bounce"
    )
    assert not created_again and again.pk == row.pk and again.reason == "complaint"
    assert Suppression.objects.count() == 1
    assert Event.objects.filter(type="message.complained", customer_id=jane.pk).count() == 1
    assert not Event.objects.filter(type="message.bounced").exists()


def test_a_manual_suppression_publishes_nothing(store: Store, jane: Customer) -> None:
    suppressions.suppress(store=store, channel="email", address=jane.email, reason="manual")
    assert policy.is_suppressed(store=store, channel="email", address=jane.email) == "manual"
    assert not Event.objects.exists()


def test_sms_bounce_finds_the_customer_by_phone(store: Store, jane: Customer) -> None:
    suppressions.suppress(store=store, channel="sms", address="+15551230000", reason="hard_bounce")
    event = Event.objects.get(type="message.bounced")
    assert event.customer_id == jane.pk and event.payload["channel"] == "sms"
    with pytest.raises(InvalidInput, match=r"E\.164"):
        suppressions.suppress(store=store, channel="sms", address="555-1234", reason="hard_bounce")


def test_unsuppress_then_suppress_again_is_a_new_fact(store: Store, jane: Customer) -> None:
    suppressions.suppress(store=store, channel="email", address=jane.email, reason="hard_bounce")
    assert suppressions.unsuppress(store=store, channel="email", address="Jane@Example.com")
    assert not suppressions.unsuppress(store=store, channel="email", address=jane.email)
    assert not policy.is_suppressed(store=store, channel="email", address=jane.email)
    suppressions.suppress(store=store, channel="email", address=jane.email, reason="hard_bounce")
    assert Event.objects.filter(type="message.bounced").count() == 2


@pytest.mark.parametrize(
    ("channel", "address", "reason", "field"),
    [
        ("pigeon", "jane@example.com", "manual", "channel"),
        ("email", "", "manual", "address"),
        ("email", "jane at example", "manual", "address"),
        ("email", "jane@example.com", "bored", "reason"),
    ],
)
def test_bad_input_names_the_field(
    store: Store, channel: str, address: str, reason: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        suppressions.suppress(store=store, channel=channel, address=address, reason=reason)
    assert raised.value.details["field"] == field
    assert not Suppression.objects.exists()
