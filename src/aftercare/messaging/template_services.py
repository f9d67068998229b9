"""Store owners' own templates: save a checked version, go back to the shipped one, preview a
draft with a real customer's data, and send a test of it to oneself.

    template_services.save_template(store=s, key="thank-you", locale="ko", channel="email",
                                    subject=…, preheader=…, body=…, staff_email="ann@shop.test")
    template_services.reset_template(store=s, key="thank-you", locale="ko", channel="email")
    email = template_services.preview(store=s, key="thank-you", locale="ko", channel="email",
                                      customer=jane, order=None, body=draft)  # RenderedEmail
    template_services.send_test(store=s, to_email="ann@shop.test", key="thank-you", …)

Why here and not in the dashboard: the editor, the API and the CLI must refuse the same broken
templates and show the same preview. A template is checked (`rendering.check_template`) before
it is stored, so a message can never fail later on a template an owner saved; the
`TemplateError` raised says which field and line.

The preview renders the *draft* (what the editor holds, saved or not) with one real customer's
variables — their latest order when no order is named — or the made-up sample set when there
is no customer, and **no tracking**: staff looking at it record no open or click. Its customer
links (order page, preferences, unsubscribe) are harmless stand-ins, never signed tokens: a
test mail in a staff inbox must not carry a working unsubscribe link of a real customer.

`send_test` puts exactly that rendering in the outbox (transactional, source "test", "[Test] "
before the subject, to the staff member's own address, no customer attached so it does not
show in the customer's timeline), so it goes through the real sender and channel: SMTP when
EMAIL_URL is set, the local outbox otherwise. An SMS template is tested by email (staff have no
phone number on file): the SMS text as the mail's body.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings

from aftercare.core import clock
from aftercare.core.errors import InvalidInput, NotFound
from aftercare.customers.models import Customer
from aftercare.messaging import outbox, rendering, template_catalog, variables
from aftercare.messaging.models import ChannelKind, MessageTemplate
from aftercare.messaging.rendering import RenderedEmail, TemplateSource
from aftercare.messaging.template_catalog import TemplateKey
from aftercare.orders import selectors as order_selectors
from aftercare.orders.models import Order
from aftercare.stores.models import Store

TEST_PREFIX = "[Test] "
TEST_SOURCE = "test"
SUBJECT_MAX = MessageTemplate._meta.get_field("subject").max_length or 300
BODY_MAX = 100_000  # the sandbox caps what a render may produce; this caps what is stored
_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


# --- which templates ---------------------------------------------------------------------------


def template_key(*, key: str, channel: str = ChannelKind.EMAIL) -> TemplateKey:
    """The shipped key with this channel; NotFound otherwise (a typed URL, another version)."""
    for known in template_catalog.template_keys():
        if known.key == key and channel in known.channels:
            return known
    raise NotFound(f"no {channel} template {key!r}")


def editable_locales(*, store: Store) -> list[str]:
    """The languages the store writes to customers in (its default first): a version in any
    other language would never be used (template_catalog falls back to the store's default)."""
    found: list[str] = []
    for code in [store.default_locale, *(str(c) for c in store.languages or [])]:
        language = template_catalog.normalise_locale(code)
        if language and language not in found:
            found.append(language)
    return found or [template_catalog.FALLBACK_LOCALE]


def _check_locale(*, store: Store, locale: str) -> str:
    language = template_catalog.normalise_locale(locale)
    if language not in editable_locales(store=store):
        raise NotFound(f"the store does not write in {locale!r}")
    return language


@dataclass(frozen=True)
class TemplateVersion:
    """One key, language and channel as the template list shows it."""

    key: TemplateKey
    locale: str
    channel: str
    customised: bool  # the store has its own version (else the shipped default is used)
    updated_at: datetime | None
    updated_by: str


def versions(*, store: Store) -> list[TemplateVersion]:
    """Every key, channel and store language, customised or shipped (one query)."""
    rows = {
        (row.key, row.locale, row.channel): row
        for row in MessageTemplate.objects.filter(store=store).only(
            "key", "locale", "channel", "updated_at", "updated_by"
        )
    }
    found = []
    for known in template_catalog.template_keys():
        for channel in known.channels:
            for locale in editable_locales(store=store):
                row = rows.get((known.key, locale, channel))
                found.append(
                    TemplateVersion(
                        key=known,
                        locale=locale,
                        channel=channel,
                        customised=row is not None,
                        updated_at=row.updated_at if row else None,
                        updated_by=row.updated_by if row else "",
                    )
                )
    return found


def current(*, store: Store, key: str, locale: str, channel: str) -> TemplateSource:
    """What the editor opens: the store's version in exactly this language, else the shipped
    one in it, else the text a customer in this language gets today (a fallback language)."""
    template_key(key=key, channel=channel)
    language = _check_locale(store=store, locale=locale)
    row = MessageTemplate.objects.filter(
        store=store, key=key, locale=language, channel=channel
    ).first()
    if row is not None:
        return TemplateSource(
            key=row.key,
            locale=row.locale,
            channel=row.channel,
            subject=row.subject,
            preheader=row.preheader,
            body=row.body,
            origin="store",
        )
    shipped = template_catalog.shipped(key=key, locale=language, channel=channel)
    if shipped is not None:
        return shipped
    fallback = template_catalog.get(store=store, key=key, locale=language, channel=channel)
    return replace(fallback, locale=language, origin="default")


# --- changing them -----------------------------------------------------------------------------


def _clean(*, channel: str, subject: str, preheader: str, body: str) -> tuple[str, str, str]:
    if channel != ChannelKind.EMAIL:  # an SMS has a body only
        subject = preheader = ""
    subject, preheader = " ".join(subject.split()), " ".join(preheader.split())
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip():
        raise InvalidInput("The body is empty.", field="body")
    if channel == ChannelKind.EMAIL and not subject:
        raise InvalidInput("An email needs a subject.", field="subject")
    for field, text, limit in (
        ("subject", subject, SUBJECT_MAX),
        ("preheader", preheader, SUBJECT_MAX),
        ("body", body, BODY_MAX),
    ):
        if len(text) > limit:
            raise InvalidInput(f"The {field} is longer than {limit:,} characters.", field=field)
    return subject, preheader, body


def save_template(
    *,
    store: Store,
    key: str,
    locale: str,
    channel: str,
    subject: str,
    preheader: str,
    body: str,
    staff_email: str,
    now: datetime | None = None,
) -> MessageTemplate:
    """Check the template, then store it as the store's version of key + language + channel.
    Raises TemplateError (with field and line) for a template that does not compile or
    render, InvalidInput for an empty or oversized field; nothing is stored then."""
    template_key(key=key, channel=channel)
    language = _check_locale(store=store, locale=locale)
    subject, preheader, body = _clean(
        channel=channel, subject=subject, preheader=preheader, body=body
    )
    rendering.check_template(subject=subject, preheader=preheader, body=body, locale=language)
    row, _ = MessageTemplate.objects.update_or_create(
        store=store,
        key=key,
        locale=language,
        channel=channel,
        defaults={
            "subject": subject,
            "preheader": preheader,
            "body": body,
            "updated_at": now or clock.now(),
            "updated_by": staff_email[:254],
        },
    )
    return row


def reset_template(*, store: Store, key: str, locale: str, channel: str) -> bool:
    """Delete the store's version: the shipped default is used again. False if there was none."""
    template_key(key=key, channel=channel)
    language = _check_locale(store=store, locale=locale)
    deleted, _ = MessageTemplate.objects.filter(
        store=store, key=key, locale=language, channel=channel
    ).delete()
    return deleted > 0


# --- previews ----------------------------------------------------------------------------------


def default_customer(*, store: Store) -> Customer | None:
    """Whom the editor previews with first: the customer of the store's most recent order."""
    order = (
        order_selectors.orders_for_store(store=store)
        .filter(customer__isnull=False, customer__deleted_at__isnull=True)
        .select_related("customer")
        .first()
    )
    return order.customer if order is not None else None


def _preview_links(*, shop_url: str) -> dict[str, str]:
    """Stand-ins for the customer's own links: they look like the real ones and lead nowhere
    (an unknown token is a 404 on the customer pages), so nothing here acts for the customer."""
    base = f"{settings.PUBLIC_URL}/c/preview"
    return {
        "order_url": f"{base}/order/",
        "preferences_url": f"{base}/preferences/",
        "unsubscribe_url": f"{base}/unsubscribe/",
        "survey_url": f"{base}/survey/",
        "shop_url": shop_url,
    }


def preview_variables(
    *, store: Store, locale: str, customer: Customer | None, order: Order | None
) -> dict[str, Any]:
    """The variables of the preview: the customer's (and their latest order's), else the
    sample set with the store's own name and address."""
    if order is not None and order.store_id != store.pk:
        raise NotFound("no such order in this store")
    if customer is None and order is not None:
        customer = order.customer
    if customer is not None and customer.store_id != store.pk:
        raise NotFound("no such customer in this store")
    if customer is None:
        stand_in = variables.build(
            store=store, customer=Customer(store=store), locale=locale, links={}
        )
        sample = variables.sample(locale=locale)
        sample["store"] = stand_in["store"]
        # The sample's pictures live on a made-up shop: no image beats a broken one.
        for product in [*sample["order"]["items"], *sample["recommended_products"]]:
            product["image_url"] = ""
        shop = stand_in["store"]["url"] or sample["links"]["shop_url"]
        sample["links"] = {
            **sample["links"],
            **_preview_links(shop_url=shop),
            "review_url": sample["links"]["review_url"],
        }
        return sample
    if order is None:
        order = order_selectors.orders_for_store(store=store, customer_id=customer.pk).first()
    built = variables.build(store=store, customer=customer, order=order, locale=locale, links={})
    built["links"] = {
        **built["links"],
        **_preview_links(shop_url=built["links"]["shop_url"]),
    }
    if order is None:
        built["links"]["order_url"] = ""
    return built


def preview(
    *,
    store: Store,
    key: str,
    locale: str,
    channel: str,
    customer: Customer | None = None,
    order: Order | None = None,
    subject: str | None = None,
    preheader: str | None = None,
    body: str | None = None,
) -> RenderedEmail | str:
    """The draft rendered as it would go out, without tracking: a RenderedEmail for email, the
    text for SMS. A field left None comes from the current version (`current`). Raises
    TemplateError for a draft that does not render."""
    known = template_key(key=key, channel=channel)
    saved = current(store=store, key=key, locale=locale, channel=channel)
    source = replace(
        saved,
        subject=saved.subject if subject is None else subject,
        preheader=saved.preheader if preheader is None else preheader,
        body=saved.body if body is None else body,
    )
    values = preview_variables(store=store, locale=source.locale, customer=customer, order=order)
    if channel != ChannelKind.EMAIL:
        return rendering.render_sms(source=source, variables=values)
    return rendering.render_email(
        source=source,
        variables=values,
        brand=variables.brand(store=store),
        marketing=known.marketing,
    )


def send_test(
    *,
    store: Store,
    to_email: str,
    key: str,
    locale: str,
    channel: str,
    customer: Customer | None = None,
    order: Order | None = None,
    subject: str | None = None,
    preheader: str | None = None,
    body: str | None = None,
    click_id: str = "",
    now: datetime | None = None,
) -> outbox.QueueResult:
    """Render like `preview` and queue one email of it to `to_email` (the staff member's own
    address). `click_id` makes the idempotency key: a form posted twice sends once; a new id
    (the default: a random one) is a new test."""
    to_email = to_email.strip()
    if "@" not in to_email:
        raise InvalidInput("Your account has no email address to send the test to.")
    rendered = preview(
        store=store,
        key=key,
        locale=locale,
        channel=channel,
        customer=customer,
        order=order,
        subject=subject,
        preheader=preheader,
        body=body,
    )
    if isinstance(rendered, str):  # an SMS, tested by email
        rendered = RenderedEmail(subject=f"SMS · {key}", html="", text=rendered)
    click = click_id if _CLICK_ID.fullmatch(click_id) else uuid.uuid4().hex
    return outbox.queue_rendered_email(
        store=store,
        to=to_email,
        subject=(TEST_PREFIX + rendered.subject)[:500],
        text=rendered.text,
        html=rendered.html,
        locale=template_catalog.normalise_locale(locale),
        template_key=key,
        source=TEST_SOURCE,
        idempotency_key=f"test:{key}:{channel}:{click}",
        now=now or clock.now(),
    )
