"""What customers do on their pages: change their consent, the topics and language of their
messages, unsubscribe, ask for a fresh link; and what staff do for them: issue a link
(`aftercare portal link`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from aftercare.core import clock, signed_links
from aftercare.core.errors import InvalidInput, NotFound
from aftercare.customers import consent
from aftercare.customers import selectors as customer_selectors
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentChange, ConsentState, Customer
from aftercare.jobs.models import Job
from aftercare.portal import handlers, language, selectors
from aftercare.portal.selectors import PortalLink
from aftercare.stores.models import Store

PREFERENCES_SOURCE = "preferences_page"
UNSUBSCRIBE_PAGE_SOURCE = "unsubscribe_page"
ONE_CLICK_SOURCE = "one_click_unsubscribe"  # RFC 8058 List-Unsubscribe-Post

# At most one fresh-link mail per subject in this window, however often the button is pressed.
FRESH_LINK_INTERVAL = timedelta(minutes=10)


@transaction.atomic
def save_preferences(
    *,
    link: PortalLink,
    subscribed: dict[ConsentChannel, bool],
    unsubscribed_topics: set[str] | None = None,
    language: str | None = None,
) -> list[ConsentChange]:
    """Apply the preferences form: for each channel the customer has, record a change only when
    the box differs from what they currently receive. Returns the consent changes recorded.

    `unsubscribed_topics` (None: the form did not show topics) replaces their topic opt-outs;
    `language` (None: no choice offered) becomes their preferred language only when it is not
    already the one their messages are in — saving the page untouched records no choice, so a
    later change of their locale in the shop still counts."""
    customer, store = link.customer, link.store
    if unsubscribed_topics is not None:
        consent.set_topics(
            customer=customer, unsubscribed=unsubscribed_topics, source=PREFERENCES_SOURCE
        )
    if language is not None and language != message_language(link=link):
        consent.set_preferred_locale(customer=customer, locale=language, source=PREFERENCES_SOURCE)
    changes: list[ConsentChange] = []
    for channel in consent.channels_for(customer=customer):
        wanted = subscribed.get(channel, False)
        state = consent.current_state(customer=customer, channel=channel)
        if wanted == consent.is_subscribed(store=store, state=state):
            continue
        change = consent.change_consent(
            customer=customer,
            channel=channel,
            state=ConsentState.GRANTED if wanted else ConsentState.DENIED,
            source=PREFERENCES_SOURCE,
        )
        if change is not None:
            changes.append(change)
    return changes


def message_language(*, link: PortalLink) -> str:
    """The language the customer's messages are written in: their choice, else the shop's
    locale, when the store offers it; else the store's default."""
    customer = link.customer
    return language.choose(
        store=link.store, customer_locale=customer.locale, requested=customer.preferred_locale
    )


def unsubscribe(*, link: PortalLink, source: str) -> bool:
    """Stop marketing email to the link's customer. True if this changed anything (a repeated
    unsubscribe records nothing)."""
    change = consent.change_consent(
        customer=link.customer,
        channel=ConsentChannel.EMAIL,
        state=ConsentState.DENIED,
        source=source,
    )
    return change is not None


@dataclass(frozen=True)
class FreshLinkRequest:
    queued: bool
    retry_after: timedelta | None = None  # when not queued: how long until one may ask again


def _fresh_link_key_prefix(link: PortalLink) -> str:
    return f"portal.fresh-link:{link.store.pk}:{link.purpose}:{link.claims.subject_id}:"


def request_fresh_link(*, link: PortalLink) -> FreshLinkRequest:
    """Queue a mail with a new link for the same purpose and subject, to the address on file —
    unless one was queued for this subject in the last FRESH_LINK_INTERVAL.

    Holds the customer row's lock (select_for_update) while checking and enqueueing, so two
    presses at the same moment queue one mail."""
    prefix = _fresh_link_key_prefix(link)
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=link.customer.pk).exists()
        now = clock.now()
        last = (
            Job.objects.filter(
                kind=handlers.send_fresh_link.kind,
                dedupe_key__startswith=prefix,
                created_at__gt=now - FRESH_LINK_INTERVAL,
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None:
            return FreshLinkRequest(queued=False, retry_after=last + FRESH_LINK_INTERVAL - now)
        handlers.send_fresh_link.enqueue(
            store_id=link.store.pk,
            purpose=link.purpose,
            subject_id=link.claims.subject_id,
            customer_id=link.customer.pk,
            dedupe_key=f"{prefix}{now.timestamp():.6f}",
        )
    return FreshLinkRequest(queued=True)


def issue_link(
    *,
    store: Store,
    email: str,
    purpose: str,
    order_number: str | None = None,
    ttl: timedelta | None = None,
) -> str:
    """An absolute link for the customer with `email` (and, for "order", their order
    `order_number`). Raises NotFound / InvalidInput with a message for the operator."""
    customer = (
        customer_selectors.customers_for_store(store=store, email=email)
        .filter(deleted_at__isnull=True)
        .first()
    )
    if customer is None:
        raise NotFound(f"no customer with email {email} in store {store.slug}")
    if purpose == selectors.PREFERENCES:
        subject_id = customer.pk
    elif purpose == selectors.ORDER:
        if not order_number:
            raise InvalidInput("an order link needs the order number (--order)")
        order = selectors.order_by_number(store=store, customer=customer, number=order_number)
        if order is None:
            raise NotFound(f"{email} has no order #{order_number} in store {store.slug}")
        subject_id = order.pk
    else:
        raise InvalidInput(f"unknown link purpose {purpose!r}")
    return signed_links.make_link(
        purpose=purpose,
        store_id=store.pk,
        subject_id=subject_id,
        customer_id=customer.pk,
        ttl=ttl,
    )
