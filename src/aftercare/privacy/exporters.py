"""The built-in parts of a GDPR export: what the mirror, the event log, the webhook inbox and
analytics hold about a person. Registered in `PrivacyConfig.ready()` through
`core.privacy_registry`, like any later module's exporter."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Prefetch

from aftercare.analytics.models import CustomerStats
from aftercare.customers.models import Customer
from aftercare.orders.models import Refund
from aftercare.privacy import person
from aftercare.stores.models import Store


def export_customers(*, store: Store, customer_ids: list[int], email: str) -> list[dict[str, Any]]:
    customers = Customer.objects.filter(store=store, pk__in=customer_ids).prefetch_related(
        "consent_history"
    )
    exported = []
    for customer in customers.order_by("pk"):
        data = person.row(customer)
        data["consent_history"] = [
            person.row(change, exclude=("customer_id",))
            for change in sorted(
                customer.consent_history.all(), key=lambda c: (c.occurred_at, c.pk)
            )
        ]
        exported.append(data)
    return exported


def export_orders(*, store: Store, customer_ids: list[int], email: str) -> list[dict[str, Any]]:
    orders = person.orders(store=store, customer_ids=customer_ids, email=email).prefetch_related(
        "lines",
        Prefetch("refunds", queryset=Refund.objects.prefetch_related("lines")),
        "status_changes",
    )
    exported = []
    for order in orders:
        data = person.row(order, exclude=("content_hash",))
        data["lines"] = [person.row(line, exclude=("order_id",)) for line in order.lines.all()]
        data["refunds"] = [
            {
                **person.row(refund, exclude=("order_id",)),
                "lines": [person.row(rl, exclude=("refund_id",)) for rl in refund.lines.all()],
            }
            for refund in order.refunds.all()
        ]
        data["status_changes"] = [
            person.row(move, exclude=("order_id",))
            for move in sorted(order.status_changes.all(), key=lambda m: (m.changed_at, m.pk))
        ]
        exported.append(data)
    return exported


def export_events(*, store: Store, customer_ids: list[int], email: str) -> list[dict[str, Any]]:
    order_ids = list(
        person.orders(store=store, customer_ids=customer_ids, email=email).values_list(
            "pk", flat=True
        )
    )
    review_ids = list(person.reviews(store=store, email=email).values_list("pk", flat=True))
    found = person.events(
        store=store,
        customer_ids=customer_ids,
        order_ids=order_ids,
        review_ids=review_ids,
        email=email,
    )
    return [
        {
            "id": event.pk,
            "type": event.type,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "customer_id": event.customer_id,
            "occurred_at": person.plain(event.occurred_at),
            "payload": person.plain(event.payload),
        }
        for event in found
    ]


def export_webhook_deliveries(
    *, store: Store, customer_ids: list[int], email: str
) -> list[dict[str, Any]]:
    orders = person.orders(store=store, customer_ids=customer_ids, email=email)
    customer_external_ids = [
        ext
        for ext in Customer.objects.filter(pk__in=customer_ids).values_list(
            "external_id", flat=True
        )
        if ext is not None
    ]
    found = person.deliveries(
        store=store,
        order_external_ids=list(orders.values_list("external_id", flat=True)),
        customer_external_ids=customer_external_ids,
        email=email,
    )
    exported = []
    for delivery in found:
        try:
            body: Any = json.loads(delivery.body)
        except ValueError:
            body = delivery.body
        exported.append(
            {
                "id": delivery.pk,
                "received_at": person.plain(delivery.received_at),
                "topic": delivery.topic,
                "resource_id": delivery.resource_id,
                "body": body,
            }
        )
    return exported


def export_shop_reviews(
    *, store: Store, customer_ids: list[int], email: str
) -> list[dict[str, Any]]:
    return [person.row(review) for review in person.reviews(store=store, email=email)]


def export_customer_stats(
    *, store: Store, customer_ids: list[int], email: str
) -> list[dict[str, Any]]:
    stats = CustomerStats.objects.filter(store=store, customer_id__in=customer_ids)
    return [person.row(row) for row in stats.order_by("customer_id")]
