"""The webhook topics we apply, and what each one carries."""

from __future__ import annotations

RESOURCES = ("order", "customer", "product", "coupon")
EVENTS = ("created", "updated", "deleted", "restored")
KNOWN_TOPICS = frozenset(f"{r}.{e}" for r in RESOURCES for e in EVENTS)
# `action.woocommerce_order_status_<status>` delivers {"action": …, "arg": <order id>}; we fetch
# the order over REST (the body has no order).
ORDER_ACTION_PREFIX = "action.woocommerce_order_status_"


def is_known(topic: str) -> bool:
    return topic in KNOWN_TOPICS or topic.startswith(ORDER_ACTION_PREFIX)


def split(topic: str) -> tuple[str, str]:
    resource, _, event = topic.partition(".")
    return resource, event
