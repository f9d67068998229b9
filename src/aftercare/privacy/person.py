"""Finding a person in a store's data by email: the customer rows (registered and guests) and
everything linked to them, and turning rows into plain JSON for an export.

    email = person.normalise(" Ann@Example.com ")             # "ann@example.com"
    ids = person.customer_ids(store=store, email=email)
    orders = person.orders(store=store, customer_ids=ids, email=email)
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from aftercare.catalog.models import ProductReview
from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.ingest import suppression
from aftercare.ingest.models import WebhookDelivery
from aftercare.orders.models import Order
from aftercare.stores.models import Store


def normalise(email: str) -> str:
    """The form customers are stored under (`Customer.email`): stripped and lower-cased."""
    return email.strip().lower()


def email_sha256(email: str) -> str:
    """The hash erasure records and ingest's suppression rows keep instead of the email."""
    return suppression.email_hash(normalise(email))


def customer_ids(*, store: Store, email: str) -> list[int]:
    """Every customer row with this email (a store has at most one per email, but a guest row
    and a registered one may have been merged or not, depending on history)."""
    return list(
        Customer.objects.filter(store=store, email=normalise(email))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def orders(*, store: Store, customer_ids: list[int], email: str) -> QuerySet[Order]:
    """Orders of those customers, and orders billed to the email whoever they are linked to."""
    match = Q(customer_id__in=customer_ids)
    if email:
        match |= Q(billing_email__iexact=email)
    return Order.objects.filter(match, store=store).order_by("date_created", "pk")


def reviews(*, store: Store, email: str) -> QuerySet[ProductReview]:
    if not email:
        return ProductReview.objects.none()
    return ProductReview.objects.filter(store=store, reviewer_email__iexact=email).order_by("pk")


def events(
    *,
    store: Store,
    customer_ids: list[int],
    order_ids: list[int],
    review_ids: list[int],
    email: str,
) -> QuerySet[Event]:
    """Events about the person: on their customer timeline, about their orders or reviews, or
    naming their email anywhere in the payload (a text search: erasure is rare, correctness
    matters more than an index here)."""
    match = (
        Q(customer_id__in=customer_ids)
        | Q(subject_type="customer", subject_id__in=customer_ids)
        | Q(subject_type="order", subject_id__in=order_ids)
        | Q(subject_type="shop_review", subject_id__in=review_ids)
    )
    found = Event.objects.filter(store=store).annotate(payload_text=Cast("payload", TextField()))
    if email:
        match |= Q(payload_text__icontains=email)
    return found.filter(match).order_by("occurred_at", "pk")


def deliveries(
    *, store: Store, order_external_ids: list[int], customer_external_ids: list[int], email: str
) -> QuerySet[WebhookDelivery]:
    """Raw webhook bodies about their orders or customer account, or containing the email."""
    match = Q(topic__startswith="order.", resource_id__in=order_external_ids) | Q(
        topic__startswith="customer.", resource_id__in=customer_external_ids
    )
    if email:
        match |= Q(body__icontains=email)
    return WebhookDelivery.objects.filter(match, store=store).order_by("received_at", "pk")


def plain(value: Any) -> Any:
    """A value as JSON can hold it: dates as ISO 8601, Decimal as a string (no float money)."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def row(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every stored column of `obj` (so an export is complete by construction: a column added
    later is exported without anyone remembering to)."""
    skip = {"store_id", *exclude}
    return {
        field.attname: plain(getattr(obj, field.attname))
        for field in obj._meta.concrete_fields
        if field.attname not in skip
    }
