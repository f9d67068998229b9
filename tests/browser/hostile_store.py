"""A store whose customer-provided text is hostile: names, notes, order and customer meta,
product and line names, a review, a coupon — all arriving the real way, as signed WooCommerce
webhook deliveries (so the raw bodies in the inbox carry the payloads too), applied by the
inbox processor like the worker would.

Every payload, if it were ever rendered as HTML or followed as a link, sets `window.__xss`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from typing import Any

from aftercare.ingest import mirror, woo_mapping
from aftercare.ingest.webhooks import processing, receiver
from aftercare.stores.models import Store
from tests.shared_data import woo_json

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = '"><script>window.__xss=1</script>'
SVG = "'><svg onload=window.__xss=1>"
JS_URL = "javascript:window.__xss=1"
HOSTILE_EMAIL = "mallory@example.com"
HOSTILE_FIRST_NAME = IMG
HOSTILE_LAST_NAME = SCRIPT
HOSTILE_ORDER_ID = 4242
HOSTILE_PRODUCT_ID = 911


def _sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _deliver(store: Store, *, topic: str, payload: dict[str, Any], n: int) -> None:
    body = json.dumps(payload).encode()
    resource, _, event = topic.partition(".")
    receipt = receiver.accept_delivery(
        store_slug=store.slug,
        body=body,
        headers={
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": _sign(body, store.webhook_secret),
            "X-WC-Webhook-Delivery-ID": f"{n:032x}",
            "X-WC-Webhook-Source": f"https://shop.example/{SCRIPT}",
        },
    )
    assert receipt.status == 200, receipt


def fill_hostile_store(store: Store) -> None:
    receiver.forget_cached_stores()  # a flushed database reuses store ids
    product = copy.deepcopy(woo_json("product.json"))
    product.update(
        id=HOSTILE_PRODUCT_ID,
        name=f"{IMG} Mug",
        sku="MUG-<b>X</b>",
        description=SCRIPT,
        short_description=SVG,
        permalink=JS_URL,
    )
    customer = copy.deepcopy(woo_json("customer.json"))
    customer.update(
        email=HOSTILE_EMAIL,
        first_name=HOSTILE_FIRST_NAME,
        last_name=HOSTILE_LAST_NAME,
        username=SVG,
        avatar_url=f'x" onerror="window.__xss=1" data-x="{JS_URL}',
        meta_data=[
            {"id": 1, "key": "website", "value": JS_URL},
            {"id": 2, "key": IMG, "value": SCRIPT},
        ],
    )
    customer["billing"].update(first_name=IMG, last_name=SCRIPT, company=SVG, email=HOSTILE_EMAIL)
    customer["shipping"].update(first_name=IMG, last_name=SCRIPT, address_1=SVG)
    order = copy.deepcopy(woo_json("order.json"))
    order.update(
        id=HOSTILE_ORDER_ID,
        number=str(HOSTILE_ORDER_ID),
        customer_id=customer["id"],
        customer_note=f"Please gift wrap {SCRIPT} {SVG}",
        payment_method_title=IMG,
        meta_data=[
            {"id": 1, "key": "tracking_url", "value": JS_URL},
            {"id": 2, "key": IMG, "value": SCRIPT},
            {"id": 3, "key": "gift", "value": {"message": SVG, "link": JS_URL}},
        ],
    )
    order["billing"].update(
        first_name=HOSTILE_FIRST_NAME,
        last_name=HOSTILE_LAST_NAME,
        email=HOSTILE_EMAIL,
        company=SVG,
        address_1=SCRIPT,
    )
    order["shipping"].update(first_name=IMG, last_name=SCRIPT, address_1=SVG)
    for line in order["line_items"]:
        line["name"] = f"{SVG} {line['name']}"
        line["meta_data"] = [
            {"id": 9, "key": "engraving", "value": IMG, "display_key": SCRIPT, "display_value": IMG}
        ]
    order["line_items"][0]["product_id"] = HOSTILE_PRODUCT_ID
    coupon = copy.deepcopy(woo_json("coupon.json"))
    coupon.update(description=SCRIPT)

    for n, (topic, payload) in enumerate(
        [
            ("product.created", product),
            ("customer.created", customer),
            ("coupon.created", coupon),
            ("order.created", order),
        ],
        start=1,
    ):
        _deliver(store, topic=topic, payload=payload, n=n)
    while processing.drain_inbox():
        pass

    review = copy.deepcopy(woo_json("product_review.json"))
    review.update(
        product_id=HOSTILE_PRODUCT_ID,
        product_name=IMG,
        reviewer=IMG,
        reviewer_email=HOSTILE_EMAIL,
        review=f"{SCRIPT} Lovely",
    )
    mirror.apply_reviews(store=store, records=[woo_mapping.parse_review(review)])
