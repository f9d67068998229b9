"""Batch look-ups (messaging.lookups.BatchLookups) give the answers a query per read would:
the same variables and the same rendered messages, the right answer for what was not hinted,
idempotency, suppressions and the frequency cap kept current within a batch, a bounded number
of queries, and nothing of another store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.catalog.models import Category, Product
from aftercare.customers.models import Customer
from aftercare.flows import matcher, runner, services
from aftercare.flows.models import ScheduledStep, StepStatus
from aftercare.messaging import outbox, recommendations, variables
from aftercare.messaging.lookups import BatchLookups, Hint, Lookups
from aftercare.messaging.models import ContactThrottle, Message, MessageTemplate, Suppression
from aftercare.messaging.outbox import QueueResult
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.analytics.factories import order_record, place
from tests.mirror_factories import (
    CustomerFactory,
    CustomerStatsFactory,
    LineItemFactory,
    OrderFactory,
)

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # noon in UTC: outside quiet hours
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def _fresh_best_sellers() -> Iterator[None]:
    """The best-seller ranking is cached per store id in the process: never across tests."""
    recommendations.forget_best_sellers()
    yield
    recommendations.forget_best_sellers()


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class Rollback(Exception):
    """Raised to undo a savepoint on purpose."""


# --- the mirror -------------------------------------------------------------------------------


def product(store: Store, external_id: int, **fields: Any) -> Product:
    categories = fields.pop("categories", [])
    defaults: dict[str, Any] = {
        "name": f"{store.slug} product {external_id}",
        "permalink": f"https://{store.slug}.example/product/p{external_id}/",
        "price": Decimal("10.00"),
        "stock_status": "instock",
        "images": [{"src": f"https://{store.slug}.example/img/{external_id}.jpg", "alt": ""}],
    }
    created = Product.objects.create(store=store, external_id=external_id, **(defaults | fields))
    created.categories.set(categories)
    return created


def category(store: Store, external_id: int) -> Category:
    return Category.objects.create(store=store, external_id=external_id, name=f"C{external_id}")


def order_of(customer: Customer, *lines: tuple[int | None, int], **fields: Any) -> Order:
    """An order with (product external id, quantity) lines."""
    order = OrderFactory(store=customer.store, customer=customer, **fields)
    for product_id, quantity in lines:
        LineItemFactory(
            order=order,
            product_external_id=product_id,
            name=f"Line of {product_id}",
            quantity=quantity,
            unit_price=Decimal("12.50"),
            total=Decimal("12.50") * quantity,
        )
    return order


def grant(customer: Customer) -> Customer:
    customer.marketing_consent = "granted"
    customer.save(update_fields=["marketing_consent"])
    return customer


@dataclass(frozen=True)
class Job:
    """One message of a batch."""

    customer: Customer
    template_key: str
    category: str
    key: str
    order_id: int | None = None

    def hint(self) -> Hint:
        return Hint(
            store_id=self.customer.store_id,
            customer_id=self.customer.pk,
            order_id=self.order_id,
            idempotency_key=self.key,
            addresses=(("email", self.customer.email), ("sms", self.customer.phone)),
        )


def catalogue(store: Store) -> None:
    """Products with cross-sells, upsells and categories; some not purchasable, one deleted.
    Written in shop-id order: rows written out of that order are
    test_batch_variables_do_not_depend_on_the_order_rows_come_back_in's business."""
    c1, c2 = category(store, 1), category(store, 2)
    product(store, 1, cross_sell_ids=[2, 3, 20], upsell_ids=[4], categories=[c1])
    product(store, 2, stock_status="outofstock", categories=[c1])
    product(store, 3, categories=[c1])
    product(store, 4, upsell_ids=[40], categories=[c2])
    product(store, 5, deleted_at=NOW - timedelta(days=3), categories=[c1])
    product(store, 20, cross_sell_ids=[5, 31], categories=[c2])
    product(store, 30, categories=[c1])  # a best seller of C1
    product(store, 31, categories=[c1, c2])  # a best seller of both
    product(store, 32, categories=[c2], status="draft")
    product(store, 40, type="variation", categories=[c2])
    product(store, 41, categories=[c2], stock_status="onbackorder")
    # Sales of the last 90 days, for the best sellers.
    buyer = CustomerFactory(store=store, email=f"buyer@{store.slug}.example")
    order_of(buyer, (30, 5), (31, 3), (3, 1), status="completed", date_created=NOW - timedelta(10))
    order_of(buyer, (31, 4), (32, 9), status="processing", date_created=NOW - timedelta(20))


def world(store: Store) -> list[Job]:
    """A realistic batch in `store`: customers with and without figures, orders whose products
    exist, are deleted or unknown, a suppressed address, a message already queued, a recent
    and an old frequency-cap row, two marketing mails to one customer."""
    catalogue(store)
    tag = store.slug
    ann = grant(CustomerFactory(store=store, email=f"ann@{tag}.example", first_name="Ann"))
    CustomerStatsFactory(customer=ann, orders_count=4, total_spent=Decimal("250.00"))
    bo = grant(CustomerFactory(store=store, email=f"bo@{tag}.example", first_name="Bo"))
    cy = grant(CustomerFactory(store=store, email=f"  Cy@{tag.upper()}.example ", first_name="Cy"))
    Suppression.objects.create(
        store=store, channel="email", address=f"cy@{tag}.example", reason="hard_bounce",
        created_at=NOW,
    )  # fmt: skip
    di = grant(CustomerFactory(store=store, email=f"di@{tag}.example", locale="ko_KR"))
    CustomerStatsFactory(customer=di, orders_count=1, total_spent=Decimal("12.50"))
    ContactThrottle.objects.create(
        store=store, customer=di, channel="email", last_marketing_at=NOW - timedelta(hours=2)
    )
    ed = grant(CustomerFactory(store=store, email=f"ed@{tag}.example"))
    ContactThrottle.objects.create(
        store=store, customer=ed, channel="email", last_marketing_at=NOW - timedelta(days=3)
    )
    fay = CustomerFactory(store=store, email=f"fay@{tag}.example")  # no consent (opt-in store)
    gus = grant(CustomerFactory(store=store, email="", first_name="Gus"))
    store.languages = ["en", "ko"]
    store.save()

    a1 = order_of(ann, (1, 2), (20, 1), (99, 1), (None, 1))  # 99: unknown; None: a fee line
    a2 = order_of(ann, (5, 1), (3, 2))  # 5: deleted in the shop
    b1 = order_of(bo, (4, 1))
    c1 = order_of(cy, (1, 1))
    d1 = order_of(di, (30, 1), (41, 1))
    e1 = order_of(ed, (3, 1), discount_total=Decimal("2.00"), coupon_codes=["HELLO"])
    f1 = order_of(fay, (1, 1))
    empty = order_of(bo)  # no lines
    Message.objects.create(
        store=store, customer=bo, channel="email", category="transactional",
        recipient=bo.email, idempotency_key="job:b1:thanks", next_attempt_at=NOW,
        created_at=NOW,
    )  # fmt: skip
    jobs = [
        Job(ann, "thank-you", "transactional", "job:a1:thanks", a1.pk),
        Job(ann, "cross-sell", "marketing", "job:a1:cross", a1.pk),
        Job(ann, "cross-sell", "marketing", "job:a2:cross", a2.pk),  # capped by the one before
        Job(ann, "order-completed", "transactional", "job:a2:done", a2.pk),
        Job(bo, "thank-you", "transactional", "job:b1:thanks", b1.pk),  # already queued
        Job(bo, "cross-sell", "marketing", "job:b1:cross", b1.pk),
        Job(bo, "thank-you", "transactional", "job:empty:thanks", empty.pk),
        Job(cy, "thank-you", "transactional", "job:c1:thanks", c1.pk),  # suppressed
        Job(cy, "cross-sell", "marketing", "job:c1:cross", c1.pk),  # suppressed
        Job(di, "cross-sell", "marketing", "job:d1:cross", d1.pk),  # capped: recent row
        Job(di, "thank-you", "transactional", "job:d1:thanks", d1.pk),
        Job(ed, "cross-sell", "marketing", "job:e1:cross", e1.pk),  # old row: sent
        Job(ed, "win-back", "marketing", "job:ed:winback"),  # capped by the one before
        Job(fay, "cross-sell", "marketing", "job:f1:cross", f1.pk),  # no consent
        Job(fay, "thank-you", "transactional", "job:f1:thanks", f1.pk),
        Job(gus, "thank-you", "transactional", "job:gus:thanks"),  # no address
    ]
    return jobs


def built(job: Job, lookups: Lookups | None) -> dict[str, Any]:
    store = job.customer.store
    order = Order.objects.filter(pk=job.order_id).first() if job.order_id else None
    if lookups is not None and job.order_id:
        order = lookups.order(store=store, order_id=job.order_id)
    return variables.build(
        store=store,
        customer=job.customer,
        order=order,
        locale=outbox.language_for(store=store, customer=job.customer),
        links={"order_url": f"https://aftercare.example/o/{job.order_id}"},
        lookups=lookups,
    )


def queue(job: Job, lookups: Lookups | None, *, cap_hours: int | None = None) -> QueueResult:
    return outbox.queue(
        store=job.customer.store,
        customer=job.customer,
        channel="email",
        category=job.category,
        template_key=job.template_key,
        idempotency_key=job.key,
        now=NOW,
        zone=UTC_ZONE,
        order_id=job.order_id,
        cap_hours=cap_hours,
        lookups=lookups,
    )


_SIGNED = re.compile(r"(/m/[co]/TOKEN/(?:\d+/)?)[0-9a-f]+")  # tracking URLs sign the token


def frozen(message: Message) -> dict[str, Any]:
    """A message row as it was written, without its id and its random tracking token."""
    token = message.tracking_token
    fields = {
        f.attname: getattr(message, f.attname)
        for f in Message._meta.concrete_fields
        if f.attname not in ("id", "tracking_token")
    }
    return {
        name: _SIGNED.sub(r"\1SIG", value.replace(token, "TOKEN"))
        if token and isinstance(value, str)
        else value
        for name, value in fields.items()
    }


def outcome(result: QueueResult) -> tuple[str, str, dict[str, Any] | None]:
    message = Message.objects.filter(pk=result.message_id or 0).first()
    return result.status, result.reason, frozen(message) if message is not None else None


def run_batch(jobs: list[Job], lookups: Lookups | None) -> list[tuple[Any, ...]]:
    """Queue every job, then undo it all (the mirror as it was, for the other run)."""
    outcomes: list[tuple[Any, ...]] = []
    try:
        with transaction.atomic():
            for job in jobs:
                outcomes.append(outcome(queue(job, lookups)))
            throttles = sorted(
                ContactThrottle.objects.values_list("customer_id", "channel", "last_marketing_at")
            )
            outcomes.append(("throttles", throttles))
            raise Rollback
    except Rollback:
        pass
    return outcomes


def assert_same(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    """Equal outcomes; on a difference, which message and which fields."""
    assert len(got) == len(expected)
    for index, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        if mine == theirs:
            continue
        if isinstance(mine[-1], dict) and isinstance(theirs[-1], dict):
            fields = {
                k: (mine[-1][k], theirs[-1].get(k))
                for k in mine[-1]
                if mine[-1][k] != theirs[-1].get(k)
            }
            pytest.fail(f"message {index} differs: {mine[:2]} vs {theirs[:2]}: {fields}")
        pytest.fail(f"outcome {index} differs: {mine} vs {theirs}")


# --- 1. equivalence ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_variables_equal_a_query_per_read_for_a_realistic_mix(
    store: Store, other_store: Store
) -> None:
    jobs = world(store) + world(other_store)
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    for job in jobs:
        expected = built(job, None)
        assert built(job, batch) == expected, job.key
    # The mix is what it says: recommendations, unknown and deleted products, both stores.
    ann_a1 = built(jobs[0], None)
    assert [item["product_url"] == "" for item in ann_a1["order"]["items"]] == [
        False, False, True, True,
    ]  # fmt: skip
    assert ann_a1["recommended_products"] and ann_a1["customer"]["orders_count"] == 4


@pytest.mark.django_db
def test_batch_variables_do_not_depend_on_the_order_rows_come_back_in(store: Store) -> None:
    """Product 20 is written before product 1 and both have cross-sells: the batch must
    suggest what a query per read suggests."""
    customer = CustomerFactory(store=store)
    product(store, 20, cross_sell_ids=[21, 22, 23])
    product(store, 1, cross_sell_ids=[11, 12, 13])
    for external_id in (21, 22, 23, 11, 12, 13):
        product(store, external_id)
    order = order_of(customer, (1, 1), (20, 1))
    job = Job(customer, "cross-sell", "marketing", "k", order.pk)
    batch = BatchLookups(hints=[job.hint()])
    assert built(job, batch)["recommended_products"] == built(job, None)["recommended_products"]


@pytest.mark.django_db
def test_batch_queue_writes_the_same_messages_as_a_query_per_read(
    store: Store, other_store: Store
) -> None:
    jobs = world(store) + world(other_store)
    expected = run_batch(jobs, None)
    got = run_batch(jobs, BatchLookups(hints=[job.hint() for job in jobs]))
    assert_same(got, expected)
    statuses = [
        (status, reason.split(" (")[0].split(":")[0]) for status, reason, *_ in expected[:16]
    ]
    assert statuses == [
        ("queued", ""),
        ("queued", ""),
        ("skipped", "frequency cap"),
        ("queued", ""),
        ("queued", "already queued"),
        ("queued", ""),
        ("queued", ""),
        ("skipped", "address suppressed"),
        ("skipped", "address suppressed"),
        ("skipped", "frequency cap"),
        ("queued", ""),
        ("queued", ""),
        ("skipped", "frequency cap"),
        ("skipped", "no email marketing consent"),
        ("queued", ""),
        ("skipped", "no email address"),
    ]


@pytest.mark.django_db
def test_half_hinted_batch_writes_the_same_messages(store: Store) -> None:
    """Only every other job hinted: the rest falls back, the answers stay the same."""
    jobs = world(store)
    expected = run_batch(jobs, None)
    assert_same(run_batch(jobs, BatchLookups(hints=[job.hint() for job in jobs[::2]])), expected)


_PRODUCT_IDS = (1, 2, 3, 4, 5, 6)
scenario = st.fixed_dictionaries(
    {
        "products": st.lists(
            st.tuples(
                st.sampled_from(_PRODUCT_IDS),
                st.lists(st.sampled_from((*_PRODUCT_IDS, 77)), max_size=3),  # cross-sells
                st.lists(st.sampled_from(_PRODUCT_IDS), max_size=2),  # upsells
                st.sampled_from(("instock", "outofstock", "deleted", "draft")),
                st.sets(st.sampled_from((1, 2)), max_size=2),  # categories
            ),
            max_size=6,
            unique_by=lambda p: p[0],
        ),
        "customers": st.lists(
            st.tuples(
                st.booleans(),  # has CustomerStats
                st.lists(  # orders: lines of (product id or an unknown one, quantity)
                    st.lists(
                        st.tuples(st.sampled_from((*_PRODUCT_IDS, 99)), st.integers(1, 3)),
                        max_size=3,
                    ),
                    max_size=2,
                ),
            ),
            min_size=1,
            max_size=3,
        ),
        "sold": st.lists(st.sampled_from(_PRODUCT_IDS), max_size=4),
        "hinted": st.booleans(),
    }
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=scenario)
def test_property_batch_variables_equal_a_query_per_read(
    store: Store, case: dict[str, Any]
) -> None:
    recommendations.forget_best_sellers()
    try:
        with transaction.atomic():
            categories = {n: category(store, n) for n in (1, 2)}
            # Written in shop-id order: the order rows come back in is another test's business.
            for external_id, cross, up, state, cats in sorted(case["products"]):
                product(
                    store,
                    external_id,
                    cross_sell_ids=cross,
                    upsell_ids=up,
                    stock_status="outofstock" if state == "outofstock" else "instock",
                    status="draft" if state == "draft" else "publish",
                    deleted_at=NOW if state == "deleted" else None,
                    categories=[categories[c] for c in sorted(cats)],
                )
            seller = CustomerFactory(store=store)
            order_of(seller, *[(p, 2) for p in case["sold"]], status="completed")
            jobs = []
            for n, (has_stats, orders) in enumerate(case["customers"]):
                customer = CustomerFactory(store=store)
                if has_stats:
                    CustomerStatsFactory(customer=customer, orders_count=n + 1)
                jobs.append(Job(customer, "cross-sell", "marketing", f"k{n}"))
                for m, lines in enumerate(orders):
                    order = order_of(customer, *lines)
                    jobs.append(Job(customer, "cross-sell", "marketing", f"k{n}:{m}", order.pk))
            hints = [job.hint() for job in jobs] if case["hinted"] else [jobs[0].hint()]
            batch = BatchLookups(hints=hints)
            for job in jobs:
                assert built(job, batch) == built(job, None), job.key
            raise Rollback
    except Rollback:
        pass


# --- 2. fallbacks -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_what_was_not_hinted_is_read_from_the_database(store: Store) -> None:
    catalogue(store)
    hinted = CustomerFactory(store=store, email="hinted@example.com")
    other = CustomerFactory(store=store, email="other@example.com")
    CustomerStatsFactory(customer=other, orders_count=7, total_spent=Decimal("70.00"))
    hinted_order = order_of(hinted, (1, 1))
    other_order = order_of(other, (3, 1), (4, 2), (5, 1))
    Suppression.objects.create(
        store=store, channel="email", address="other@example.com", reason="complaint",
        created_at=NOW,
    )  # fmt: skip
    ContactThrottle.objects.create(
        store=store, customer=other, channel="email", last_marketing_at=NOW
    )
    written = Message.objects.create(
        store=store, customer=other, channel="email", category="marketing",
        recipient=other.email, idempotency_key="not-hinted", next_attempt_at=NOW, created_at=NOW,
    )  # fmt: skip
    batch = BatchLookups(
        hints=[
            Hint(
                store_id=store.pk,
                customer_id=hinted.pk,
                order_id=hinted_order.pk,
                idempotency_key="hinted",
                addresses=(("email", hinted.email),),
            )
        ]
    )
    assert batch.existing_message(store=store, key="hinted") is None
    assert batch.existing_message(store=store, key="not-hinted") == written.pk
    assert batch.suppression(store=store, channel="email", address=" Other@Example.com") == (
        "complaint"
    )
    assert batch.suppression(store=store, channel="email", address="hinted@example.com") == ""
    assert batch.suppression(store=store, channel="sms", address="other@example.com") == ""
    assert batch.has_throttle(customer_id=other.pk, channel="email") is None  # not known
    assert batch.has_throttle(customer_id=hinted.pk, channel="email") is False
    assert batch.customer_figures(customer_id=other.pk) == (7, Decimal("70.00"))
    assert batch.customer_figures(customer_id=hinted.pk) == (0, Decimal(0))
    found = batch.order(store=store, order_id=other_order.pk)
    assert found is not None and found.pk == other_order.pk
    assert sorted(line.product_external_id or 0 for line in found.lines.all()) == [3, 4, 5]
    products = batch.products(store=store, external_ids=[1, 3, 4, 5, 99])
    assert sorted(products) == [1, 3, 4]  # 5 is deleted, 99 unknown
    assert products == Lookups().products(store=store, external_ids=[1, 3, 4, 5, 99])
    by_ext = batch.purchasable_by_external_id(store=store, external_ids=[2, 3, 30, 40, 41, 32])
    assert sorted(by_ext) == [3, 30]
    pk_of = {p.external_id: p.pk for p in Product.objects.filter(store=store)}
    assert batch.category_ids(product_pks=[pk_of[4], pk_of[3]]) == Lookups().category_ids(
        product_pks=[pk_of[4], pk_of[3]]
    )
    assert batch.purchasable_by_pk(store=store, pks=[pk_of[30], pk_of[2]]) == {
        pk_of[30]: Product.objects.get(pk=pk_of[30])
    }
    assert batch.order(store=store, order_id=10**9) is None


@pytest.mark.django_db
def test_an_order_hinted_under_another_store_is_still_found_in_its_own(
    store: Store, other_store: Store
) -> None:
    theirs = order_of(CustomerFactory(store=other_store), (1, 1))
    batch = BatchLookups(
        hints=[Hint(store_id=store.pk, customer_id=None, order_id=theirs.pk, idempotency_key="k")]
    )
    assert batch.order(store=store, order_id=theirs.pk) is None
    found = batch.order(store=other_store, order_id=theirs.pk)
    assert found is not None and found.pk == theirs.pk


# --- 3. idempotency within a batch ------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_key_twice_in_a_batch_writes_one_message(store: Store) -> None:
    customer = CustomerFactory(store=store)
    order = order_of(customer, (1, 1))
    job = Job(customer, "thank-you", "transactional", "flow:1:run:1:step:send", order.pk)
    batch = BatchLookups(hints=[job.hint(), job.hint()])
    first = queue(job, batch)
    second = queue(job, batch)
    assert first.status == "queued" and first.reason == "" and first.message_id is not None
    assert second == QueueResult(
        status="queued", reason="already queued", message_id=first.message_id
    )
    assert Message.objects.filter(store=store).count() == 1


@pytest.mark.django_db
def test_a_message_written_before_the_batch_is_found(store: Store) -> None:
    customer = CustomerFactory(store=store)
    job = Job(customer, "thank-you", "transactional", "flow:1:run:1:step:send")
    earlier = queue(job, None)
    again = queue(job, BatchLookups(hints=[job.hint()]))
    assert again == QueueResult(
        status="queued", reason="already queued", message_id=earlier.message_id
    )
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_rolled_back_message_is_not_remembered(store: Store) -> None:
    customer = CustomerFactory(store=store)
    job = Job(customer, "thank-you", "transactional", "flow:1:run:1:step:send")
    batch = BatchLookups(hints=[job.hint()])
    mark = batch.checkpoint()  # what the runner does around each action's savepoint
    with pytest.raises(Rollback), transaction.atomic():
        queue(job, batch)
        raise Rollback
    batch.roll_back(mark)
    again = queue(job, batch)
    assert again.reason == "" and Message.objects.filter(pk=again.message_id or 0).exists()


# --- 4. suppressions --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("category_", ["transactional", "marketing"])
def test_a_hinted_suppressed_address_is_skipped(store: Store, category_: str) -> None:
    customer = grant(CustomerFactory(store=store, email="  Bounced@Example.COM "))
    Suppression.objects.create(
        store=store, channel="email", address="bounced@example.com", reason="hard_bounce",
        created_at=NOW,
    )  # fmt: skip
    fine = grant(CustomerFactory(store=store, email="fine@example.com"))
    jobs = [Job(customer, "thank-you", category_, "k1"), Job(fine, "thank-you", category_, "k2")]
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    assert queue(jobs[0], batch) == QueueResult(
        status="skipped", reason="address suppressed (hard_bounce)"
    )
    assert queue(jobs[1], batch).status == "queued"
    assert list(Message.objects.values_list("recipient", flat=True)) == ["fine@example.com"]


@pytest.mark.django_db
def test_a_suppression_of_another_store_or_channel_does_not_count(
    store: Store, other_store: Store
) -> None:
    customer = CustomerFactory(store=store, email="x@example.com", phone="+15550001")
    Suppression.objects.create(
        store=other_store, channel="email", address="x@example.com", reason="complaint",
        created_at=NOW,
    )  # fmt: skip
    Suppression.objects.create(
        store=store, channel="sms", address="x@example.com", reason="manual", created_at=NOW
    )
    job = Job(customer, "thank-you", "transactional", "k")
    batch = BatchLookups(hints=[job.hint()])
    assert batch.suppression(store=store, channel="email", address="x@example.com") == ""
    assert batch.suppression(store=other_store, channel="email", address="X@example.com") == (
        "complaint"
    )
    assert queue(job, batch).status == "queued"


# --- 5. the frequency cap within a batch ------------------------------------------------------


def _throttle_of(customer: Customer) -> datetime | None:
    return (
        ContactThrottle.objects.filter(customer=customer, channel="email")
        .values_list("last_marketing_at", flat=True)
        .first()
    )


@pytest.mark.django_db
def test_frequency_cap_in_a_batch(store: Store) -> None:
    twice = grant(CustomerFactory(store=store))
    recent = grant(CustomerFactory(store=store))
    old = grant(CustomerFactory(store=store))
    ContactThrottle.objects.create(
        store=store, customer=recent, channel="email", last_marketing_at=NOW - timedelta(hours=1)
    )
    ContactThrottle.objects.create(
        store=store, customer=old, channel="email", last_marketing_at=NOW - timedelta(days=2)
    )
    jobs = [
        Job(twice, "win-back", "marketing", "twice:1"),
        Job(twice, "win-back", "marketing", "twice:2"),
        Job(recent, "win-back", "marketing", "recent"),
        Job(old, "win-back", "marketing", "old"),
        Job(twice, "thank-you", "transactional", "twice:receipt"),  # no cap on transactional
    ]
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    results = [queue(job, batch) for job in jobs]
    capped = QueueResult(
        status="skipped", reason="frequency cap: another marketing message within 16 h"
    )
    assert [r.status for r in results] == ["queued", "skipped", "skipped", "queued", "queued"]
    assert results[1] == capped and results[2] == capped
    assert _throttle_of(twice) == NOW  # inserted
    assert _throttle_of(recent) == NOW - timedelta(hours=1)  # untouched
    assert _throttle_of(old) == NOW  # updated
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_no_cap_still_records_the_time_in_a_batch(store: Store) -> None:
    customer = grant(CustomerFactory(store=store))
    jobs = [Job(customer, "win-back", "marketing", f"k{n}") for n in range(2)]
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    assert [queue(job, batch, cap_hours=0).status for job in jobs] == ["queued", "queued"]
    assert _throttle_of(customer) == NOW


@pytest.mark.django_db
def test_a_rolled_back_message_gives_its_slot_back_within_the_batch(store: Store) -> None:
    customer = grant(CustomerFactory(store=store))
    jobs = [Job(customer, "win-back", "marketing", f"k{n}") for n in range(2)]
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    mark = batch.checkpoint()  # what the runner does around each action's savepoint
    with pytest.raises(Rollback), transaction.atomic():
        assert queue(jobs[0], batch).status == "queued"
        raise Rollback
    batch.roll_back(mark)
    assert not ContactThrottle.objects.exists() and not Message.objects.exists()
    second = queue(jobs[1], batch)
    assert (second.status, second.reason) == ("queued", "")
    assert _throttle_of(customer) == NOW


@pytest.mark.django_db
def test_a_rolled_back_update_of_an_old_row_gives_the_slot_back(store: Store) -> None:
    customer = grant(CustomerFactory(store=store))
    ContactThrottle.objects.create(
        store=store, customer=customer, channel="email", last_marketing_at=NOW - timedelta(days=2)
    )
    jobs = [Job(customer, "win-back", "marketing", f"k{n}") for n in range(2)]
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    with pytest.raises(Rollback), transaction.atomic():
        assert queue(jobs[0], batch).status == "queued"
        raise Rollback
    assert _throttle_of(customer) == NOW - timedelta(days=2)
    assert queue(jobs[1], batch).status == "queued"
    assert _throttle_of(customer) == NOW


# --- 6. queries -------------------------------------------------------------------------------


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries]


def _many(store: Store, n: int) -> list[Job]:
    catalogue(store)
    jobs = []
    for i in range(n):
        customer = grant(CustomerFactory(store=store, email=f"many{i}@example.com"))
        if i % 2:
            CustomerStatsFactory(customer=customer, orders_count=i)
        if i % 3 == 0:
            ContactThrottle.objects.create(
                store=store, customer=customer, channel="email",
                last_marketing_at=NOW - timedelta(days=2),
            )  # fmt: skip
        order = order_of(customer, (1, 1), (20, 1), (i % 5 + 2, 1), (99, 1))
        jobs.append(Job(customer, "cross-sell", "marketing", f"many:{i}", order.pk))
    return jobs


# Measured (SQLite and PostgreSQL): 14 statements for the batch, whatever its size — the
# existing messages, the suppressions, the frequency-cap rows, the orders and their lines, the
# ordered products, the customers' figures, the template, the store's connection, the
# categories, the best sellers (two, cached per store), the cross-sells and upsells, the best
# sellers' rows — and 2 per marketing email: the INSERT of the message and the frequency-cap
# slot, taken row by row (an INSERT … ON CONFLICT DO NOTHING of a customer without a row, or
# the conditional UPDATE of an existing one). A query per read costs ~12 per email (367 for 30).
PER_MESSAGE = 2
PER_BATCH = 20


@pytest.mark.django_db
@pytest.mark.parametrize("n", [10, 30])
def test_a_batch_of_emails_costs_a_bounded_number_of_queries(store: Store, n: int) -> None:
    jobs = _many(store, n)
    batch = BatchLookups(hints=[job.hint() for job in jobs])
    with CaptureQueriesContext(connection) as context:
        results = [queue(job, batch) for job in jobs]
    assert {r.status for r in results} == {"queued"}
    assert Message.objects.count() == n
    statements = _statements(context)
    inserts = [s for s in statements if s.startswith('INSERT INTO "messaging_message"')]
    assert len(inserts) == n
    assert len(statements) <= PER_BATCH + PER_MESSAGE * n, "\n".join(statements)


@pytest.mark.django_db
def test_a_query_per_read_costs_more_than_the_batch_bound(store: Store) -> None:
    """The bound above catches a regression to per-message reads."""
    jobs = _many(store, 30)
    with CaptureQueriesContext(connection) as context:
        for job in jobs:
            queue(job, None)
    assert len(context.captured_queries) > PER_BATCH + PER_MESSAGE * 30


# The runner, measured: 21 statements for the batch (the claim, the steps, stores, flows,
# customers and facts, the message look-ups above, the steps' bulk UPDATE, the runs' finish)
# and 3 per transactional send-email step: the step's SAVEPOINT, the message's INSERT, RELEASE.
RUNNER_PER_STEP = 3
RUNNER_PER_BATCH = 27


def _due_thank_yous(store: Store, n: int) -> None:
    services.enable_preset(store=store, name="thank-you")
    for i in range(n):
        place(store, order_record(email=f"due{i}@example.com", created=NOW, status="processing"))
    matcher.match_pending()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [10, 30])
def test_the_runner_on_due_send_email_steps_stays_under_a_bound(store: Store, n: int) -> None:
    _due_thank_yous(store, n)
    assert ScheduledStep.objects.filter(status=StepStatus.PENDING).count() == n
    with CaptureQueriesContext(connection) as context:
        assert runner.run_due(limit=200) == n
    assert Message.objects.count() == n
    assert set(ScheduledStep.objects.values_list("status", flat=True)) == {StepStatus.DONE}
    statements = _statements(context)
    assert len(statements) <= RUNNER_PER_BATCH + RUNNER_PER_STEP * n, "\n".join(statements)


# --- 7. tenant isolation ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_of_two_stores_never_answers_with_the_other_stores_rows(
    store: Store, other_store: Store
) -> None:
    MessageTemplate.objects.create(
        store=other_store, key="thank-you", locale="en", channel="email",
        subject="Globex thanks {{ customer.first_name }}", body="Globex only", updated_at=NOW,
    )  # fmt: skip
    jobs: dict[str, list[Job]] = {}
    for shop in (store, other_store):
        catalogue(shop)
        customer = grant(CustomerFactory(store=shop, email="same@example.com"))
        CustomerStatsFactory(customer=customer, orders_count=shop.pk)
        order = order_of(customer, (1, 1), (20, 1), (5, 1), (99, 1), external_id=7000)
        jobs[shop.slug] = [
            Job(customer, "thank-you", "transactional", "same-key", order.pk),
            Job(customer, "cross-sell", "marketing", "same-key:cross", order.pk),
        ]
    ours, theirs = jobs[store.slug], jobs[other_store.slug]
    # What store A lacks, store B has: its 5 is not deleted, it knows 99, and its 2 and 41
    # (cross-sells and upsells of A's ordered products too) are in stock.
    Product.objects.filter(store=other_store, external_id=5).update(deleted_at=None)
    Product.objects.filter(store=other_store, external_id__in=[2, 41]).update(
        stock_status="instock"
    )
    product(other_store, 99)
    Message.objects.create(
        store=other_store, customer=theirs[0].customer, channel="email",
        category="transactional", recipient="same@example.com", idempotency_key="same-key",
        next_attempt_at=NOW, created_at=NOW,
    )  # fmt: skip
    Suppression.objects.create(
        store=other_store, channel="email", address="same@example.com", reason="complaint",
        created_at=NOW,
    )  # fmt: skip
    batch = BatchLookups(hints=[job.hint() for job in theirs + ours])

    assert batch.order(store=store, order_id=theirs[0].order_id or 0) is None
    mine = batch.products(store=store, external_ids=[1, 5, 20, 99])
    assert sorted(mine) == [1, 20] and {p.store_id for p in mine.values()} == {store.pk}
    assert sorted(batch.products(store=other_store, external_ids=[1, 5, 20, 99])) == [
        1, 5, 20, 99,
    ]  # fmt: skip
    purchasable = batch.purchasable_by_external_id(store=store, external_ids=[2, 3, 4, 31, 41])
    assert sorted(purchasable) == [3, 4, 31]
    assert {p.store_id for p in purchasable.values()} == {store.pk}
    template = batch.template(store=store, key="thank-you", locale="en", channel="email")
    assert "Globex" not in template.subject + template.body
    for job in ours:
        variables_ = built(job, batch)
        assert variables_ == built(job, None)
        assert other_store.slug not in repr(variables_)
    results = [queue(job, batch) for job in ours]
    assert [(r.status, r.reason) for r in results] == [("queued", ""), ("queued", "")]
    for result in results:
        message = Message.objects.get(pk=result.message_id or 0)
        assert message.store_id == store.pk
        assert other_store.slug not in message.body_html + message.body_text
        assert "Globex" not in message.subject + message.body_text
    # The other store's message is still theirs, and its address still suppressed there.
    assert queue(theirs[0], batch).reason == "already queued"
    assert queue(theirs[1], batch).reason == "address suppressed (complaint)"
