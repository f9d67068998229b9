"""Marketing consent per channel: what a customer currently said, and the one way to change it
outside the mirror (ingest records the shop's checkbox; everything else — the preferences page,
one-click unsubscribe, later staff and the API — calls `change_consent`).

    consent.change_consent(customer=c, channel=ConsentChannel.EMAIL, state=ConsentState.DENIED,
                           source="one_click_unsubscribe")

Email consent lives on the customer row (`marketing_consent`, what messaging filters on) and
in its history; other channels (SMS) live in the history only: their state is the latest
`ConsentChange` of that channel. Every change appends a `ConsentChange` and publishes
`customer.consent_changed`; asking for the state a customer already has changes nothing
(idempotent: a second unsubscribe records nothing).

The preferences page also sets which marketing *topics* they want (`set_topics`: the opt-outs,
see customers/topics.py) and the language they want mail in (`set_preferred_locale`). Both are
theirs alone: written here, never by the mirror. Each change publishes an event with the
source, the time and before/after (`customer.topics_changed`, `customer.language_changed`) —
the GDPR evidence, like consent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from django.db import transaction

from aftercare.core import clock
from aftercare.core.errors import InvalidInput
from aftercare.customers import topics
from aftercare.customers.models import ConsentChange, ConsentState, Customer
from aftercare.events import bus
from aftercare.stores.models import ConsentMode, Store

CONSENT_CHANGED = "customer.consent_changed"
TOPICS_CHANGED = "customer.topics_changed"
LANGUAGE_CHANGED = "customer.language_changed"


class ConsentChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class ConsentErrorCode(StrEnum):
    NO_PHONE = "consent_no_phone"
    NO_EMAIL = "consent_no_email"


def channels_for(*, customer: Customer) -> list[ConsentChannel]:
    """The channels a customer can be asked about: email, and SMS when we have a phone."""
    channels = [ConsentChannel.EMAIL] if customer.email else []
    if customer.phone:
        channels.append(ConsentChannel.SMS)
    return channels


def current_state(*, customer: Customer, channel: ConsentChannel) -> ConsentState:
    """The customer's recorded consent on `channel` (UNKNOWN when they never said)."""
    if channel is ConsentChannel.EMAIL:
        return ConsentState(customer.marketing_consent)
    latest = (
        ConsentChange.objects.filter(customer=customer, channel=channel)
        .order_by("-occurred_at", "-id")
        .values_list("state", flat=True)
        .first()
    )
    return ConsentState(latest) if latest else ConsentState.UNKNOWN


def is_subscribed(*, store: Store, state: ConsentState) -> bool:
    """Whether marketing goes out under `state`: granted always; unknown only in opt-out mode."""
    if state == ConsentState.GRANTED:
        return True
    return state == ConsentState.UNKNOWN and store.consent_mode == ConsentMode.OPT_OUT


@transaction.atomic
def change_consent(
    *,
    customer: Customer,
    channel: ConsentChannel,
    state: ConsentState,
    source: str,
) -> ConsentChange | None:
    """Record that `customer` now says `state` on `channel`, from `source` (e.g.
    "preferences_page"). Returns the new history row, or None when that already was the state.

    Locks the customer row (select_for_update) for the read-then-write: two simultaneous
    submissions record one change, not two."""
    channel = ConsentChannel(channel)
    state = ConsentState(state)
    if state == ConsentState.UNKNOWN:
        raise InvalidInput("consent can be granted or denied, not set back to unknown")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if channel is ConsentChannel.SMS and not locked.phone:
        raise InvalidInput("this customer has no phone number", code=ConsentErrorCode.NO_PHONE)
    if channel is ConsentChannel.EMAIL and not locked.email:
        raise InvalidInput("this customer has no email address", code=ConsentErrorCode.NO_EMAIL)
    before = current_state(customer=locked, channel=channel)
    if before == state:
        return None
    now = clock.now()
    source = source[:100]
    change = ConsentChange.objects.create(
        customer=locked, channel=channel, state=state, source=source, occurred_at=now
    )
    if channel is ConsentChannel.EMAIL:
        Customer.objects.filter(pk=locked.pk).update(
            marketing_consent=state, consent_source=source, consent_at=now, updated_at=now
        )
        # The caller's instance shows the new state too.
        customer.marketing_consent, customer.consent_source, customer.consent_at = (
            state,
            source,
            now,
        )
    bus.publish_many(
        [
            bus.EventDraft(
                store_id=locked.store_id,
                type=CONSENT_CHANGED,
                subject_type="customer",
                subject_id=locked.pk,
                customer_id=locked.pk,
                occurred_at=now,
                payload={
                    "channel": str(channel),
                    "from": str(before),
                    "to": str(state),
                    "source": source,
                },
                dedupe_key=f"customer:{locked.pk}:consent:{change.pk}",
            )
        ]
    )
    return change


def opted_out_of(*, customer: Customer, topic: str) -> bool:
    """Whether `customer` opted out of marketing `topic` ("" — general marketing — never is).
    Reads the row: no query, so the sender can ask for every message it sends."""
    return bool(topic) and topic in (customer.topic_opt_outs or [])


@transaction.atomic
def set_topics(*, customer: Customer, unsubscribed: Iterable[str], source: str) -> bool:
    """Record that `customer` now wants no marketing of the topics in `unsubscribed` (and all
    the others), from `source`. Unknown topic keys are ignored. Returns whether anything
    changed; a change publishes `customer.topics_changed` with before and after."""
    wanted = sorted(topics.clean(unsubscribed))
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    before = sorted(topics.clean(locked.topic_opt_outs or []))
    if wanted == before:
        return False
    now = clock.now()
    source = source[:100]
    Customer.objects.filter(pk=locked.pk).update(topic_opt_outs=wanted, updated_at=now)
    customer.topic_opt_outs = wanted
    _publish(
        locked,
        type_=TOPICS_CHANGED,
        now=now,
        payload={
            "from": before,
            "to": wanted,
            "unsubscribed": sorted(set(wanted) - set(before)),
            "resubscribed": sorted(set(before) - set(wanted)),
            "source": source,
        },
    )
    return True


@transaction.atomic
def set_preferred_locale(*, customer: Customer, locale: str, source: str) -> bool:
    """Record the language `customer` wants their messages in ("" = the shop's `locale`); it
    must be one of the store's languages. Returns whether anything changed."""
    locked_customer = Customer.objects.select_for_update().get(pk=customer.pk)
    store = customer.store
    code = locale.strip().replace("_", "-").split("-")[0].lower()
    spoken = [str(c).split("-")[0].lower() for c in (store.languages or [])] or [
        store.default_locale.split("-")[0].lower()
    ]
    if code and code not in spoken:
        raise InvalidInput(f"the store does not write in {locale!r}", code="unknown_language")
    before = locked_customer.preferred_locale
    if code == before:
        return False
    now = clock.now()
    source = source[:100]
    Customer.objects.filter(pk=locked_customer.pk).update(preferred_locale=code, updated_at=now)
    customer.preferred_locale = code
    _publish(
        locked_customer,
        type_=LANGUAGE_CHANGED,
        now=now,
        payload={"from": before, "to": code, "source": source},
    )
    return True


def _publish(customer: Customer, *, type_: str, now: datetime, payload: dict[str, object]) -> None:
    bus.publish_many(
        [
            bus.EventDraft(
                store_id=customer.store_id,
                type=type_,
                subject_type="customer",
                subject_id=customer.pk,
                customer_id=customer.pk,
                occurred_at=now,
                payload=payload,
                # No dedupe key: the customer's own action, never replayed by a delivery.
            )
        ]
    )
