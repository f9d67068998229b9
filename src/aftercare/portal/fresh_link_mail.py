"""The "here is your fresh link" mail: composed here, sent by the `portal.send_fresh_link` job.

Kept to one function with plain inputs so the messaging module can take it over (render →
outbox → channel) without touching the portal's pages."""

from __future__ import annotations

from datetime import datetime
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.portal import branding, language
from aftercare.portal.selectors import ORDER
from aftercare.stores.models import Store


def _one_line(value: str) -> str:
    """Header values never carry line breaks (they would end the header)."""
    return " ".join(value.split())


def sender(*, store: Store) -> str:
    """The store's sender when set, else the platform's default From."""
    _, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if store.sender_email:
        name = store.sender_name or store.name
        return formataddr((_one_line(name), store.sender_email))
    if store.sender_name:
        return formataddr((_one_line(store.sender_name), default_address))
    return str(settings.DEFAULT_FROM_EMAIL)


def compose(
    *,
    store: Store,
    customer: Customer,
    purpose: str,
    url: str,
    expires_at: datetime,
    order: Order | None = None,
) -> EmailMultiAlternatives:
    """A text + HTML mail with `url`, in the customer's language, from the store."""
    lang = language.choose(store=store, customer_locale=customer.locale)
    zone = language.time_zone(store=store, customer=customer)
    with translation.override(lang), timezone.override(zone):
        if purpose == ORDER and order is not None:
            subject = gettext("Your link to follow order #%(number)s at %(store)s") % {
                "number": order.number,
                "store": store.name,
            }
        else:
            subject = gettext("Your link to your email preferences at %(store)s") % {
                "store": store.name
            }
        context = {
            "store": store,
            "customer": customer,
            "order": order if purpose == ORDER else None,
            "purpose": purpose,
            "url": url,
            "expires_at": expires_at,
            "palette": branding.palette(store.brand_color),
            "lang": lang,
        }
        text = render_to_string("portal/mail/fresh_link.txt", context)
        html = render_to_string("portal/mail/fresh_link.html", context)
    message = EmailMultiAlternatives(
        subject=_one_line(subject),
        body=text,
        from_email=sender(store=store),
        to=[customer.email],
        reply_to=[store.reply_to_email] if store.reply_to_email else None,
        headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no auto-replies to this
    )
    message.attach_alternative(html, "text/html")
    return message
