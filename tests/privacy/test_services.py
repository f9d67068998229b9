"""GDPR export and erasure: the export holds the person's data and nobody else's; erasure
removes every trace of them from the database text while order totals and counts survive; it is
atomic and idempotent; later modules plug in through the registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core import serializers
from django.db.models import Count, Sum

from aftercare.catalog.models import ProductReview
from aftercare.core import privacy_registry
from aftercare.core.errors import InvalidInput
from aftercare.customers.models import ConsentChange, ConsentState, Customer
from aftercare.events.models import Event
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.orders.models import LineItem, Order, OrderStatusChange, Refund, RefundLine
from aftercare.privacy import person
from aftercare.privacy import services as privacy_services
from aftercare.privacy.models import ErasureRecord
from aftercare.stores.models import Store
from tests.privacy.factories import Person, mirror_person

pytestmark = pytest.mark.django_db
MODELS = (
    Customer,
    ConsentChange,
    Order,
    LineItem,
    Refund,
    RefundLine,
    OrderStatusChange,
    Event,
    WebhookDelivery,
    ProductReview,
)


@pytest.fixture
def ann(store: Store) -> Person:
    return mirror_person(
        store,
        email="ann@example.com",
        first_name="Annabel",
        last_name="Zylberstein",
        phone="+15550142",
        orders=2,
        guest_orders=1,
    )


@pytest.fixture
def bob(store: Store) -> Person:
    return mirror_person(
        store,
        email="bob@example.com",
        first_name="Bob",
        last_name="Quackenbush",
        phone="+15550199",
        orders=1,
        guest_orders=0,
    )


@pytest.fixture
def ann_elsewhere(other_store: Store) -> Person:
    return mirror_person(
        other_store,
        email="ann@example.com",
        first_name="Annabel",
        last_name="Elsewhere",
        phone="+15550177",
        orders=1,
        guest_orders=0,
    )


def db_text(store: Store) -> str:
    """Every row of the store's personal-data tables, as JSON text (the "search the DB")."""
    parts = []
    for model in MODELS:
        if model in (ConsentChange,):
            rows = model.objects.filter(customer__store=store)
        elif model in (LineItem, Refund, OrderStatusChange):
            rows = model.objects.filter(order__store=store)
        elif model is RefundLine:
            rows = model.objects.filter(refund__order__store=store)
        else:
            rows = model.objects.filter(store=store)
        parts.append(serializers.serialize("json", rows.order_by("pk")))
    return "\n".join(parts)


def traces(who: Person) -> list[str]:
    return [who.email, who.email.upper(), who.last_name, who.phone, who.note, who.postcode]


def aggregates(store: Store) -> dict[str, Any]:
    orders = Order.objects.filter(store=store)
    return {
        **orders.aggregate(n=Count("id"), total=Sum("total"), refunded=Sum("refunded_total")),
        "lines": LineItem.objects.filter(order__store=store).count(),
        "quantity": LineItem.objects.filter(order__store=store).aggregate(q=Sum("quantity"))["q"],
        "refunds": Refund.objects.filter(order__store=store).aggregate(a=Sum("amount"))["a"],
        "moves": OrderStatusChange.objects.filter(order__store=store).count(),
        "customers": Customer.objects.filter(store=store).count(),
        "events": Event.objects.filter(store=store).count(),
        "reviews": ProductReview.objects.filter(store=store).aggregate(r=Sum("rating"))["r"],
        "statuses": sorted(orders.values_list("status", flat=True)),
        "dates": sorted(orders.values_list("date_created", flat=True)),
        "countries": sorted(orders.values_list("billing_country", flat=True)),
    }


# --- export ---------------------------------------------------------------------------------


def test_export_holds_everything_about_the_person(
    store: Store, ann: Person, bob: Person, ann_elsewhere: Person
) -> None:
    export = privacy_services.export_customer_data(store=store, email=" Ann@Example.com ")
    json.dumps(export)  # JSON-serialisable as it is (no encoder needed)
    assert export["email"] == "ann@example.com"
    assert export["store"]["slug"] == store.slug
    data = export["data"]
    [customer] = data["customers"]
    assert customer["last_name"] == "Zylberstein" and customer["phone"] == "+15550142"
    assert isinstance(customer["consent_history"], list)
    orders = data["orders"]
    assert sorted(o["external_id"] for o in orders) == sorted(ann.order_external_ids)
    assert len(orders) == 3  # two as a registered customer, one as a guest
    first = next(o for o in orders if o["external_id"] == ann.order_external_ids[0])
    assert first["lines"] and first["status_changes"]
    assert first["refunds"][0]["reason"] == "Annabel broke the handle"
    assert Decimal(first["total"]) > 0  # money as a string, never a float
    assert first["meta"]["_gift_message"] == "For Annabel Zylberstein"
    assert {d["resource_id"] for d in data["webhook_deliveries"]} == {
        ann.customer_external_id,
        *ann.order_external_ids,
    }
    assert data["webhook_deliveries"][0]["body"]["id"]  # parsed JSON, not a string
    [review] = data["shop_reviews"]
    assert review["reviewer_email"] == "ann@example.com"
    types = {e["type"] for e in data["events"]}
    assert {"customer.created", "order.created", "order.paid", "shop_review.created"} <= types
    assert "customer_stats" in data
    text = json.dumps(export)
    for other in (*traces(bob), "Elsewhere", ann_elsewhere.phone):
        assert other not in text


def test_export_of_an_unknown_email_is_empty(store: Store, bob: Person) -> None:
    data = privacy_services.export_customer_data(store=store, email="nobody@example.com")["data"]
    assert all(part == [] for part in data.values())


def test_export_refuses_what_is_not_an_email(store: Store) -> None:
    with pytest.raises(InvalidInput):
        privacy_services.export_customer_data(store=store, email="not an email")


# --- erase ----------------------------------------------------------------------------------


def test_erase_leaves_no_trace_and_keeps_the_aggregates(
    store: Store, other_store: Store, ann: Person, bob: Person, ann_elsewhere: Person
) -> None:
    before = aggregates(store)
    text = db_text(store)
    assert all(trace in text for trace in traces(ann))  # the search would find them
    elsewhere_before = db_text(other_store)

    result = privacy_services.erase_customer(store=store, email="ANN@example.com")

    assert result.erased and result.rows_changed > 0
    after_text = db_text(store)
    for trace in traces(ann):
        assert trace not in after_text, trace
    assert "Annabel broke the handle" not in after_text
    assert "For Annabel" not in after_text
    assert aggregates(store) == before
    for trace in (bob.email, bob.last_name, bob.phone, bob.note, bob.postcode):
        assert trace in after_text  # the neighbour is untouched
    assert db_text(other_store) == elsewhere_before  # another store is another controller


def test_erased_customer_is_an_anonymous_row_that_still_owns_its_orders(
    store: Store, ann: Person
) -> None:
    customer_id = person.customer_ids(store=store, email=ann.email)[0]
    privacy_services.erase_customer(store=store, email=ann.email)
    customer = Customer.objects.get(pk=customer_id)
    assert customer.email == f"erased-{customer_id}@invalid"
    assert (customer.first_name, customer.last_name, customer.phone) == ("", "", "")
    assert customer.birthday is None and customer.external_id is None
    assert customer.marketing_consent == ConsentState.DENIED
    assert Order.objects.filter(customer=customer).count() == 3  # the guest order too
    review = ProductReview.objects.get(store=store, external_id=ann.review_external_id)
    assert review.rating == 4 and review.reviewer_email == "" and review.review == ""


def test_erase_records_a_hash_not_the_email(store: Store, ann: Person) -> None:
    result = privacy_services.erase_customer(store=store, email=ann.email, channel="cli")
    record = ErasureRecord.objects.get()
    assert record == result.record
    assert record.email_sha256 == person.email_sha256("ann@example.com")
    assert "ann@example.com" not in serializers.serialize("json", [record])
    assert record.counts["orders"]["orders"] == 3
    assert record.counts["customers"]["customers"] == 1
    assert record.counts["webhook_deliveries"]["webhook_deliveries"] == 4
    assert record.channel == "cli"


def test_erase_is_idempotent(store: Store, ann: Person) -> None:
    first = privacy_services.erase_customer(store=store, email=ann.email)
    text = db_text(store)
    again = privacy_services.erase_customer(store=store, email=ann.email)
    assert not again.erased
    assert again.record.pk == first.record.pk
    assert ErasureRecord.objects.count() == 1
    assert db_text(store) == text


def test_a_person_brought_back_by_a_sync_can_be_erased_again(store: Store, ann: Person) -> None:
    privacy_services.erase_customer(store=store, email=ann.email)
    # The shop still has them (its owner did not erase there): the next sync re-imports.
    again = mirror_person(store, email=ann.email, first_name="Annabel", last_name="Zylberstein")
    assert again.last_name in db_text(store)
    second = privacy_services.erase_customer(store=store, email=ann.email)
    assert second.erased
    assert ErasureRecord.objects.count() == 2
    for trace in traces(again):
        assert trace not in db_text(store)


def test_pending_deliveries_of_the_person_are_not_applied_later(store: Store, ann: Person) -> None:
    delivery = WebhookDelivery.objects.filter(store=store).first()
    assert delivery is not None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.RECEIVED)
    privacy_services.erase_customer(store=store, email=ann.email)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.IGNORED
    assert "erased" in delivery.outcome
    assert json.loads(delivery.body) == {"aftercare_erased": True}


def test_erase_is_atomic(store: Store, ann: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(**kwargs: Any) -> dict[str, int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(privacy_registry, "_erasers", dict(privacy_registry._erasers))
    privacy_registry.register_eraser("broken", failing, order=500)  # after orders, before customers
    text = db_text(store)
    with pytest.raises(RuntimeError):
        privacy_services.erase_customer(store=store, email=ann.email)
    assert db_text(store) == text
    assert not ErasureRecord.objects.exists()


# --- the registry ---------------------------------------------------------------------------


@pytest.fixture
def loyalty_part(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """A later module (say loyalty) registering its own exporter and eraser."""
    monkeypatch.setattr(privacy_registry, "_exporters", dict(privacy_registry._exporters))
    monkeypatch.setattr(privacy_registry, "_erasers", dict(privacy_registry._erasers))
    calls: list[dict[str, Any]] = []

    def export(*, store: Store, customer_ids: list[int], email: str) -> list[dict[str, Any]]:
        return [{"points": 120, "customer_id": i} for i in customer_ids]

    def erase(*, store: Store, customer_ids: list[int], email: str) -> dict[str, int]:
        calls.append(
            {
                "customer_ids": customer_ids,
                "email": email,
                # the customer rows still carry the email when other parts run
                "emails": list(
                    Customer.objects.filter(pk__in=customer_ids).values_list("email", flat=True)
                ),
            }
        )
        return {"ledger_notes": len(customer_ids)}

    privacy_registry.register_exporter("loyalty", export)
    privacy_registry.register_eraser("loyalty", erase)
    yield calls


def test_modules_add_their_own_parts_through_the_registry(
    store: Store, ann: Person, loyalty_part: list[dict[str, Any]]
) -> None:
    [customer_id] = person.customer_ids(store=store, email=ann.email)
    export = privacy_services.export_customer_data(store=store, email=ann.email)
    assert export["data"]["loyalty"] == [{"points": 120, "customer_id": customer_id}]
    result = privacy_services.erase_customer(store=store, email=ann.email)
    assert loyalty_part == [
        {"customer_ids": [customer_id], "email": "ann@example.com", "emails": ["ann@example.com"]}
    ]
    assert result.record.counts["loyalty"] == {"ledger_notes": 1}


def test_erase_scrubs_job_errors_and_smtp_answers_that_quote_the_address(
    store: Store, other_store: Store, ann: Person, bob: Person
) -> None:
    """Error texts are free text: an SMTP refusal or a shop's message quotes the address."""
    from aftercare.core import clock
    from aftercare.jobs.models import Job, JobAttempt
    from aftercare.messaging.models import Message, SendAttempt

    now = clock.now()
    refusal = "550 5.1.1 <Ann@Example.com>: Recipient address rejected"

    def job(store_id: int, error: str) -> Job:
        found = Job.objects.create(
            kind="messaging.test", store_id=store_id, run_at=now, created_at=now,
            last_error=error, status="failed",
        )  # fmt: skip
        JobAttempt.objects.create(
            job=found, number=1, worker="w", started_at=now, outcome="failed", error=error
        )
        return found

    mine, neighbour = job(store.pk, refusal), job(store.pk, "550 <bob@example.com> unknown")
    elsewhere = job(other_store.pk, refusal)  # another store is another controller
    customer = Customer.objects.get(store=store, email=ann.email)
    message = Message.objects.create(
        store=store, customer=customer, channel="email", category="transactional",
        recipient=ann.email, idempotency_key="k", next_attempt_at=now, created_at=now,
        status="failed", reason=refusal,
    )  # fmt: skip
    SendAttempt.objects.create(message=message, attempted_at=now, outcome="failed", answer=refusal)

    privacy_services.erase_customer(store=store, email=ann.email)

    for row in (Job.objects.get(pk=mine.pk), JobAttempt.objects.get(job=mine)):
        text = row.last_error if isinstance(row, Job) else row.error
        assert "ann@example.com" not in text.lower() and "Recipient address rejected" in text
    assert "bob@example.com" in Job.objects.get(pk=neighbour.pk).last_error
    assert Job.objects.get(pk=elsewhere.pk).last_error == refusal
    message.refresh_from_db()
    assert "example.com" not in message.reason.lower()
    assert SendAttempt.objects.get(message=message).answer == ""
