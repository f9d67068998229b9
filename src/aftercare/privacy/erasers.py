"""The built-in parts of an erasure: anonymise what the mirror, the event log and the webhook
inbox hold about a person, keeping every row that aggregates count (orders with their totals,
dates, statuses and lines; events; customers as anonymous rows).

These are the only writes to the mirror (customers, orders, catalog) and to the event log
outside `ingest` and `events.bus`: the law (GDPR art. 17) outranks "only ingest writes the
mirror" and "events are never updated". Each eraser is idempotent and runs in the erasure's
transaction, in `order` (see `core.privacy_registry`): everything that searches by email or by
order runs before the orders and customers themselves are rewritten."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from aftercare.core import clock
from aftercare.customers.models import ConsentState, Customer
from aftercare.ingest import suppression
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.jobs.models import Job, JobAttempt
from aftercare.orders.models import Order, Refund
from aftercare.privacy import person
from aftercare.stores.models import Store

ERASED = "[erased]"
ERASED_BODY = suppression.ERASED_BODY
# Payload keys that name, reach or describe a person. Values under these keys are replaced,
# and so is any string that contains the email, whatever its key.
PERSONAL_KEYS = frozenset(
    {
        "email",
        "billing_email",
        "reviewer_email",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "reviewer",
        "phone",
        "address",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "company",
        "birthday",
        "note",
        "customer_note",
        "reason",
        "review",
        "message",
        "comment",
        "text",
        "body",
        "ip",
        "ip_address",
        "customer_ip_address",
        "user_agent",
        "customer_user_agent",
        "billing",
        "shipping",
    }
)


def erased_email(customer_id: int) -> str:
    """Unique per store (the id is global) and undeliverable (RFC 6761 reserves .invalid)."""
    return f"erased-{customer_id}@invalid"


def scrub(value: Any, *, email: str) -> Any:
    """`value` with personal fields replaced; non-personal figures (totals, ids, flags) kept."""
    if isinstance(value, dict):
        return {
            key: (
                ERASED
                if key in PERSONAL_KEYS and item not in (None, "")
                else scrub(item, email=email)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, email=email) for item in value]
    if isinstance(value, str) and email and email in value.lower():
        return ERASED
    return value


def _order_rows(*, store: Store, customer_ids: list[int], email: str) -> list[tuple[int, int]]:
    return list(
        person.orders(store=store, customer_ids=customer_ids, email=email).values_list(
            "pk", "external_id"
        )
    )


def erase_webhook_deliveries(
    *, store: Store, customer_ids: list[int], email: str
) -> dict[str, int]:
    """Replace the raw bodies; a delivery not applied yet is not applied any more (its body is
    gone), so it is marked ignored rather than left to die."""
    customer_external_ids = [
        ext
        for ext in Customer.objects.filter(pk__in=customer_ids).values_list(
            "external_id", flat=True
        )
        if ext is not None
    ]
    found = person.deliveries(
        store=store,
        order_external_ids=[
            ext for _, ext in _order_rows(store=store, customer_ids=customer_ids, email=email)
        ],
        customer_external_ids=customer_external_ids,
        email=email,
    ).exclude(body=ERASED_BODY)
    ids = list(found.values_list("pk", flat=True))
    pending = WebhookDelivery.objects.filter(pk__in=ids).exclude(
        status__in=[DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED]
    )
    pending.update(
        status=DeliveryStatus.IGNORED,
        outcome="erased on request (GDPR) before it was applied",
        processed_at=clock.now(),
        locked_until=None,
    )
    changed = WebhookDelivery.objects.filter(pk__in=ids).update(body=ERASED_BODY, headers={})
    return {"webhook_deliveries": changed}


def erase_events(*, store: Store, customer_ids: list[int], email: str) -> dict[str, int]:
    order_ids = [pk for pk, _ in _order_rows(store=store, customer_ids=customer_ids, email=email)]
    review_ids = list(person.reviews(store=store, email=email).values_list("pk", flat=True))
    changed = 0
    for event in person.events(
        store=store,
        customer_ids=customer_ids,
        order_ids=order_ids,
        review_ids=review_ids,
        email=email,
    ).only("pk", "payload"):
        cleaned = scrub(event.payload, email=email)
        if cleaned != event.payload:
            # The one update the event log allows: the payload of a fact about an erased person.
            type(event).objects.filter(pk=event.pk).update(payload=cleaned)
            changed += 1
    return {"events": changed}


def without_email(text: str, *, email: str) -> str:
    """`text` with every spelling of `email` (any case) replaced by ERASED."""
    if not email:
        return text
    return re.sub(re.escape(email), ERASED, text, flags=re.IGNORECASE)


def erase_job_errors(*, store: Store, customer_ids: list[int], email: str) -> dict[str, int]:
    """Error texts of the store's background jobs and their attempts that quote the address
    (an SMTP refusal, a shop's validation message). Payloads hold ids only; the rest of a job
    row says nothing about the person."""
    if not email:
        return {"job_errors": 0}
    changed = 0
    for job in Job.objects.filter(store_id=store.pk, last_error__icontains=email).only(
        "pk", "last_error"
    ):
        Job.objects.filter(pk=job.pk).update(last_error=without_email(job.last_error, email=email))
        changed += 1
    for attempt in JobAttempt.objects.filter(job__store_id=store.pk, error__icontains=email).only(
        "pk", "error"
    ):
        JobAttempt.objects.filter(pk=attempt.pk).update(
            error=without_email(attempt.error, email=email)
        )
        changed += 1
    return {"job_errors": changed}


def erase_shop_reviews(*, store: Store, customer_ids: list[int], email: str) -> dict[str, int]:
    """The rating stays (the product's average), the words and the name go."""
    changed = person.reviews(store=store, email=email).update(
        reviewer="", reviewer_email="", review=""
    )
    return {"shop_reviews": changed}


def erase_orders(*, store: Store, customer_ids: list[int], email: str) -> dict[str, int]:
    """Totals, dates, status, lines, coupons and countries stay (revenue, repeat rate, cohorts
    and the product mix do not change); the email, note, postcodes and meta go. Plugins store
    anything in order meta (addresses, tracking, gift messages) under keys we cannot know, so
    all of it goes."""
    ids = [pk for pk, _ in _order_rows(store=store, customer_ids=customer_ids, email=email)]
    orders = Order.objects.filter(pk__in=ids).filter(
        ~Q(billing_email="")
        | ~Q(customer_note="")
        | ~Q(billing_postcode="")
        | ~Q(shipping_postcode="")
        | ~Q(meta={})
    )
    changed = orders.update(
        billing_email="", customer_note="", billing_postcode="", shipping_postcode="", meta={}
    )
    refunds = Refund.objects.filter(order_id__in=ids).exclude(reason="").update(reason="")
    return {"orders": changed, "refund_reasons": refunds}


def erase_customers(*, store: Store, customer_ids: list[int], email: str) -> dict[str, int]:
    """The row stays (customer counts, first/repeat purchase, segments), anonymous: no name,
    email, phone or birthday, and no link to the shop's account (the store owner deletes that in
    WooCommerce). Marketing consent becomes "denied" so no flow ever writes to it; the consent
    history stays, now about an anonymous row (proof that consent was asked and given)."""
    changed = 0
    for customer in Customer.objects.select_for_update().filter(store=store, pk__in=customer_ids):
        customer.email = erased_email(customer.pk)
        customer.first_name = customer.last_name = customer.phone = ""
        customer.birthday = None
        customer.external_id = None
        customer.marketing_consent = ConsentState.DENIED
        customer.consent_source = "erased"
        # Their own choices on the preferences page go too (no marketing reaches them anyway).
        customer.preferred_locale = ""
        customer.topic_opt_outs = []
        customer.save(
            update_fields=[
                "email",
                "first_name",
                "last_name",
                "phone",
                "birthday",
                "external_id",
                "marketing_consent",
                "consent_source",
                "preferred_locale",
                "topic_opt_outs",
                "updated_at",
            ]
        )
        changed += 1
    return {"customers": changed}
