"""Revenue credit: the last tracked click (or open, when the store opts in) on a flow's message
within the store's window before the order earns that flow the order — once, never by a bot."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from aftercare.customers.models import Customer
from aftercare.messaging import attribution, tracking
from aftercare.messaging.models import Attribution, Message
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from aftercare.stores.settings_services import update_store_settings
from tests.mirror_factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari"
SCANNER = "Barracuda Sentinel (EE)"
START = datetime.fromisoformat("2026-05-04T09:00:00+00:00")


def _message(store: Store, customer: Customer, *, flow_id: int | None, key: str) -> Message:
    now = START - timedelta(days=1)  # sent well before the clicks (a click within 2 s is a bot's)
    wrapper = tracking.LinkWrapper(token=tracking.new_token())
    wrapper("https://shop.example/product/1")
    return Message.objects.create(
        store=store, customer=customer, channel="email", category="marketing",
        recipient=customer.email, idempotency_key=key, tracking_token=wrapper.token,
        links=wrapper.targets, flow_id=flow_id, status="sent", next_attempt_at=now,
        created_at=now, sent_at=now,
    )  # fmt: skip


def _at(when: datetime) -> time_machine.travel:
    return time_machine.travel(when, tick=False)


def _click(message: Message, when: datetime, agent: str = BROWSER) -> None:
    with _at(when):
        tracking.record_click(message=message, index=0, user_agent=agent)


def _open(message: Message, when: datetime, agent: str = BROWSER) -> None:
    with _at(when):
        tracking.record_open(message=message, user_agent=agent)


def _order(customer: Customer, when: datetime) -> Order:
    return OrderFactory(
        store=customer.store, customer=customer, date_created=when, total=Decimal("42.00")
    )


def test_the_last_human_click_within_the_window_earns_the_order(store: Store) -> None:
    buyer = CustomerFactory(store=store)
    early = _message(store, buyer, flow_id=1, key="a")
    late = _message(store, buyer, flow_id=2, key="b")
    _click(early, START)
    _click(late, START + timedelta(days=1))
    _click(early, START + timedelta(days=1, hours=2), agent=SCANNER)  # a link scanner: no credit
    order = _order(buyer, START + timedelta(days=2))
    credit = attribution.attribute_order(store=store, order_id=order.pk)
    assert credit is not None
    assert (credit.flow_id, credit.touch, credit.amount) == (2, "click", Decimal("42.00"))
    # Once per order: asking again credits nothing more.
    assert attribution.attribute_order(store=store, order_id=order.pk) is None
    assert Attribution.objects.filter(store=store).count() == 1


def test_the_window_is_the_stores_setting(store: Store) -> None:
    buyer = CustomerFactory(store=store)
    message = _message(store, buyer, flow_id=3, key="a")
    _click(message, START)
    order = _order(buyer, START + timedelta(days=6))
    assert attribution.attribute_order(store=store, order_id=order.pk) is None  # default: 5 days
    update_store_settings(store=store, attribution_window_days=7)
    credit = attribution.attribute_order(store=store, order_id=order.pk)
    assert credit is not None and credit.flow_id == 3


def test_opens_earn_credit_only_when_the_store_opts_in(store: Store) -> None:
    buyer = CustomerFactory(store=store)
    opened = _message(store, buyer, flow_id=4, key="a")
    clicked = _message(store, buyer, flow_id=5, key="b")
    _click(clicked, START)
    _open(opened, START + timedelta(hours=3))
    first = _order(buyer, START + timedelta(days=1))
    credit = attribution.attribute_order(store=store, order_id=first.pk)
    assert credit is not None and (credit.flow_id, credit.touch) == (5, "click")

    update_store_settings(store=store, attribution_counts_opens=True)
    second = _order(buyer, START + timedelta(days=1, hours=1))
    credit = attribution.attribute_order(store=store, order_id=second.pk)
    assert credit is not None and (credit.flow_id, credit.touch) == (4, "open")


def test_messages_without_a_flow_and_other_customers_earn_nothing(
    store: Store, other_store: Store
) -> None:
    buyer = CustomerFactory(store=store)
    someone = CustomerFactory(store=store)
    _click(_message(store, buyer, flow_id=None, key="staff-test"), START)
    _click(_message(store, someone, flow_id=6, key="b"), START)
    outsider = CustomerFactory(store=other_store, email=buyer.email)
    _click(_message(other_store, outsider, flow_id=7, key="c"), START)
    order = _order(buyer, START + timedelta(days=1))
    assert attribution.attribute_order(store=store, order_id=order.pk) is None


@pytest.mark.parametrize("days", [0, 91, True])
def test_the_window_must_be_between_one_and_ninety_days(store: Store, days: int) -> None:
    from aftercare.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="attribution_window_days"):
        update_store_settings(store=store, attribution_window_days=days)
