"""People in a store's mirror, put there the way production does it: real WooCommerce REST
payloads (../shared/data/woocommerce) parsed by `woo_mapping` and applied by `ingest.mirror`
(which also publishes the events), plus the raw webhook deliveries that carried them.

    ann = mirror_person(store, email="ann@example.com", last_name="Zylberstein", orders=3)
    ann.order_ids, ann.customer_external_id
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from aftercare.core import clock
from aftercare.ingest import mirror, woo_mapping
from aftercare.ingest.models import DeliveryStatus, WebhookDelivery
from aftercare.stores.models import Store
from tests.shared_data import woo_json

EPOCH = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
_ids = count(1)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _dates(obj: dict[str, Any], *, created: datetime, modified: datetime) -> None:
    for key, when in (("date_created", created), ("date_modified", modified)):
        obj[key] = obj[f"{key}_gmt"] = _stamp(when)


@dataclass
class Person:
    email: str
    first_name: str
    last_name: str
    phone: str
    note: str
    postcode: str
    customer_external_id: int
    order_external_ids: list[int] = field(default_factory=list)
    review_external_id: int = 0
    payloads: list[dict[str, Any]] = field(default_factory=list)


def mirror_person(
    store: Store,
    *,
    email: str,
    first_name: str,
    last_name: str,
    phone: str = "+15550142",
    orders: int = 2,
    guest_orders: int = 1,
    deliveries: bool = True,
) -> Person:
    """A registered customer with `orders` orders (the first refunded in part), `guest_orders`
    placed as a guest with the same email (upper-cased, as people type it), a product review,
    and — with `deliveries` — the webhook deliveries of the customer and of each order."""
    n = next(_ids)
    customer_id = 50_000 + n * 10
    note = f"Ring {last_name}'s bell twice"
    postcode = f"3{n:04d}"
    person = Person(email, first_name, last_name, phone, note, postcode, customer_id)

    customer = copy.deepcopy(woo_json("customer.json"))
    customer.update(
        id=customer_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        username=f"user{customer_id}",
    )
    customer["billing"] = {
        **customer["billing"],
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "postcode": postcode,
    }
    customer["shipping"] = {
        **customer["shipping"],
        "first_name": first_name,
        "last_name": last_name,
        "postcode": postcode,
    }
    _dates(customer, created=EPOCH, modified=EPOCH + timedelta(minutes=1))
    mirror.apply_customers(store=store, records=[woo_mapping.parse_customer(customer)])
    person.payloads.append(customer)
    if deliveries:
        _delivery(store, topic="customer.created", resource_id=customer_id, body=customer)

    for k in range(orders + guest_orders):
        guest = k >= orders
        order = copy.deepcopy(woo_json("order.json"))
        order_id = 700_000 + n * 100 + k
        order.update(
            id=order_id,
            number=str(order_id),
            customer_id=0 if guest else customer_id,
            status="completed",
            customer_note=note,
            order_key=f"wc_order_{order_id}",
        )
        billing_email = email.upper() if guest else email
        order["billing"] = {
            **order["billing"],
            "email": billing_email,
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "postcode": postcode,
        }
        order["shipping"] = {
            **order["shipping"],
            "first_name": first_name,
            "last_name": last_name,
            "postcode": postcode,
        }
        order["meta_data"] = [
            {"id": 1, "key": "campaign", "value": "spring"},
            {"id": 2, "key": "_gift_message", "value": f"For {first_name} {last_name}"},
        ]
        for offset, line in enumerate(order["line_items"]):
            line["id"] = order_id * 10 + offset
        created = EPOCH + timedelta(days=k + 1)
        _dates(order, created=created, modified=created + timedelta(minutes=5))
        order["date_paid"] = order["date_paid_gmt"] = _stamp(created + timedelta(minutes=1))
        order["date_completed"] = order["date_completed_gmt"] = _stamp(
            created + timedelta(minutes=2)
        )
        refunds = []
        if k == 0:
            refund = copy.deepcopy(woo_json("order_refund.json"))
            refund.update(id=order_id + 50_000, reason=f"{first_name} broke the handle")
            _dates(
                refund,
                created=created + timedelta(minutes=4),
                modified=created + timedelta(minutes=4),
            )
            refunds = [refund]
            order["refunds"] = [
                {"id": refund["id"], "reason": refund["reason"], "total": f"-{refund['amount']}"}
            ]
        else:
            order["refunds"] = []
        mirror.apply_orders(
            store=store, records=[woo_mapping.parse_order(order)], source="woocommerce"
        )
        if refunds:
            mirror.apply_refund_details(
                store=store,
                order_external_id=order_id,
                refunds=[woo_mapping.parse_refund(r) for r in refunds],
            )
        person.order_external_ids.append(order_id)
        person.payloads.append(order)
        if deliveries:
            _delivery(store, topic="order.updated", resource_id=order_id, body=order)

    review = copy.deepcopy(woo_json("product_review.json"))
    review.update(
        id=80_000 + n,
        reviewer=f"{first_name} {last_name}",
        reviewer_email=email,
        review=f"<p>{last_name} loves it</p>",
        rating=4,
    )
    review["date_created"] = review["date_created_gmt"] = _stamp(EPOCH + timedelta(days=9))
    mirror.apply_reviews(store=store, records=[woo_mapping.parse_review(review)])
    person.review_external_id = review["id"]
    return person


def _delivery(store: Store, *, topic: str, resource_id: int, body: dict[str, Any]) -> None:
    now = clock.now()
    WebhookDelivery.objects.create(
        store=store,
        received_at=now,
        topic=topic,
        resource_id=resource_id,
        headers={"X-WC-Webhook-Topic": topic},
        body=json.dumps(body),
        status=DeliveryStatus.PROCESSED,
        next_attempt_at=now,
        processed_at=now,
    )
