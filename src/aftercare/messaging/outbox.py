"""Putting a message in the outbox: decide whether it may go, render it, freeze it as a row.

    result = outbox.queue(store=s, customer=c, channel="email", category="marketing",
                          template_key="win-back", idempotency_key="flow:3:run:9:step:send",
                          now=now, zone=zone)
    result.status   # "queued" | "skipped" (with reason) | "deferred" (quiet hours, retry_at)

The never-spam rules are applied here, once for every caller (flows, staff, later modules):
no address or a suppressed one (hard bounce, complaint) → skipped, transactional too;
marketing without consent (store's opt-in/opt-out mode) → skipped; marketing in the customer's
quiet hours → deferred to their end; marketing over the frequency cap → skipped ("capped");
marketing of a topic the customer opted out of (`topic="offers"`) → skipped.
Everything skipped says why, for the queue and the customer's timeline.

The row is written in the caller's transaction with an idempotency key unique per store: a
step run again after a crash finds its message instead of writing a second one. Marketing
mail carries RFC 8058 one-click unsubscribe headers (`List-Unsubscribe` with the https URL
and a mailto, `List-Unsubscribe-Post`). Sending is the sender's job (sender.py), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, parseaddr
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings

from aftercare.core import bulk_rows, encryption, signed_links
from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import Customer
from aftercare.messaging import policy, rendering, template_catalog, tracking, variables
from aftercare.messaging.lookups import Lookups
from aftercare.messaging.models import Category, ChannelKind, Message
from aftercare.orders.models import Order
from aftercare.stores.models import Store

ORDER_LINK_PURPOSE = "order"
PREFERENCES_PURPOSE = "preferences"


@dataclass(frozen=True)
class QueueResult:
    status: Literal["queued", "skipped", "deferred"]
    reason: str = ""
    message_id: int | None = None
    retry_at: datetime | None = None


def _skip(reason: str) -> QueueResult:
    return QueueResult(status="skipped", reason=reason)


def language_for(*, store: Store, customer: Customer | None) -> str:
    """The customer's language when the store speaks it — the one they chose on their
    preferences page, else the shop's — else the store's default."""
    spoken = [str(code) for code in (store.languages or [])] or [store.default_locale]
    if customer is not None:
        for wanted in (customer.preferred_locale, customer.locale):
            code = (wanted or "").replace("_", "-").split("-")[0].lower()
            if code and code in spoken:
                return code
    return store.default_locale.split("-")[0].lower() or "en"


def sender_of(store: Store) -> str:
    _, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    name = " ".join((store.sender_name or store.name).split())
    return formataddr((name, store.sender_email or default_address))


def _existing(store: Store, key: str) -> QueueResult | None:
    found = Message.objects.filter(store=store, idempotency_key=key).values_list("pk", flat=True)
    message_id = found.first()
    if message_id is None:
        return None
    return QueueResult(status="queued", reason="already queued", message_id=message_id)


def _consent_problem(*, store: Store, customer: Customer, channel: str) -> str:
    state = consent.current_state(customer=customer, channel=ConsentChannel(channel))
    if consent.is_subscribed(store=store, state=state):
        return ""
    if state in ("denied", "unsubscribed"):
        return f"unsubscribed from {channel} marketing"
    return f"no {channel} marketing consent (store is {store.consent_mode})"


def _links(*, store: Store, customer: Customer, order_id: int | None) -> dict[str, str]:
    token = signed_links.make_token(
        purpose=PREFERENCES_PURPOSE,
        store_id=store.pk,
        subject_id=customer.pk,
        customer_id=customer.pk,
    )
    links = {
        "preferences_url": signed_links.build_url(purpose=PREFERENCES_PURPOSE, token=token),
        "unsubscribe_url": f"{settings.PUBLIC_URL}/c/{token}/unsubscribe/",
        "one_click_url": f"{settings.PUBLIC_URL}/api/v1/unsubscribe/{token}",
    }
    if order_id is not None:
        links["order_url"] = signed_links.make_link(
            purpose=ORDER_LINK_PURPOSE,
            store_id=store.pk,
            subject_id=order_id,
            customer_id=customer.pk,
        )
    return links


def queue(
    *,
    store: Store,
    customer: Customer,
    channel: str,
    category: str,
    template_key: str,
    idempotency_key: str,
    now: datetime,
    zone: ZoneInfo,
    order_id: int | None = None,
    flow_id: int | None = None,
    step_id: int | None = None,
    cap_hours: int | None = None,
    extra: dict[str, Any] | None = None,
    source: str = "flow",
    topic: str = "",
    lookups: Lookups | None = None,
) -> QueueResult:
    """Decide, render and write one message to `customer` (module docstring). `topic`: the
    marketing topic (customers.topics) the customer may have opted out of; "" = general.
    `lookups`: a batch's (lookups.BatchLookups: the flow runner), else a query per read."""
    lookups = lookups or Lookups()
    if (found := lookups.existing_message(store=store, key=idempotency_key)) is not None:
        return QueueResult(status="queued", reason="already queued", message_id=found)
    address = customer.email if channel == ChannelKind.EMAIL else customer.phone
    marketing = category == Category.MARKETING
    refusal = _gate(
        store=store,
        customer=customer,
        channel=channel,
        address=address,
        marketing=marketing,
        now=now,
        zone=zone,
        cap_hours=cap_hours,
        topic=topic,
        lookups=lookups,
    )
    if refusal is not None:
        return refusal
    locale = language_for(store=store, customer=customer)
    order = lookups.order(store=store, order_id=order_id) if order_id else None
    links = _links(store=store, customer=customer, order_id=order_id)
    # The template first: values are formatted in the language the template is written in
    # (a fallback to the store's language formats dates and money in that language too).
    source_template = lookups.template(
        store=store, key=template_key, locale=locale, channel=channel
    )
    values = variables.build(
        store=store,
        customer=customer,
        order=order,
        locale=source_template.locale,
        links=links,
        extra=extra or {},
        # Recommendations cost several queries per mail: only for templates that show them.
        recommend=variables.uses_recommendations(
            source_template.subject, source_template.preheader, source_template.body
        ),
        lookups=lookups,
    )
    message = Message(
        store=store,
        customer=customer,
        channel=channel,
        category=category,
        recipient=address,
        locale=locale,
        template_key=template_key,
        flow_id=flow_id,
        step_id=step_id,
        source=source,
        topic=topic if marketing else "",
        idempotency_key=idempotency_key,
        next_attempt_at=now,
        created_at=now,
    )
    if channel == ChannelKind.EMAIL:
        message.tracking_token = tracking.new_token()
        wrapper = tracking.LinkWrapper(
            token=message.tracking_token, skip=(links["preferences_url"], links["unsubscribe_url"])
        )
        rendered = rendering.render_email(
            source=source_template,
            variables=values,
            brand=variables.brand(store=store),
            marketing=marketing,
            link_wrapper=wrapper,
            open_pixel_url=tracking.open_pixel_url(token=message.tracking_token),
        )
        message.links = wrapper.targets
        message.subject, message.body_text, message.body_html = (
            rendered.subject,
            rendered.text,
            rendered.html,
        )
        message.sender = sender_of(store)
        message.reply_to = store.reply_to_email
        message.headers = _email_headers(store=store, marketing=marketing, links=links)
    else:
        message.body_text = rendering.render_sms(source=source_template, variables=values)
    bulk_rows.insert_instance(message)  # save(force_insert=True) at a fifth of the cost
    lookups.remember_message(store=store, key=idempotency_key, message_id=message.pk)
    if marketing:
        lookups.remember_throttle(customer_id=customer.pk, channel=channel)
    return QueueResult(status="queued", message_id=message.pk)


def _gate(
    *,
    store: Store,
    customer: Customer,
    channel: str,
    address: str,
    marketing: bool,
    now: datetime,
    zone: ZoneInfo,
    cap_hours: int | None,
    topic: str = "",
    lookups: Lookups,
) -> QueueResult | None:
    """The never-spam rules, cheapest first; None when the message may be written. The
    frequency cap comes last: its slot is taken only by a message that will be written."""
    if not address:
        return _skip(f"no {'email address' if channel == ChannelKind.EMAIL else 'phone number'}")
    if reason := lookups.suppression(store=store, channel=channel, address=address):
        return _skip(f"address suppressed ({reason})")
    if not marketing:
        return None
    return _marketing_gate(
        store=store,
        customer=customer,
        channel=channel,
        now=now,
        zone=zone,
        cap_hours=cap_hours,
        topic=topic,
        lookups=lookups,
    )


def _marketing_gate(
    *,
    store: Store,
    customer: Customer,
    channel: str,
    now: datetime,
    zone: ZoneInfo,
    cap_hours: int | None,
    topic: str = "",
    lookups: Lookups,
) -> QueueResult | None:
    if problem := _consent_problem(store=store, customer=customer, channel=channel):
        return _skip(problem)
    if consent.opted_out_of(customer=customer, topic=topic):
        return _skip(f"opted out of topic {topic!r}")
    quiet_end = policy.quiet_until(
        now=now, zone=zone, start=store.quiet_hours_start, end=store.quiet_hours_end
    )
    if quiet_end is not None:
        return QueueResult(
            status="deferred",
            reason=f"quiet hours: moved to {quiet_end.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            retry_at=quiet_end,
        )
    cap = store.marketing_cap_hours if cap_hours is None else cap_hours
    if not policy.take_marketing_slot(
        store=store,
        customer_id=customer.pk,
        channel=channel,
        now=now,
        cap_hours=cap,
        has_row=lookups.has_throttle(customer_id=customer.pk, channel=channel),
    ):
        return _skip(f"frequency cap: another marketing message within {cap} h")
    return None


def _email_headers(*, store: Store, marketing: bool, links: dict[str, str]) -> dict[str, str]:
    headers = {"Auto-Submitted": "auto-generated"}  # RFC 3834: no auto-replies
    if marketing:
        mailto = store.reply_to_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        headers["List-Unsubscribe"] = (
            f"<{links['one_click_url']}>, <mailto:{mailto}?subject=unsubscribe>"
        )
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        headers["Precedence"] = "bulk"
    return headers


def queue_webhook(
    *,
    store: Store,
    customer: Customer | None,
    url: str,
    secret: str,
    body: str,
    idempotency_key: str,
    now: datetime,
    flow_id: int | None = None,
    step_id: int | None = None,
) -> QueueResult:
    if (done := _existing(store, idempotency_key)) is not None:
        return done
    if not url.startswith(("https://", "http://")):
        return _skip("webhook URL must start with https://")
    message = Message.objects.create(
        store=store,
        customer=customer,
        channel=ChannelKind.WEBHOOK,
        category=Category.TRANSACTIONAL,
        recipient=url,
        body_text=body,
        # The signing secret travels with the message (a retry days later signs with it), never
        # in plain text: Fernet, like every secret at rest.
        headers={"secret": encryption.encrypt(secret)} if secret else {},
        flow_id=flow_id,
        step_id=step_id,
        source="flow",
        idempotency_key=idempotency_key,
        next_attempt_at=now,
        created_at=now,
    )
    return QueueResult(status="queued", message_id=message.pk)


def queue_staff_email(
    *,
    store: Store,
    to: str,
    template_key: str,
    title: str,
    note: str,
    customer: Customer | None,
    order_id: int | None,
    idempotency_key: str,
    now: datetime,
    flow_id: int | None = None,
    step_id: int | None = None,
) -> QueueResult:
    """A notification to staff (transactional, in the store's language, no tracking)."""
    if (done := _existing(store, idempotency_key)) is not None:
        return done
    locale = language_for(store=store, customer=None)
    order = Order.objects.filter(store=store, pk=order_id).first() if order_id else None
    source_template = template_catalog.get(store=store, key=template_key, locale=locale)
    values = variables.build(
        store=store,
        customer=customer if customer is not None else Customer(store=store),  # all blanks
        order=order,
        locale=source_template.locale,
        links={"customer_url": _dashboard_customer_url(customer)},
        extra={"notification": {"title": title, "message": note}},
    )
    rendered = rendering.render_email(
        source=source_template,
        variables=values,
        brand=variables.brand(store=store),
        marketing=False,
    )
    return queue_rendered_email(
        store=store,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        locale=locale,
        template_key=template_key,
        source="staff-notification",
        idempotency_key=idempotency_key,
        now=now,
        flow_id=flow_id,
        step_id=step_id,
    )


def queue_rendered_email(
    *,
    store: Store,
    to: str,
    subject: str,
    text: str,
    html: str,
    locale: str,
    template_key: str,
    source: str,
    idempotency_key: str,
    now: datetime,
    flow_id: int | None = None,
    step_id: int | None = None,
) -> QueueResult:
    """An email its caller has already rendered (the template editor's test to staff, a staff
    notification), written
    as it is: transactional, no customer, no tracking. Suppressed addresses are skipped like
    any other; marketing never comes this way (it must pass `queue`'s gate)."""
    if (done := _existing(store, idempotency_key)) is not None:
        return done
    if reason := policy.is_suppressed(store=store, channel=ChannelKind.EMAIL, address=to):
        return _skip(f"address suppressed ({reason})")
    message = Message.objects.create(
        store=store,
        customer=None,
        channel=ChannelKind.EMAIL,
        category=Category.TRANSACTIONAL,
        recipient=to,
        sender=sender_of(store),
        reply_to=store.reply_to_email,
        subject=subject,
        body_text=text,
        body_html=html,
        headers={"Auto-Submitted": "auto-generated"},
        locale=locale,
        template_key=template_key,
        flow_id=flow_id,
        step_id=step_id,
        source=source,
        idempotency_key=idempotency_key,
        next_attempt_at=now,
        created_at=now,
    )
    return QueueResult(status="queued", message_id=message.pk)


def _dashboard_customer_url(customer: Customer | None) -> str:
    if customer is None:
        return f"{settings.PUBLIC_URL}/dashboard/"
    return f"{settings.PUBLIC_URL}/dashboard/customers/{customer.pk}/"
