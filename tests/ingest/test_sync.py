"""The REST sync end to end: a WooCommerce-shaped server → WooClient → sync → the mirror."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from aftercare.catalog.models import Coupon, Product, ProductReview
from aftercare.core.errors import Conflict, DomainError
from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.ingest import sync
from aftercare.ingest.models import SyncRun, SyncStatus, SyncWatermark
from aftercare.orders.models import Order, Refund
from aftercare.stores import connection
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.models import Store
from aftercare.stores.woo.errors import WooError
from tests.factories import StoreFactory
from tests.woo_server import WooServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> Iterator[WooServer]:
    with WooServer(orders=250, customers=30, products=10, coupons=5, reviews=12) as server:
        yield server


def connect(store: Store, shop: WooServer) -> None:
    connection.connect_woocommerce(
        store=store,
        url=shop.url,
        consumer_key=shop.consumer_key,
        consumer_secret=shop.consumer_secret,
        register_webhooks=False,
    )
    shop.requests.clear()


def test_full_sync_fills_the_mirror(store: Store, shop: WooServer) -> None:
    connect(store, shop)
    seen: list[tuple[str, int, int | None]] = []
    run = sync.sync_store(store=store, progress=lambda *args: seen.append(args))

    assert run.status == SyncStatus.SUCCEEDED
    assert Order.objects.filter(store=store).count() == 250
    assert Customer.objects.filter(store=store, external_id__isnull=False).count() == 30
    assert Product.objects.filter(store=store).count() == 10
    assert Coupon.objects.filter(store=store).count() == 5
    assert ProductReview.objects.filter(store=store).count() == 12
    assert run.counts["orders"]["created"] == 250
    assert run.checkpoint["orders"] == {
        "pages_done": [1, 2, 3],
        "total_pages": 3,
        "total": 250,
        "items_done": 250,
        "done": True,
    }
    # Refund details only for the orders that have refunds (every 5th).
    refund_calls = shop.api_requests("/refunds")
    assert len(refund_calls) == 50
    assert Refund.objects.filter(order__store=store).count() == 50
    # History does not trigger flows.
    created = Event.objects.filter(store=store, type="order.created")
    assert created.count() == 250
    assert all(e.payload.get("backfill") is True for e in created)
    # Progress per resource, ending at the totals.
    assert ("orders", 250, 250) in seen
    assert ("customers", 30, 30) in seen
    marks = dict(SyncWatermark.objects.filter(store=store).values_list("resource", "synced_until"))
    assert set(marks) == set(sync.RESOURCES)
    assert all(m == run.started_at - sync.SAFETY_OVERLAP for m in marks.values())


def test_an_unreadable_object_is_recorded_and_the_rest_applied(
    store: Store, shop: WooServer
) -> None:
    shop.data.orders[7]["date_created_gmt"] = "not a date"
    connect(store, shop)
    run = sync.sync_store(store=store, resources=("orders",))
    assert Order.objects.filter(store=store).count() == 249
    assert run.counts["orders"]["rejected"] == 1
    (bad,) = run.counts["rejected_objects"]
    assert bad["resource"] == "orders"
    assert bad["id"] == shop.data.orders[7]["id"]
    assert "date_created_gmt" in bad["reason"]


def test_a_failed_run_resumes_without_applying_any_page_twice(store: Store) -> None:
    with WooServer(orders=1000, customers=20, products=5) as shop:
        connect(store, shop)
        shop.inject(status=500, count=None, path="/wc/v3/orders", pages={7})
        with pytest.raises(WooError):
            sync.sync_store(store=store, resources=("customers", "orders"))
        failed = SyncRun.objects.get(store=store)
        assert failed.status == SyncStatus.FAILED
        assert "HTTP 500" in failed.error
        done_before = set(failed.checkpoint["orders"]["pages_done"])
        assert 7 not in done_before
        assert failed.checkpoint["customers"]["done"] is True

        shop.clear_faults()
        shop.requests.clear()
        resumed = sync.sync_store(store=store, resources=("customers", "orders"))

        assert resumed.pk == failed.pk
        assert resumed.status == SyncStatus.SUCCEEDED
        assert Order.objects.filter(store=store).count() == 1000
        counts = resumed.counts["orders"]
        assert counts["created"] == 1000  # every order applied exactly once
        assert counts["updated"] == counts["unchanged"] == 0
        assert not shop.api_requests("/customers")  # finished resources are not pulled again
        fetched = {
            int(r.query["page"]) for r in shop.api_requests("/wc/v3/orders") if "page" in r.query
        }
        assert fetched == {1} | (set(range(1, 11)) - done_before)


def test_a_live_run_blocks_a_second_one_a_dead_one_is_resumed(
    store: Store, shop: WooServer
) -> None:
    connect(store, shop)

    class Killed(Exception):
        pass

    def die_after_first_order_page(resource: str, done: int, total: int | None) -> None:
        if resource == "orders":
            raise Killed

    with pytest.raises(Killed):
        sync.sync_store(store=store, progress=die_after_first_order_page)
    run = SyncRun.objects.get(store=store)
    # A killed process leaves its run "running" (nothing marks it failed).
    run.status = SyncStatus.RUNNING
    run.save()
    with pytest.raises(Conflict) as caught:
        sync.sync_store(store=store)
    assert caught.value.code == sync.SyncErrorCode.ALREADY_RUNNING
    assert sync.reconcile_store(store=store) is None  # the periodic job just skips

    with time_machine.travel(datetime.now(UTC) + sync.STALE_AFTER + timedelta(minutes=1)):
        resumed = sync.sync_store(store=store)
    assert resumed.pk == run.pk
    assert Order.objects.filter(store=store).count() == 250
    assert resumed.counts["orders"]["created"] == 250


def test_reconcile_asks_only_for_what_changed_since_the_watermark(
    store: Store, shop: WooServer
) -> None:
    connect(store, shop)
    first = sync.sync_store(store=store)
    shop.requests.clear()
    for order in shop.data.orders[:3]:
        shop.touch("orders", order["id"], status="cancelled")

    run = sync.reconcile_store(store=store)

    assert run is not None and run.pk != first.pk
    assert run.since == first.started_at - sync.SAFETY_OVERLAP
    order_query = shop.api_requests("/wc/v3/orders")[0].query
    assert order_query["modified_after"] == run.since.strftime("%Y-%m-%dT%H:%M:%S")
    assert order_query["dates_are_gmt"] == "true"
    assert run.counts["orders"]["updated"] == 3
    assert Order.objects.filter(store=store, status="cancelled").count() == 3
    reviews_query = shop.api_requests("/products/reviews")[0].query
    assert "after" in reviews_query  # reviews have no modification date
    customers_query = shop.api_requests("/customers")[0].query
    assert customers_query["orderby"] == "registered_date"
    assert len(shop.api_requests("/customers")) == 1  # nobody registered since: one page


def test_sync_command_since_uses_modified_after(store: Store, shop: WooServer) -> None:
    connect(store, shop)
    out = io.StringIO()
    call_command(
        "woocommerce",
        "sync",
        "--store=acme",
        "--since=2026-01-05",
        "--resources=orders,products",
        stdout=out,
    )
    assert shop.api_requests("/wc/v3/orders")[0].query["modified_after"] == "2026-01-05T00:00:00"
    assert not shop.api_requests("/customers")
    printed = out.getvalue()
    assert "orders" in printed and "250 created" in printed
    assert "succeeded" in printed


def test_unknown_resources_and_unconnected_stores_are_refused(store: Store) -> None:
    with pytest.raises(DomainError) as unknown:
        sync.sync_store(store=store, resources=("orders", "invoices"))
    assert "invoices" in str(unknown.value)
    with pytest.raises(DomainError) as unconnected:
        sync.sync_store(store=store)
    assert unconnected.value.code == StoreErrorCode.WOO_NOT_CONNECTED


def test_reconcile_all_stores_keeps_going_when_one_shop_fails(
    store: Store, shop: WooServer
) -> None:
    connect(store, shop)
    other = StoreFactory(slug="globex")
    with WooServer(orders=2) as dying:
        connect(other, dying)
    outcomes: dict[str, Any] = sync.reconcile_all_stores()
    assert outcomes["acme"] == "ok"
    assert outcomes["globex"].startswith("woo_unreachable")
    assert Order.objects.filter(store=store).count() == 250
