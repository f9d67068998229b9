"""The mirror's identity and consent rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aftercare.customers.models import ConsentChange, Customer
from aftercare.events.models import Event
from aftercare.ingest import mirror, woo_mapping
from aftercare.ingest.mirror.result import Outcome
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db


def _order(order_id: int, *, email: str, customer_id: int = 0, **changes: Any):
    order = copy.deepcopy(woo_json("order.json"))
    order.update(id=order_id, customer_id=customer_id, refunds=[], **changes)
    order["billing"]["email"] = email
    return woo_mapping.parse_order(order)


def test_guest_orders_link_by_email_case_insensitively(store: Store) -> None:
    mirror.apply_orders(
        store=store,
        source="woocommerce",
        records=[_order(1, email="Ann@Example.com"), _order(2, email="ann@example.com ")],
    )
    assert Customer.objects.filter(store=store).count() == 1
    assert Order.objects.filter(customer__email="ann@example.com").count() == 2
    assert Event.objects.filter(type="customer.created").count() == 1


def test_guest_who_registers_keeps_one_row(store: Store) -> None:
    mirror.apply_orders(
        store=store, source="woocommerce", records=[_order(1, email="jane.buyer@example.com")]
    )
    guest = Customer.objects.get()
    assert not guest.is_registered
    mirror.apply_customers(
        store=store, records=[woo_mapping.parse_customer(woo_json("customer.json"))]
    )
    customer = Customer.objects.get()
    assert customer.pk == guest.pk and customer.is_registered and customer.external_id == 2


def test_account_email_change_merges_the_guest_row(store: Store) -> None:
    mirror.apply_customers(
        store=store, records=[woo_mapping.parse_customer(woo_json("customer.json"))]
    )
    mirror.apply_orders(
        store=store, source="woocommerce", records=[_order(5, email="new@example.com")]
    )
    changed = copy.deepcopy(woo_json("customer.json"))
    changed["email"] = "new@example.com"
    changed["date_modified_gmt"] = "2026-11-23T00:00:00"
    mirror.apply_customers(store=store, records=[woo_mapping.parse_customer(changed)])
    account = Customer.objects.get(store=store)
    assert account.external_id == 2 and account.email == "new@example.com"
    assert Order.objects.get(external_id=5).customer_id == account.pk


def test_checkout_opt_in_grants_and_an_unticked_box_does_not_revoke(store: Store) -> None:
    opt_in = [{"id": 1, "key": "marketing_opt_in", "value": "1"}]
    opt_out = [{"id": 1, "key": "marketing_opt_in", "value": "0"}]
    mirror.apply_orders(
        store=store,
        source="woocommerce",
        records=[_order(1, email="a@example.com", meta_data=opt_in)],
    )
    mirror.apply_orders(
        store=store,
        source="woocommerce",
        records=[_order(2, email="a@example.com", meta_data=opt_out)],
    )
    customer = Customer.objects.get()
    assert customer.marketing_consent == "granted"
    assert list(ConsentChange.objects.values_list("state", flat=True)) == ["granted"]


def test_same_timestamp_other_content_is_applied(store: Store) -> None:
    mirror.apply_orders(
        store=store, source="woocommerce", records=[_order(1, email="a@example.com")]
    )
    result = mirror.apply_orders(
        store=store,
        source="woocommerce",
        records=[_order(1, email="a@example.com", customer_note="call me")],
    )
    assert result.outcomes == [Outcome.UPDATED]
    again = mirror.apply_orders(
        store=store,
        source="woocommerce",
        records=[_order(1, email="a@example.com", customer_note="call me")],
    )
    assert again.outcomes == [Outcome.UNCHANGED]


def test_stores_are_isolated(store: Store, other_store: Store) -> None:
    for s in (store, other_store):
        mirror.apply_orders(
            store=s, source="woocommerce", records=[_order(1, email="a@example.com")]
        )
    assert Order.objects.filter(external_id=1).count() == 2
    assert Customer.objects.filter(email="a@example.com").count() == 2


def test_an_old_checkout_opt_in_never_undoes_a_newer_unsubscribe(store: Store) -> None:
    """Someone who unsubscribed on the preferences page stays unsubscribed when an older order
    (a late webhook, a replay, an import of history) arrives with the opt-in box ticked; a new
    checkout where they tick it again does subscribe them."""
    from datetime import UTC, datetime

    import time_machine

    from aftercare.customers import consent
    from aftercare.customers.models import ConsentState

    opt_in = [{"id": 1, "key": "marketing_opt_in", "value": "1"}]
    mirror.apply_orders(store=store, source="woocommerce",
                        records=[_order(1, email="a@example.com", meta_data=opt_in)])
    customer = Customer.objects.get()
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, tzinfo=UTC)):
        consent.change_consent(customer=customer, channel=consent.ConsentChannel.EMAIL,
                               state=ConsentState.DENIED, source="preferences_page")
    late = _order(2, email="a@example.com", meta_data=opt_in,
                  date_created_gmt="2026-11-20T10:00:00", date_modified_gmt="2026-11-20T10:00:00")
    mirror.apply_orders(store=store, source="woocommerce", records=[late])
    assert Customer.objects.get().marketing_consent == ConsentState.DENIED
    newer = _order(3, email="a@example.com", meta_data=opt_in,
                   date_created_gmt="2026-11-23T10:00:00", date_modified_gmt="2026-11-23T10:00:00")
    mirror.apply_orders(store=store, source="woocommerce", records=[newer])
    assert Customer.objects.get().marketing_consent == ConsentState.GRANTED


def test_a_change_without_a_status_move_is_still_an_event_once(store: Store) -> None:
    """An edited order (here: its total) changes figures derived from it, so it is published as
    `order.updated`; the same version again publishes nothing."""
    mirror.apply_orders(store=store, source="woocommerce",
                        records=[_order(1, email="a@example.com")])
    edited = _order(1, email="a@example.com", total="99.00",
                    date_modified_gmt="2026-11-23T10:00:00")
    for _ in range(2):
        mirror.apply_orders(store=store, source="woocommerce", records=[edited])
    updated = Event.objects.filter(store=store, type="order.updated")
    assert updated.count() == 1
    assert updated.get().payload["total"] == "99.00"
