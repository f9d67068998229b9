"""What a flow can do: the action registry.

    actions.register(Action(key="award_points", label=_("Award points"), run=award,
                            params=(Param("points", _("Points"), "number", required=True),)))

An action gets an `ActionContext` (store, flow, run, step, customer, the run's context and the
fresh facts) and its step's params, and answers with an `ActionResult`: done, skipped (with the
reason staff will read in the queue), or deferred to a later time (quiet hours). It runs inside
the runner's transaction: whatever it writes (a message row, a tag, a coupon) commits with the
step's status, so a crash never leaves one without the other. It never does network I/O itself:
messages go to the outbox, and the sender delivers them.

Built in: send_email, send_sms, add_tag, remove_tag, webhook, notify_staff. Later modules
register issue_coupon, award_points, request_review, send_survey from their AppConfig.ready().
Labels are lazy translations, shown in each staff member's language (flows/locale).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftercare.core import encryption
from aftercare.core.errors import InvalidInput, NotFound
from aftercare.customers import tagging
from aftercare.customers.models import Customer
from aftercare.messaging import outbox
from aftercare.messaging.lookups import Lookups
from aftercare.messaging.outbox import QueueResult
from aftercare.stores.models import StaffMembership, Store


@dataclass(frozen=True)
class ActionContext:
    store: Store
    flow_id: int
    flow_name: str
    category: str  # "transactional" | "marketing"
    frequency_cap_hours: int | None
    run_id: int
    step_id: int
    step_key: str
    customer: Customer | None
    context: Mapping[str, Any]
    facts: Mapping[str, Any]
    now: datetime
    zone: ZoneInfo
    topic: str = ""  # the flow's marketing topic (customers.topics); "" = general
    # What the messages of the runner's batch read, loaded once for the batch (None: a query
    # per read, e.g. a step run on its own).
    lookups: Lookups | None = None

    @property
    def order_id(self) -> int | None:
        value = self.context.get("order_id")
        return int(value) if value is not None else None

    def idempotency_key(self, suffix: str = "") -> str:
        return step_idempotency_key(self.flow_id, self.run_id, self.step_key, suffix)


def step_idempotency_key(flow_id: int, run_id: int, step_key: str, suffix: str = "") -> str:
    """The key of what a step writes to the outbox: a step run again finds its message."""
    return f"flow:{flow_id}:run:{run_id}:step:{step_key}{suffix}"


@dataclass(frozen=True)
class ActionResult:
    status: Literal["done", "skipped", "deferred"]
    reason: str = ""
    message_id: int | None = None
    retry_at: datetime | None = None

    @classmethod
    def from_queue(cls, result: QueueResult) -> ActionResult:
        return cls(
            status=result.status if result.status != "queued" else "done",
            reason=result.reason,
            message_id=result.message_id,
            retry_at=result.retry_at,
        )


@dataclass(frozen=True)
class Param:
    name: str
    label: str | Promise
    type: Literal["text", "number", "template", "tag", "url", "secret", "textarea", "choice"]
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None


@dataclass(frozen=True)
class Action:
    key: str
    label: str | Promise
    run: Callable[[ActionContext, Mapping[str, Any]], ActionResult]
    params: tuple[Param, ...] = field(default_factory=tuple)
    # "email"/"sms": a message to the customer (consent, cap and quiet hours apply to marketing)
    channel: str | None = None


_registry: dict[str, Action] = {}


def register(action: Action) -> Action:
    _registry[action.key] = action
    return action


def get(key: str) -> Action:
    try:
        return _registry[key]
    except KeyError:
        raise NotFound(f"There is no action {key!r}.", code="unknown_action") from None


def exists(key: str) -> bool:
    return key in _registry


def all_actions() -> list[Action]:
    return list(_registry.values())


def check_params(*, action_key: str, params: Mapping[str, Any]) -> None:
    """Raise InvalidInput when a required parameter is missing (the editor and imports call it)."""
    action = get(action_key)
    missing = [p.name for p in action.params if p.required and params.get(p.name) in (None, "")]
    if missing:
        raise InvalidInput(
            f"Action {str(action.label)!r} needs: {', '.join(missing)}.", code="missing_params"
        )


def secret_param(params: Mapping[str, Any], name: str) -> str:
    """A secret parameter in clear (services store them encrypted, "enc:…")."""
    value = str(params.get(name) or "")
    if value.startswith("enc:"):
        return encryption.decrypt(value.removeprefix("enc:"))
    return value


# -- built-in actions ------------------------------------------------------------------------


def _send(ctx: ActionContext, params: Mapping[str, Any], *, channel: str) -> ActionResult:
    if ctx.customer is None:
        return ActionResult(status="skipped", reason="no customer")
    result = outbox.queue(
        store=ctx.store,
        customer=ctx.customer,
        channel=channel,
        category=ctx.category,
        template_key=str(params.get("template") or ""),
        idempotency_key=ctx.idempotency_key(),
        order_id=ctx.order_id,
        flow_id=ctx.flow_id,
        step_id=ctx.step_id,
        cap_hours=ctx.frequency_cap_hours,
        zone=ctx.zone,
        now=ctx.now,
        extra=dict(ctx.context.get("variables") or {}),
        topic=ctx.topic,
        lookups=ctx.lookups,
    )
    return ActionResult.from_queue(result)


def send_email(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    return _send(ctx, params, channel="email")


def send_sms(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    return _send(ctx, params, channel="sms")


def add_tag(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    if ctx.customer is None:
        return ActionResult(status="skipped", reason="no customer")
    name = str(params.get("tag") or "").strip()
    tagging.add_tag(customer=ctx.customer, name=name, source=f"flow:{ctx.flow_id}")
    return ActionResult(status="done", reason=f"tagged {name!r}")


def remove_tag(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    if ctx.customer is None:
        return ActionResult(status="skipped", reason="no customer")
    name = str(params.get("tag") or "").strip()
    removed = tagging.remove_tag(customer=ctx.customer, name=name)
    return ActionResult(status="done", reason=f"removed {name!r}" if removed else "had no such tag")


def webhook(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    body = {
        "flow": {"id": ctx.flow_id, "name": ctx.flow_name},
        "run_id": ctx.run_id,
        "step": ctx.step_key,
        "customer": None
        if ctx.customer is None
        else {
            "id": ctx.customer.pk,
            "email": ctx.customer.email,
            "first_name": ctx.customer.first_name,
            "last_name": ctx.customer.last_name,
        },
        "order_id": ctx.order_id,
        "event_type": ctx.context.get("event_type"),
        "occurred_at": ctx.now.isoformat(),
    }
    result = outbox.queue_webhook(
        store=ctx.store,
        customer=ctx.customer,
        url=str(params.get("url") or ""),
        secret=secret_param(params, "secret"),
        body=json.dumps(body, ensure_ascii=False, sort_keys=True),
        idempotency_key=ctx.idempotency_key(),
        flow_id=ctx.flow_id,
        step_id=ctx.step_id,
        now=ctx.now,
    )
    return ActionResult.from_queue(result)


def notify_staff(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    """Mail the store's staff (a role, or listed addresses) about this customer/order."""
    role = str(params.get("role") or "")
    addresses = [a.strip() for a in str(params.get("emails") or "").split(",") if a.strip()]
    if not addresses:
        members = StaffMembership.objects.filter(store=ctx.store).select_related("user")
        if role:
            members = members.filter(role=role)
        addresses = sorted({m.user.email for m in members if m.user.email})
    if not addresses:
        return ActionResult(status="skipped", reason="no staff address to notify")
    first: int | None = None
    for address in addresses:
        result = outbox.queue_staff_email(
            store=ctx.store,
            to=address,
            template_key=str(params.get("template") or "staff-notification"),
            title=ctx.flow_name,
            note=str(params.get("note") or ""),
            customer=ctx.customer,
            order_id=ctx.order_id,
            flow_id=ctx.flow_id,
            step_id=ctx.step_id,
            idempotency_key=ctx.idempotency_key(f":to:{address.lower()}"),
            now=ctx.now,
        )
        first = first or result.message_id
    return ActionResult(status="done", reason=f"notified {len(addresses)}", message_id=first)


TEMPLATE = Param("template", _("Template"), "template", required=True)
TAG = Param("tag", _("Tag"), "tag", required=True)

register(Action("send_email", _("Send an email"), send_email, (TEMPLATE,), channel="email"))
register(Action("send_sms", _("Send a text message (SMS)"), send_sms, (TEMPLATE,), channel="sms"))
register(Action("add_tag", _("Add a tag"), add_tag, (TAG,)))
register(Action("remove_tag", _("Remove a tag"), remove_tag, (TAG,)))
register(
    Action(
        "webhook",
        _("Call a webhook (signed)"),
        webhook,
        (
            Param("url", _("URL"), "url", required=True),
            Param("secret", _("Signing secret"), "secret"),
        ),
    )
)
register(
    Action(
        "notify_staff",
        _("Notify staff"),
        notify_staff,
        (
            Param(
                "role",
                _("Role (all staff if empty)"),
                "choice",
                choices=("owner", "manager", "agent"),
            ),
            Param("emails", _("Or these addresses (comma-separated)"), "text"),
            Param("note", _("Note"), "textarea"),
            Param("template", _("Template"), "template", default="staff-notification"),
        ),
    )
)
