"""customers.consent: the one writer of consent outside the mirror."""

from __future__ import annotations

import pytest

from aftercare.core.errors import InvalidInput
from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentChange, ConsentState, Customer
from aftercare.events.models import Event
from aftercare.stores.models import ConsentMode, Store
from tests.portal.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_change_is_recorded_once(customer: Customer) -> None:
    first = consent.change_consent(
        customer=customer,
        channel=ConsentChannel.EMAIL,
        state=ConsentState.GRANTED,
        source="preferences_page",
    )
    again = consent.change_consent(
        customer=customer,
        channel=ConsentChannel.EMAIL,
        state=ConsentState.GRANTED,
        source="preferences_page",
    )
    assert first is not None and again is None
    assert customer.marketing_consent == ConsentState.GRANTED  # the caller's instance too
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.marketing_consent, stored.consent_source) == ("granted", "preferences_page")
    assert stored.consent_at == first.occurred_at
    assert ConsentChange.objects.count() == 1
    [event] = Event.objects.filter(type=consent.CONSENT_CHANGED)
    assert (event.subject_type, event.subject_id, event.customer_id) == (
        "customer",
        customer.pk,
        customer.pk,
    )
    assert event.store_id == customer.store_id


def test_sms_lives_in_the_history(store: Store) -> None:
    customer = CustomerFactory(
        store=store, phone="+14155550100", marketing_consent=ConsentState.GRANTED
    )
    assert consent.current_state(customer=customer, channel=ConsentChannel.SMS) == "unknown"
    consent.change_consent(
        customer=customer, channel=ConsentChannel.SMS, state=ConsentState.GRANTED, source="t"
    )
    consent.change_consent(
        customer=customer, channel=ConsentChannel.SMS, state=ConsentState.DENIED, source="t"
    )
    assert consent.current_state(customer=customer, channel=ConsentChannel.SMS) == "denied"
    customer.refresh_from_db()
    assert customer.marketing_consent == ConsentState.GRANTED  # email untouched


def test_refusals(customer: Customer) -> None:
    with pytest.raises(InvalidInput):
        consent.change_consent(
            customer=customer, channel=ConsentChannel.SMS, state=ConsentState.GRANTED, source="t"
        )  # no phone
    with pytest.raises(InvalidInput):
        consent.change_consent(
            customer=customer, channel=ConsentChannel.EMAIL, state=ConsentState.UNKNOWN, source="t"
        )
    assert not ConsentChange.objects.exists()
    assert not Event.objects.exists()


def test_subscribed_depends_on_the_store_mode(store: Store) -> None:
    assert not consent.is_subscribed(store=store, state=ConsentState.UNKNOWN)
    store.consent_mode = ConsentMode.OPT_OUT
    assert consent.is_subscribed(store=store, state=ConsentState.UNKNOWN)
    assert not consent.is_subscribed(store=store, state=ConsentState.DENIED)
    assert consent.is_subscribed(store=store, state=ConsentState.GRANTED)


def test_channels(store: Store) -> None:
    assert consent.channels_for(customer=CustomerFactory(store=store)) == ["email"]
    with_phone = CustomerFactory(store=store, phone="+14155550100")
    assert consent.channels_for(customer=with_phone) == ["email", "sms"]
