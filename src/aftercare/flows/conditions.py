"""Conditions on facts: the yes/no questions flows ask about a customer and an order.

    holds, why = conditions.evaluate(conds, facts, match="all")
    # holds False, why "order.status is 'refunded' (wanted eq 'completed')"

Pure: facts are a plain dict (facts.py loads them in bulk from fresh data each time a step comes
due), so the same conditions give the same answer in a test, the matcher and the runner.
`FACTS` lists every fact the editor offers, with its type; later modules add theirs with
`register_fact` (e.g. "customer.points_balance"). Fact labels are lazy translations: the
editor shows them in each staff member's language; the reasons `describe` writes name facts by
key, so a skip reads the same in every language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache, partial
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftercare.flows.definition import Condition

FactType = Literal["text", "number", "money", "bool", "list", "date"]


@dataclass(frozen=True)
class Fact:
    key: str
    label: str | Promise
    type: FactType
    # Which loader of facts.py fills it: "order", "lines", "customer", "history", "stats", "tags".
    source: str


FACTS: dict[str, Fact] = {}


def register_fact(*, key: str, label: str | Promise, type: FactType, source: str) -> Fact:
    fact = Fact(key=key, label=label, type=type, source=source)
    FACTS[key] = fact
    return fact


for _key, _label, _type, _source in [
    ("order.status", _("Order status"), "text", "order"),
    ("order.total", _("Order total"), "money", "order"),
    ("order.currency", _("Order currency"), "text", "order"),
    ("order.refunded_total", _("Amount refunded"), "money", "order"),
    ("order.is_refunded", _("Order is (partly) refunded"), "bool", "order"),
    ("order.is_fully_refunded", _("Order is fully refunded"), "bool", "order"),
    ("order.is_paid", _("Order is paid"), "bool", "order"),
    ("order.is_deleted", _("Order was deleted in the shop"), "bool", "order"),
    ("order.payment_method", _("Payment method"), "text", "order"),
    ("order.created_via", _("Created via"), "text", "order"),
    ("order.shipping_country", _("Shipping country"), "text", "order"),
    ("order.coupon_codes", _("Coupon codes used"), "list", "order"),
    ("order.is_first", _("First paid order of the customer"), "bool", "history"),
    ("order.item_count", _("Number of items"), "number", "lines"),
    ("order.product_ids", _("Product ids (shop)"), "list", "lines"),
    ("order.skus", _("SKUs"), "list", "lines"),
    ("order.categories", _("Product categories (names)"), "list", "lines"),
    ("customer.orders_count", _("Paid orders of the customer"), "number", "history"),
    ("customer.total_spent", _("Total spent (net of refunds)"), "money", "history"),
    ("customer.days_since_last_order", _("Days since the last paid order"), "number", "history"),
    ("customer.segment", _("RFM segment"), "text", "stats"),
    ("customer.tags", _("Tags"), "list", "tags"),
    ("customer.language", _("Language"), "text", "customer"),
    ("customer.country", _("Country"), "text", "customer"),
    ("customer.is_registered", _("Has an account"), "bool", "customer"),
    ("customer.marketing_consent", _("Email marketing consent"), "text", "customer"),
    ("customer.has_email", _("Has an email address"), "bool", "customer"),
    ("customer.has_phone", _("Has a phone number"), "bool", "customer"),
    ("customer.email", _("Email address"), "text", "customer"),
    ("customer.birthday", _("Birthday"), "date", "customer"),
    ("customer.time_zone", _("Time zone"), "text", "customer"),
    ("customer.is_deleted", _("Customer was deleted in the shop"), "bool", "customer"),
    ("customer.first_order_date", _("Date of the first paid order"), "date", "history"),
    ("trigger.event_type", _("Trigger: event type"), "text", "trigger"),
    ("trigger.from", _("Trigger: status changed from"), "text", "trigger"),
    ("trigger.to", _("Trigger: status changed to"), "text", "trigger"),
    ("trigger.refund_full", _("Trigger: the refund was full"), "bool", "trigger"),
]:
    register_fact(key=_key, label=_label, type=_type, source=_source)  # type: ignore[arg-type]


def evaluate(
    conditions: Iterable[Condition],
    facts: Mapping[str, Any],
    *,
    match: Literal["all", "any"] = "all",
) -> tuple[bool, str]:
    """Whether the conditions hold on `facts`, and a short reason naming the deciding one."""
    conditions = list(conditions)
    if not conditions:
        return True, ""
    reasons = []
    for condition in conditions:
        ok = holds(condition, facts)
        if match == "all" and not ok:
            return False, describe(condition, facts)
        if match == "any" and ok:
            return True, ""
        reasons.append(describe(condition, facts))
    if match == "all":
        return True, ""
    return False, "none held: " + "; ".join(reasons)


def all_hold(conditions: Iterable[Condition], facts: Mapping[str, Any]) -> bool:
    """`evaluate(…)[0]` for match "all", without writing the reason (the matcher's hot path)."""
    return all(holds(condition, facts) for condition in conditions)


def describe(condition: Condition, facts: Mapping[str, Any]) -> str:
    actual = facts.get(condition.fact)
    if condition.op in ("is_set", "is_not_set"):
        return f"{condition.fact} is {'set' if _is_set(actual) else 'not set'}"
    return f"{condition.fact} is {_show(actual)} (wanted {condition.op} {_show(condition.value)})"


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _is_set(value: Any) -> bool:
    return value not in (None, "", [], ())


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, str, Decimal, float)):
        return _parsed_number(value)  # the matcher compares the same few values 100,000s of times
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@lru_cache(maxsize=8192)
def _parsed_number(value: int | str | Decimal | float) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return _truthy(a) == _truthy(b)
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return bool(_norm(a) == _norm(b))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in ("1", "true", "yes", "on")
    return bool(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if isinstance(value, str) and "," in value:
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    a, b = _number(actual), _number(wanted)
    if a is None or b is None:
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def _member(actual: Any, wanted: Any) -> bool:
    return any(_same(actual, option) for option in _as_list(wanted))


def _contains(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, str) and not isinstance(wanted, list):
        return _norm(str(wanted)) in _norm(actual)
    return any(_same(item, w) for item in _as_list(actual) for w in _as_list(wanted))


_POSITIVE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _same,
    "in": _member,
    "contains": _contains,
    "gt": partial(_compare, "gt"),
    "gte": partial(_compare, "gte"),
    "lt": partial(_compare, "lt"),
    "lte": partial(_compare, "lte"),
}
_NEGATED = {"ne": "eq", "not_in": "in", "not_contains": "contains"}


def holds(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """One condition. A missing fact never satisfies a comparison (only `is_not_set` and the
    negations: a customer with no tags does "not contain" the tag VIP)."""
    op, wanted = condition.op, condition.value
    actual = facts.get(condition.fact)
    if op in ("is_set", "is_not_set"):
        return _is_set(actual) == (op == "is_set")
    if op in _NEGATED:
        return actual is None or not _POSITIVE[_NEGATED[op]](actual, wanted)
    return actual is not None and bool(_POSITIVE[op](actual, wanted))


def sources_of(conditions: Iterable[Condition]) -> set[str]:
    """The loaders a set of conditions needs (unknown facts need none: they are never set)."""
    return {FACTS[c.fact].source for c in conditions if c.fact in FACTS}
