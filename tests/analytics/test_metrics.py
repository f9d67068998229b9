"""The metric definitions against small stores computed by hand, through the real mirror and
the incremental refresh — and the full rebuild must agree with it every time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftercare.analytics import rebuild
from aftercare.analytics.models import CustomerStats
from aftercare.customers.models import Customer
from aftercare.ingest import mirror
from aftercare.ingest.woo_records import CustomerIdentity, CustomerRecord
from aftercare.stores.models import Store
from tests.analytics.conftest import day_rows, run_refresh, stats_rows
from tests.analytics.factories import at, order_record, place

pytestmark = pytest.mark.django_db
D = Decimal


def _refreshed_equals_rebuilt(store: Store) -> dict[str, dict[str, object]]:
    run_refresh(store)
    incremental = (day_rows(store), stats_rows(store))
    rebuild.rebuild_store(store=store)
    assert (day_rows(store), stats_rows(store)) == incremental
    return incremental[0]


def _day(**figures: object) -> dict[str, object]:
    row: dict[str, object] = {
        "orders_new": 0, "orders_returning": 0, "revenue_new": D("0"),
        "revenue_returning": D("0"), "gross_revenue": D("0"), "refunded": D("0"),
        "refunded_orders": 0, "new_customers": 0, "cohort_repeat_90": 0,
    }  # fmt: skip
    row.update(figures)
    return row


def test_new_and_returning_orders_with_partial_and_full_refunds(store: Store) -> None:
    place(
        store,
        order_record(email="ann@example.com", created=at("2026-03-01 10:00"), total="100.00"),
        order_record(
            email="ann@example.com",
            created=at("2026-03-01 15:00"),
            total="50.00",
            refunds=[(1, "20.00")],
        ),
        order_record(
            email="bob@example.com",
            created=at("2026-03-01 16:00"),
            total="80.00",
            status="refunded",
            refunds=[(2, "80.00")],
        ),
        order_record(email="ann@example.com", created=at("2026-06-15 10:00"), total="30.00"),
    )
    days = _refreshed_equals_rebuilt(store)
    assert days["2026-03-01"] == _day(
        orders_new=2, orders_returning=1,
        revenue_new=D("100.00"),  # Ann's first 100 + Bob's 80 - 80
        revenue_returning=D("30.00"),  # 50 - 20
        gross_revenue=D("230.00"), refunded=D("100.00"), refunded_orders=2,
        new_customers=2, cohort_repeat_90=1,  # Ann's second order came the same day
    )  # fmt: skip
    assert days["2026-06-15"] == _day(
        orders_returning=1, revenue_returning=D("30.00"), gross_revenue=D("30.00")
    )
    ann = CustomerStats.objects.get(customer__email="ann@example.com")
    assert (ann.orders_count, ann.total_spent) == (3, D("160.00"))
    assert ann.first_order_at == at("2026-03-01 10:00")
    assert ann.second_order_at == at("2026-03-01 15:00")
    assert ann.last_order_at == at("2026-06-15 10:00")


def test_unpaid_statuses_are_not_sales(store: Store) -> None:
    for status in ("pending", "on-hold", "failed", "cancelled", "checkout-draft"):
        place(
            store,
            order_record(
                email=f"{status}@example.com", status=status, created=at("2026-03-01 10:00")
            ),
        )
    place(
        store,
        order_record(
            email="x@example.com", status="refunded", paid=False, created=at("2026-03-01 10:00")
        ),
    )
    assert _refreshed_equals_rebuilt(store) == {}
    assert set(CustomerStats.objects.values_list("orders_count", flat=True)) == {0}


def test_an_order_cancelled_after_payment_drops_out_and_the_next_one_becomes_new(
    store: Store,
) -> None:
    first = order_record(
        email="ann@example.com", created=at("2026-03-01 10:00"), status="processing", external_id=1
    )
    place(
        store,
        first,
        order_record(email="ann@example.com", created=at("2026-03-05 10:00"), external_id=2),
    )
    days = _refreshed_equals_rebuilt(store)
    assert days["2026-03-05"]["orders_returning"] == 1
    place(
        store,
        order_record(
            email="ann@example.com",
            created=at("2026-03-01 10:00"),
            status="cancelled",
            external_id=1,
            paid=True,
            modified=at("2026-03-03 10:00"),
        ),
    )
    days = _refreshed_equals_rebuilt(store)
    assert "2026-03-01" not in days
    assert days["2026-03-05"] == _day(
        orders_new=1, revenue_new=D("100.00"), gross_revenue=D("100.00"), new_customers=1
    )


def test_days_are_store_days_in_its_time_zone(store: Store) -> None:
    store.time_zone = "America/New_York"
    store.save()
    place(
        store,
        # 03:30 UTC on March 2 is 22:30 on March 1 in New York (EST, UTC-5).
        order_record(email="a@example.com", created=at("2026-03-02 03:30")),
        order_record(email="b@example.com", created=at("2026-03-02 05:00")),
        # After the DST switch (March 8), EDT is UTC-4: 03:59 UTC is 23:59 the day before.
        order_record(email="c@example.com", created=at("2026-03-10 03:59")),
        order_record(email="d@example.com", created=at("2026-03-10 04:00")),
    )
    days = _refreshed_equals_rebuilt(store)
    assert {day: row["orders_new"] for day, row in days.items()} == {
        "2026-03-01": 1, "2026-03-02": 1, "2026-03-09": 1, "2026-03-10": 1,
    }  # fmt: skip


def test_a_late_earlier_order_reclassifies_another_day(store: Store) -> None:
    place(store, order_record(email="ann@example.com", created=at("2026-02-10 10:00")))
    days = _refreshed_equals_rebuilt(store)
    assert days["2026-02-10"]["orders_new"] == 1 and days["2026-02-10"]["new_customers"] == 1
    # A delivery from January arrives late (a sync catching up): Ann was a customer already.
    place(
        store, order_record(email="ann@example.com", created=at("2026-01-05 10:00"), total="70.00")
    )
    days = _refreshed_equals_rebuilt(store)
    # Jan 5 → Feb 10 is 36 days: Ann is in January 5's cohort and came back within 90 days.
    assert days["2026-01-05"] == _day(
        orders_new=1,
        revenue_new=D("70.00"),
        gross_revenue=D("70.00"),
        new_customers=1,
        cohort_repeat_90=1,
    )
    assert days["2026-02-10"] == _day(
        orders_returning=1, revenue_returning=D("100.00"), gross_revenue=D("100.00")
    )
    place(
        store,
        order_record(email="bob@example.com", created=at("2026-01-05 11:00")),
        order_record(email="bob@example.com", created=at("2026-04-06 11:00")),
    )  # 91 days
    days = _refreshed_equals_rebuilt(store)
    assert days["2026-01-05"]["new_customers"] == 2
    assert days["2026-01-05"]["cohort_repeat_90"] == 1


def test_a_refund_after_the_fact_lowers_the_day_the_order_was_placed(store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00"), external_id=9))
    assert _refreshed_equals_rebuilt(store)["2026-03-01"]["revenue_new"] == D("100.00")
    place(
        store,
        order_record(
            email="a@example.com",
            created=at("2026-03-01 10:00"),
            external_id=9,
            refunds=[(5, "25.00")],
            modified=at("2026-04-01 10:00"),
        ),
    )
    day = _refreshed_equals_rebuilt(store)["2026-03-01"]
    assert (day["revenue_new"], day["refunded"], day["refunded_orders"]) == (
        D("75.00"),
        D("25.00"),
        1,
    )


def test_a_trashed_order_leaves_the_figures(store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00"), external_id=9))
    _refreshed_equals_rebuilt(store)
    mirror.mark_deleted(store=store, resource="order", external_id=9, at=at("2026-03-05 10:00"))
    assert _refreshed_equals_rebuilt(store) == {}


def test_an_account_taking_over_a_guest_merges_their_histories(store: Store) -> None:
    place(
        store,
        order_record(email="old@example.com", created=at("2026-01-10 10:00")),
        order_record(email="new@example.com", created=at("2026-02-10 10:00")),
    )
    account = CustomerIdentity(email="old@example.com", external_id=7)
    mirror.apply_customers(
        store=store,
        records=[
            CustomerRecord(
                external_id=7,
                identity=account,
                date_created=at("2025-12-01 00:00"),
                date_modified=at("2026-01-01 00:00"),
            )
        ],
    )
    days = _refreshed_equals_rebuilt(store)
    assert days["2026-02-10"]["orders_new"] == 1
    # The account's email changes to the guest's: one person, two orders.
    moved = CustomerIdentity(email="new@example.com", external_id=7)
    mirror.apply_customers(
        store=store,
        records=[
            CustomerRecord(
                external_id=7,
                identity=moved,
                date_created=at("2025-12-01 00:00"),
                date_modified=at("2026-03-01 00:00"),
            )
        ],
    )
    assert Customer.objects.filter(store=store).count() == 1
    days = _refreshed_equals_rebuilt(store)
    assert days["2026-02-10"]["orders_returning"] == 1
    assert days["2026-01-10"]["cohort_repeat_90"] == 1
    assert CustomerStats.objects.get().orders_count == 2


def test_stores_do_not_mix(store: Store, other_store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00")))
    place(
        other_store,
        order_record(email="a@example.com", created=at("2026-03-01 10:00"), total="5.00"),
    )
    run_refresh(store)
    run_refresh(other_store)
    assert day_rows(store)["2026-03-01"]["gross_revenue"] == D("100.00")
    assert day_rows(other_store)["2026-03-01"]["gross_revenue"] == D("5.00")
