"""What starts a flow: the trigger registry.

    trigger = triggers.get("order.completed")
    start = trigger.start(event, config)    # a Start (subject, customer, context) or None

An *event* trigger names the event types that can start it and turns one event into a `Start`:
the run's subject key (a run is unique per flow and subject key, so a replayed event or a
second worker never starts a second run), its customer and the context steps act on. A
*scheduled* trigger (birthday, anniversary, win-back) has no event: schedule.py scans for due
customers once an hour. Later modules register their own (`review.submitted`,
`points.changed`, `delivery.late`, …) with `register()` from their AppConfig.ready().

Labels are lazy translations (`gettext_lazy`): the registry is built once at import, and the
editor shows each staff member the words of their own language (flows/locale).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftercare.core.errors import NotFound


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    type: str
    subject_type: str
    subject_id: int
    customer_id: int | None
    occurred_at: datetime
    recorded_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Start:
    subject_key: str
    customer_id: int | None
    context: dict[str, Any]


@dataclass(frozen=True)
class ConfigField:
    name: str
    label: str | Promise
    type: Literal["text", "number", "choice", "multichoice"]
    choices: tuple[str, ...] = ()
    default: Any = None
    required: bool = False
    choice_labels: Mapping[str, str | Promise] = field(default_factory=dict)  # shown in editors

    def label_of(self, choice: str) -> str:
        return str(self.choice_labels.get(choice, choice))


@dataclass(frozen=True)
class Trigger:
    key: str
    label: str | Promise
    kind: Literal["event", "scheduled"] = "event"
    event_types: tuple[str, ...] = ()
    start: Callable[[EventView, Mapping[str, Any]], Start | None] | None = None
    config_fields: tuple[ConfigField, ...] = ()
    # Facts (conditions.FACTS sources) `accepts` needs, and the check itself: for triggers
    # that depend on more than the event (a threshold crossed by this order).
    sources: frozenset[str] = field(default_factory=frozenset)
    accepts: Callable[[Start, Mapping[str, Any], Mapping[str, Any]], bool] | None = None


_registry: dict[str, Trigger] = {}


def register(trigger: Trigger) -> Trigger:
    _registry[trigger.key] = trigger
    return trigger


def get(key: str) -> Trigger:
    try:
        return _registry[key]
    except KeyError:
        raise NotFound(f"There is no trigger {key!r}.", code="unknown_trigger") from None


def exists(key: str) -> bool:
    return key in _registry


def all_triggers() -> list[Trigger]:
    return list(_registry.values())


def event_types_of(keys: set[str]) -> set[str]:
    types: set[str] = set()
    for key in keys:
        trigger = _registry.get(key)
        if trigger is not None:
            types.update(trigger.event_types)
    return types


# -- order events --------------------------------------------------------------------------


def _order_start(event: EventView, config: Mapping[str, Any]) -> Start | None:
    return Start(
        subject_key=f"order:{event.subject_id}",
        customer_id=event.customer_id,
        context={"order_id": event.subject_id, "event_type": event.type},
    )


def _wanted(config: Mapping[str, Any], name: str) -> set[str]:
    value = config.get(name) or []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    return {str(v).strip().lower() for v in value if str(v).strip()}


def _status_changed(event: EventView, config: Mapping[str, Any]) -> Start | None:
    """A status change; an order that *arrives* with a status (created as processing: the
    usual WooCommerce checkout) counts as a change from nothing to that status."""
    if event.type == "order.created":
        old, new = "", str(event.payload.get("status") or "")
    else:
        old, new = str(event.payload.get("from") or ""), str(event.payload.get("to") or "")
    if (wanted := _wanted(config, "from")) and old not in wanted:
        return None
    if (wanted := _wanted(config, "to")) and new not in wanted:
        return None
    return Start(
        subject_key=f"order:{event.subject_id}:{new}",
        customer_id=event.customer_id,
        context={"order_id": event.subject_id, "event_type": event.type, "from": old, "to": new},
    )


def _refunded(event: EventView, config: Mapping[str, Any]) -> Start | None:
    kind = str(config.get("refund") or "any")
    full = bool(event.payload.get("full"))
    if (kind == "full" and not full) or (kind == "partial" and full):
        return None
    refund_id = event.payload.get("refund_id") or event.id
    return Start(
        subject_key=f"order:{event.subject_id}:refund:{refund_id}",
        customer_id=event.customer_id,
        context={
            "order_id": event.subject_id,
            "event_type": event.type,
            "refund_amount": str(event.payload.get("amount") or ""),
            "refund_full": full,
        },
    )


STATUSES = (
    "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
)  # fmt: skip
# WooCommerce's words for its statuses, as the dashboard's order pages show them.
STATUS_LABELS: dict[str, str | Promise] = {
    "pending": _("Pending payment"),
    "processing": _("Processing"),
    "on-hold": _("On hold"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "refunded": _("Refunded"),
    "failed": _("Failed"),
}

for _key, _label in [
    ("order.created", _("Order placed")),
    ("order.paid", _("Order paid")),
    ("order.completed", _("Order completed")),
    ("order.cancelled", _("Order cancelled")),
]:
    register(Trigger(key=_key, label=_label, event_types=(_key,), start=_order_start))

register(
    Trigger(
        key="order.status_changed",
        label=_("Order status changed"),
        event_types=("order.status_changed", "order.created"),
        start=_status_changed,
        config_fields=(
            ConfigField(
                "from",
                _("From status (any if empty)"),
                "multichoice",
                STATUSES,
                choice_labels=STATUS_LABELS,
            ),
            ConfigField(
                "to",
                _("To status (any if empty)"),
                "multichoice",
                STATUSES,
                choice_labels=STATUS_LABELS,
            ),
        ),
    )
)
register(
    Trigger(
        key="order.refunded",
        label=_("Order refunded"),
        event_types=("order.refunded",),
        start=_refunded,
        config_fields=(
            ConfigField(
                "refund",
                _("Refund"),
                "choice",
                ("any", "partial", "full"),
                "any",
                choice_labels={
                    "any": _("Any refund"),
                    "partial": _("Partial refund"),
                    "full": _("Full refund"),
                },
            ),
        ),
    )
)


# -- customers -------------------------------------------------------------------------------


def _customer_start(event: EventView, config: Mapping[str, Any]) -> Start | None:
    return Start(
        subject_key=f"customer:{event.subject_id}",
        customer_id=event.subject_id,
        context={"event_type": event.type},
    )


register(
    Trigger(
        key="customer.created",
        label=_("Customer created"),
        event_types=("customer.created",),
        start=_customer_start,
    )
)


def _threshold_start(event: EventView, config: Mapping[str, Any]) -> Start | None:
    measure = str(config.get("measure") or "orders_count")
    return Start(
        # Once per customer and threshold (a run is unique per flow and subject key).
        subject_key=f"threshold:{measure}:{config.get('value')}:customer:{event.customer_id}",
        customer_id=event.customer_id,
        context={"order_id": event.subject_id, "event_type": event.type},
    )


def _threshold_crossed(start: Start, config: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """This paid order took the customer from below the threshold to at or above it."""
    from decimal import Decimal, InvalidOperation

    try:
        threshold = Decimal(str(config.get("value")))
    except (InvalidOperation, ValueError):
        return False
    if str(config.get("measure") or "orders_count") == "total_spent":
        after = Decimal(facts.get("customer.total_spent") or 0)
        this = Decimal(facts.get("order.total") or 0) - Decimal(
            facts.get("order.refunded_total") or 0
        )
        before = after - this
    else:
        after = Decimal(facts.get("customer.orders_count") or 0)
        before = after - 1
    return before < threshold <= after


register(
    Trigger(
        key="customer.threshold_reached",
        label=_("Customer reaches a number of orders or an amount spent"),
        event_types=("order.paid",),
        start=_threshold_start,
        config_fields=(
            ConfigField(
                "measure", _("Measure"), "choice", ("orders_count", "total_spent"), "orders_count"
            ),
            ConfigField("value", _("Reaches"), "number", required=True),
        ),
        sources=frozenset({"order", "history"}),
        accepts=_threshold_crossed,
    )
)


# -- messages (opened, clicked) ----------------------------------------------------------------


def _message_start(event: EventView, config: Mapping[str, Any]) -> Start | None:
    if event.payload.get("bot"):
        return None  # a link scanner or a prefetch, not the customer
    flow = config.get("flow_id")
    if flow not in (None, "") and str(event.payload.get("flow_id")) != str(flow):
        return None
    context: dict[str, Any] = {"event_type": event.type, "message_id": event.subject_id}
    if event.payload.get("order_id"):
        context["order_id"] = event.payload["order_id"]
    return Start(
        subject_key=f"message:{event.subject_id}",
        customer_id=event.customer_id,
        context=context,
    )


for _key, _label in [
    ("message.opened", _("Message opened")),
    ("message.clicked", _("Message link clicked")),
]:
    register(
        Trigger(
            key=_key,
            label=_label,
            event_types=(_key,),
            start=_message_start,
            config_fields=(ConfigField("flow_id", _("Only messages of flow (id)"), "number"),),
        )
    )


# -- scheduled (schedule.py scans for them) ------------------------------------------------------

DAYS_BEFORE = ConfigField("days_before", _("Days before (0 = on the day)"), "number", (), 0)

register(
    Trigger(
        key="customer.birthday",
        label=_("Customer's birthday"),
        kind="scheduled",
        config_fields=(
            ConfigField("days_before", _("Days before (0 = on the day)"), "number", (), 0),
        ),
    )
)
register(
    Trigger(
        key="customer.first_order_anniversary",
        label=_("Anniversary of the first order"),
        kind="scheduled",
        config_fields=(
            ConfigField("days_before", _("Days before (0 = on the day)"), "number", (), 0),
        ),
    )
)
register(
    Trigger(
        key="customer.win_back",
        label=_("No paid order for a number of days"),
        kind="scheduled",
        config_fields=(ConfigField("days", _("Days without an order"), "number", (), 90, True),),
    )
)
