"""The demo store: the BG/NBD simulator against its closed form, the planned history (pure), and
the store built through the real ingest path (mirror rows, events, the command)."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Sum
from hypothesis import given
from hypothesis import strategies as st

from aftercare.catalog.models import Coupon, Product
from aftercare.customers.models import ConsentChange, Customer
from aftercare.demo import bgnbd, seasons
from aftercare.demo.builder import DemoSummary, build_demo_store
from aftercare.demo.history import plan_history
from aftercare.demo.order_payloads import render_order
from aftercare.demo.payloads import Renderer
from aftercare.events.models import Event
from aftercare.ingest import mirror, woo_mapping
from aftercare.orders.models import LineItem, Order, Refund
from aftercare.stores.models import Store
from aftercare.stores.services import create_store
from tests.shared_data import woo_json

ANCHOR = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

# -- the BG/NBD process ----------------------------------------------------------------------


def _wave(t: float) -> float:
    return 0.5 + 0.5 * math.sin(t / 8.0)


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    first=st.floats(min_value=0, max_value=60, allow_nan=False),
    span=st.floats(min_value=0, max_value=120, allow_nan=False),
    seasonal=st.booleans(),
)
def test_purchase_times_are_sorted_and_inside_the_window(
    seed: int, first: float, span: float, seasonal: bool
) -> None:
    times = bgnbd.simulate_purchases(
        params=bgnbd.CDNOW,
        first=first,
        end=first + span,
        rng=random.Random(seed),
        weight=_wave if seasonal else None,
    )
    assert times[0] == first
    assert times == sorted(times)
    assert all(first < t <= first + span for t in times[1:])


def test_mean_repeat_purchases_in_39_weeks_match_the_closed_form() -> None:
    expected = bgnbd.expected_repeats(params=bgnbd.CDNOW, t=39.0)
    rng = random.Random(2005)
    n = 20_000
    repeats = [
        len(bgnbd.simulate_purchases(params=bgnbd.CDNOW, first=0.0, end=39.0, rng=rng)) - 1
        for _ in range(n)
    ]
    mean = sum(repeats) / n
    assert 1.1 < expected < 1.3  # CDNOW: about 1.2 repeat purchases in the first 39 weeks
    assert mean == pytest.approx(expected, rel=0.06)
    # Most customers never come back; a few buy often.
    assert 0.5 < repeats.count(0) / n < 0.65
    assert sum(1 for x in repeats if x >= 4) / n > 0.05


def test_hypergeometric_series_matches_a_closed_form() -> None:
    for z in (0.0, 0.3, 0.9, 0.99):
        closed = 1.0 if z == 0 else -math.log(1 - z) / z  # 2F1(1, 1; 2; z)
        assert bgnbd.hyp2f1(a=1, b=1, c=2, z=z) == pytest.approx(closed, rel=1e-9)


def test_seasons_peak_in_the_gift_season_and_average_one() -> None:
    days = [datetime(2025, 1, 1, 12, tzinfo=UTC) + timedelta(days=d) for d in range(365)]
    weights = [seasons.seasonal_weight(at=day) for day in days]
    assert sum(weights) / len(weights) == pytest.approx(1.0, abs=0.03)
    assert max(weights) <= seasons.WEIGHT_MAX
    black_friday = datetime.combine(seasons.black_friday(year=2025), datetime.min.time(), UTC)
    july = datetime(2025, 7, 15, tzinfo=UTC)
    assert seasons.seasonal_weight(at=black_friday) > 2 * seasons.seasonal_weight(at=july)


# -- the planned history (pure) --------------------------------------------------------------


def _payloads(
    *, customers: int, seed: int, currency: str = "USD"
) -> dict[str, list[dict[str, Any]]]:
    plan = plan_history(customers=customers, seed=seed, anchor=ANCHOR, currency=currency)
    render = Renderer(plan=plan, site="https://t.shop.example", time_zone="America/New_York")
    return {
        "products": render.products(),
        "coupons": render.coupons(),
        "customers": render.customers(),
        "orders": [render_order(renderer=render, order=o) for o in plan.orders],
    }


def _digest(payloads: dict[str, list[dict[str, Any]]]) -> str:
    raw = json.dumps(payloads, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def test_a_seed_gives_the_same_history_and_another_seed_another() -> None:
    first = _digest(_payloads(customers=150, seed=7))
    assert _digest(_payloads(customers=150, seed=7)) == first
    assert _digest(_payloads(customers=150, seed=8)) != first


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_every_order_adds_up_like_woocommerce(currency: str) -> None:
    payloads = _payloads(customers=250, seed=3, currency=currency)
    codes = {coupon["code"] for coupon in payloads["coupons"]}
    for payload in payloads["orders"]:
        order = woo_mapping.parse_order(payload)
        line_totals = sum((line.total for line in order.lines), start=Decimal("0"))
        line_taxes = sum((line.total_tax for line in order.lines), start=Decimal("0"))
        assert order.total == (
            order.subtotal - order.discount_total + order.shipping_total + order.total_tax
        )
        assert line_totals == order.subtotal - order.discount_total
        assert line_taxes == order.total_tax
        assert 1 <= len(order.lines) <= 4 and all(line.quantity >= 1 for line in order.lines)
        assert set(order.coupon_codes) <= codes
        assert sum((r.amount for r in order.refunds), start=Decimal("0")) <= order.total
        assert order.currency == currency
        if currency == "JPY":
            assert order.total == order.total.to_integral()


def test_a_default_size_history_has_the_problems_later_modules_look_for() -> None:
    plan = plan_history(customers=1500, seed=42, anchor=ANCHOR, currency="USD")
    statuses = Counter(order.fate.status for order in plan.orders)
    assert 2500 < len(plan.orders) < 4500
    assert statuses["completed"] / len(plan.orders) > 0.85
    assert {"processing", "on-hold", "pending", "failed", "cancelled", "refunded"} <= set(statuses)
    long_on_hold = [
        o for o in plan.orders if o.fate.status == "on-hold" and ANCHOR - o.created > timedelta(30)
    ]
    assert long_on_hold
    months = Counter(order.created.month for order in plan.orders)
    assert months[12] > 1.5 * months[7]  # the gift season beats summer
    assert all(order.created <= ANCHOR for order in plan.orders)


# -- the built store -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Store, DemoSummary]]:
    """One 400-customer demo store shared by the read-only tests below, rolled back at the end
    (building it once keeps the suite fast)."""
    with django_db_blocker.unblock(), transaction.atomic():
        store = create_store(slug="demo-shared", name="Demo", time_zone="America/New_York")
        summary = build_demo_store(store=store, now=ANCHOR, customers=400, seed=11)
        yield store, summary
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_most_customers_buy_once_and_a_loyal_few_often(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    per_customer = list(
        Customer.objects.filter(store=store)
        .annotate(n=Count("orders"))
        .filter(n__gt=0)
        .values_list("n", flat=True)
    )
    one_time = sum(1 for n in per_customer if n == 1) / len(per_customer)
    assert 0.5 <= one_time <= 0.75
    assert sum(1 for n in per_customer if n >= 5) >= 5
    assert summary.one_time_share == pytest.approx(one_time)


@pytest.mark.django_db
def test_customers_speak_three_languages_across_time_zones(
    built: tuple[Store, DemoSummary],
) -> None:
    store, _ = built
    customers = Customer.objects.filter(store=store)
    assert {"en", "ko", "ja"} <= set(customers.values_list("locale", flat=True))
    assert len(set(customers.values_list("time_zone", flat=True))) >= 3
    assert customers.filter(is_registered=True).exists()
    assert customers.filter(is_registered=False).exists()
    assert customers.exclude(birthday=None).exists()
    assert customers.filter(marketing_consent="granted").exists()
    assert customers.filter(phone__startswith="+82").exists()  # parsed to E.164
    assert Order.objects.filter(store=store, customer__is_registered=False).exists()


@pytest.mark.django_db
def test_mirrored_totals_are_consistent(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    orders = Order.objects.filter(store=store)
    assert orders.count() == Order.objects.filter(store=store, currency=store.currency).count()
    for order in orders:  # in Python: SQLite does this arithmetic in floating point
        assert order.total == (
            order.subtotal - order.discount_total + order.shipping_total + order.total_tax
        )
    lines = (
        LineItem.objects.filter(order__store=store)
        .values("order_id")
        .annotate(subtotal=Sum("subtotal"), total=Sum("total"))
    )
    by_id = {row["order_id"]: row for row in lines}
    for order in orders:  # Sum() comes back quantised to the field's decimal places
        assert by_id[order.pk]["subtotal"] == order.subtotal
        assert by_id[order.pk]["total"] == order.subtotal - order.discount_total


@pytest.mark.django_db
def test_statuses_refunds_and_coupons(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    orders = Order.objects.filter(store=store)
    statuses = Counter(orders.values_list("status", flat=True))
    assert statuses["completed"] / sum(statuses.values()) > 0.8
    assert {"failed", "cancelled", "refunded"} <= set(statuses)
    refunds = Refund.objects.filter(order__store=store)
    assert refunds.filter(amount__lt=F("order__total")).exists()  # partial
    assert refunds.filter(amount=F("order__total"), order__status="refunded").exists()  # full
    assert 0.02 < refunds.count() / orders.count() < 0.12
    used = {code for codes in orders.values_list("coupon_codes", flat=True) for code in codes}
    assert used and used <= set(Coupon.objects.filter(store=store).values_list("code", flat=True))
    assert Product.objects.filter(store=store).count() == summary.products >= 40
    assert Product.objects.filter(store=store).exclude(cross_sell_ids=[]).count() > 30
    assert summary.created["orders"] == summary.orders == orders.count()


@pytest.mark.django_db
def test_events_are_recorded_as_backfill(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    events = Event.objects.filter(store=store)
    created = events.filter(type="order.created")
    assert created.count() == summary.orders
    assert all(e.payload["backfill"] is True for e in created)
    assert events.filter(type="order.completed").exists()
    assert events.filter(type="order.refunded").exists()
    assert events.filter(type="customer.created").count() == summary.customers


def _mirror_digest(store: Store) -> str:
    orders = Order.objects.filter(store=store).order_by("external_id")
    rows = [
        list(orders.values_list("external_id", "status", "total", "date_created", "content_hash")),
        list(
            LineItem.objects.filter(order__store=store)
            .order_by("order__external_id", "external_id")
            .values_list("order__external_id", "sku", "quantity", "total")
        ),
        list(
            Customer.objects.filter(store=store)
            .order_by("email")
            .values_list("email", "external_id", "first_name", "locale", "time_zone", "phone")
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.mark.django_db
def test_the_same_seed_builds_the_same_store() -> None:
    stores = [create_store(slug=f"d{n}", name="Demo") for n in range(3)]
    for store, seed in zip(stores, (5, 5, 6), strict=True):
        build_demo_store(store=store, now=ANCHOR, customers=120, seed=seed)
    digests = [_mirror_digest(store) for store in stores]
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


# -- the command -----------------------------------------------------------------------------


def _demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_creates_the_store_and_a_rerun_changes_nothing() -> None:
    first = _demo("--store", "tiny", "--customers", "80", "--anchor", "2026-03-01")
    store = Store.objects.get(slug="tiny")
    assert "created store tiny" in first and store.currency == "USD"
    counts = [m.objects.count() for m in (Order, LineItem, Refund, Customer, ConsentChange, Event)]
    second = _demo("--store", "tiny", "--customers", "80", "--anchor", "2026-03-01")
    assert "nothing to do" in second
    assert [
        m.objects.count() for m in (Order, LineItem, Refund, Customer, ConsentChange, Event)
    ] == counts
    assert Order.objects.filter(store=store).latest("date_created").date_created <= datetime(
        2026, 3, 1, tzinfo=UTC
    )


@pytest.mark.django_db
def test_the_command_anchors_on_the_store_creation_time() -> None:
    store = create_store(slug="anchored", name="Demo")
    _demo("--store", "anchored", "--customers", "30")
    latest = Order.objects.filter(store=store).latest("date_created").date_created
    assert latest <= store.created_at
    assert "nothing to do" in _demo("--store", "anchored", "--customers", "30")


@pytest.mark.django_db
def test_the_command_refuses_to_mix_histories_or_touch_a_real_shop(store: Store) -> None:
    _demo("--store", "tiny", "--customers", "30", "--anchor", "2026-03-01")
    with pytest.raises(CommandError, match="another demo history"):
        _demo("--store", "tiny", "--customers", "30", "--anchor", "2026-03-01", "--seed", "9")
    real = woo_mapping.parse_order(woo_json("order.json"))
    mirror.apply_orders(store=store, records=[real], source="woocommerce")
    with pytest.raises(CommandError, match="orders from a shop"):
        _demo("--store", store.slug, "--customers", "30")


@pytest.mark.django_db
def test_a_dry_run_writes_nothing() -> None:
    out = _demo("--store", "ghost", "--customers", "50", "--dry-run", "--anchor", "2026-01-01")
    assert "dry run" in out and "orders:" in out
    assert not Store.objects.filter(slug="ghost").exists()
    assert not Order.objects.filter(store__slug="ghost").exists()


def test_people_are_unreachable() -> None:
    """Demo emails and phones must never reach a real person."""
    payloads = _payloads(customers=200, seed=1)
    for customer in payloads["customers"]:
        assert customer["email"].endswith(".example")
        phone, country = customer["billing"]["phone"], customer["billing"]["country"]
        if phone and country in ("US", "CA"):
            assert "555-01" in phone
        if phone and country == "KR":
            assert phone.startswith("010-0")
    assert date(2026, 5, 1) == ANCHOR.date()
