"""A guest who bought, then made an account: when the account takes the guest's email through the
real mirror path, the account keeps everything of the guest — above all their "no" to marketing.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftercare.analytics.models import CustomerStats
from aftercare.customers import consent, merging
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentChange, ConsentState, Customer, CustomerTag, Tag
from aftercare.events.models import Event
from aftercare.flows import matcher, services
from aftercare.flows.models import FlowRun, RunStatus, ScheduledStep, StepStatus
from aftercare.ingest import mirror, woo_mapping
from aftercare.ingest.woo_records import CustomerRecord, OrderRecord
from aftercare.messaging import outbox
from aftercare.messaging.models import ContactThrottle, Message, MessageStatus
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.analytics.conftest import run_refresh
from tests.shared_data import woo_json

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
EMAIL = "new@example.com"
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def shop(store: Store) -> Store:
    store.languages = ["en", "ko", "ja"]
    store.save()
    return store


def guest_order(order_id: int, *, email: str = EMAIL) -> OrderRecord:
    """The real WooCommerce order, as a guest checkout (no customer id) of `email`."""
    order = copy.deepcopy(woo_json("order.json"))
    order.update(id=order_id, number=str(order_id), customer_id=0, refunds=[])
    order["billing"]["email"] = email
    return woo_mapping.parse_order(order)


def account_record(*, email: str | None = None, modified: datetime | None = None) -> CustomerRecord:
    """The real WooCommerce customer (id 2), optionally with a new email and modified time."""
    data = copy.deepcopy(woo_json("customer.json"))
    if email is not None:
        data["email"] = email
    if modified is not None:
        data["date_modified_gmt"] = modified.strftime("%Y-%m-%dT%H:%M:%S")
    return woo_mapping.parse_customer(data)


def say(customer: Customer, state: ConsentState, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        consent.change_consent(
            customer=customer, channel=ConsentChannel.EMAIL, state=state, source="test"
        )


def take_email(store: Store, at: datetime) -> Customer:
    """The account changes its email to the guest's: the mirror merges the guest into it."""
    with time_machine.travel(at, tick=False):
        mirror.apply_customers(store=store, records=[account_record(email=EMAIL, modified=at)])
    return Customer.objects.get(store=store, external_id=2)


def tag(customer: Customer, name: str) -> None:
    found, _ = Tag.objects.get_or_create(
        store=customer.store, name=name, defaults={"created_at": T0}
    )
    CustomerTag.objects.create(customer=customer, tag=found, added_at=T0, source="api")


def test_the_account_keeps_all_of_the_guest_and_stays_unsubscribed(shop: Store) -> None:
    with time_machine.travel(T0, tick=False):
        services.enable_preset(store=shop, name="review-request")
        mirror.apply_customers(store=shop, records=[account_record()])
    account = Customer.objects.get(store=shop, external_id=2)
    say(account, ConsentState.GRANTED, T0)
    ContactThrottle.objects.create(
        store=shop, customer=account, channel="email", last_marketing_at=T0 - timedelta(days=3)
    )
    tag(account, "wholesale")

    with time_machine.travel(T1, tick=False):
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(501)])
        matcher.match_pending()
        guest = Customer.objects.get(store=shop, email=EMAIL)
        assert not guest.is_registered
        [step] = ScheduledStep.objects.filter(customer=guest)
        assert step.status == StepStatus.PENDING  # the review request, 14 days out
        order = Order.objects.get(store=shop, external_id=501)
        sent = outbox.queue(
            store=shop,
            customer=guest,
            channel="email",
            category="transactional",
            template_key="thank-you",
            idempotency_key="test:thank-you",
            order_id=order.pk,
            now=T1,
            zone=UTC_ZONE,
        )
        Message.objects.filter(pk=sent.message_id).update(status=MessageStatus.SENT, sent_at=T1)
        consent.change_consent(
            customer=guest,
            channel=ConsentChannel.EMAIL,
            state=ConsentState.DENIED,
            source="one_click_unsubscribe",
        )
        consent.set_topics(customer=guest, unsubscribed=["offers"], source="preferences_page")
        consent.set_preferred_locale(customer=guest, locale="ko", source="preferences_page")
    tag(guest, "VIP")
    tag(guest, "wholesale")  # both carry it: one link stays
    ContactThrottle.objects.create(
        store=shop, customer=guest, channel="email", last_marketing_at=T1
    )
    guest_id = guest.pk
    guest_events = Event.objects.filter(customer_id=guest_id).count()

    account = take_email(shop, T2)

    assert not Customer.objects.filter(pk=guest_id).exists()
    assert Customer.objects.filter(store=shop, email=EMAIL).get().pk == account.pk
    assert (account.marketing_consent, account.consent_source, account.consent_at) == (
        ConsentState.DENIED,
        "one_click_unsubscribe",
        T1,
    )
    assert account.topic_opt_outs == ["offers"]
    assert account.preferred_locale == "ko"
    assert sorted(
        CustomerTag.objects.filter(customer=account).values_list("tag__name", flat=True)
    ) == ["VIP", "wholesale"]
    assert ConsentChange.objects.filter(customer=account).count() == 2  # granted, then denied
    step.refresh_from_db()
    assert (step.status, step.customer_id) == (StepStatus.PENDING, account.pk)
    assert FlowRun.objects.get(pk=step.run_id).customer_id == account.pk
    message = Message.objects.get(pk=sent.message_id)
    assert (message.customer_id, message.status) == (account.pk, MessageStatus.SENT)
    [throttle] = ContactThrottle.objects.filter(customer=account)
    assert throttle.last_marketing_at == T1  # the later of the two: the cap does not reset
    assert Order.objects.get(pk=order.pk).customer_id == account.pk
    assert Event.objects.filter(customer_id=guest_id).count() == 0
    assert Event.objects.filter(customer_id=account.pk).count() >= guest_events

    # Marketing to the account is refused for consent, as it was for the guest.
    marketing = outbox.queue(
        store=shop,
        customer=account,
        channel="email",
        category="marketing",
        template_key="win-back",
        idempotency_key="test:win-back",
        now=T2,
        zone=UTC_ZONE,
    )
    assert marketing.status == "skipped"
    assert marketing.reason == "unsubscribed from email marketing"

    # Analytics: the guest's figures are gone; the account's follow from the merge's event.
    run_refresh(shop)
    assert not CustomerStats.objects.filter(customer_id=guest_id).exists()
    assert CustomerStats.objects.get(customer=account).orders_count == 1


def test_a_newer_grant_on_the_account_beats_an_older_guest_unsubscribe(shop: Store) -> None:
    with time_machine.travel(T0, tick=False):
        mirror.apply_customers(store=shop, records=[account_record()])
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(601)])
    guest = Customer.objects.get(store=shop, email=EMAIL)
    account = Customer.objects.get(store=shop, external_id=2)
    say(guest, ConsentState.DENIED, T0)
    say(account, ConsentState.GRANTED, T1)

    account = take_email(shop, T2)

    assert (account.marketing_consent, account.consent_at) == (ConsentState.GRANTED, T1)
    assert Customer.objects.get(pk=account.pk).marketing_consent == ConsentState.GRANTED


@pytest.mark.parametrize(
    ("guest_state", "guest_at", "account_state", "account_at", "wins"),
    [
        ("denied", T0, "granted", T0, "guest"),  # same time: the "no"
        ("granted", T0, "denied", T0, "account"),
        ("granted", None, "unknown", None, "guest"),  # a decision over none
        ("denied", None, "granted", T1, "guest"),  # unknown time: the "no"
        ("unknown", None, "granted", T1, "account"),
        ("granted", T1, "denied", T0, "guest"),  # most recent decision
    ],
)
def test_consent_rule(
    guest_state: str,
    guest_at: datetime | None,
    account_state: str,
    account_at: datetime | None,
    wins: str,
) -> None:
    guest = Customer(pk=1, marketing_consent=guest_state, consent_at=guest_at)
    account = Customer(pk=2, marketing_consent=account_state, consent_at=account_at)
    winner = merging.consent_winner(guest=guest, account=account)
    assert winner is (guest if wins == "guest" else account)


def test_a_run_of_the_same_subject_is_not_kept_twice(shop: Store) -> None:
    """A welcome flow started for the guest and for the account: one person, one live run."""
    with time_machine.travel(T0, tick=False):
        flow = services.create_flow(
            store=shop,
            status="active",
            data={
                "name": "Welcome",
                "category": "marketing",
                "trigger": {"type": "customer.created"},
                "steps": [
                    {"key": "wait", "type": "wait", "days": 3},
                    {"key": "hello", "type": "action", "action": "send_email",
                     "params": {"template": "win-back"}},
                ],
            },
        )  # fmt: skip
        mirror.apply_customers(store=shop, records=[account_record()])
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(701)])
        matcher.match_pending()
    guest = Customer.objects.get(store=shop, email=EMAIL)
    account = Customer.objects.get(store=shop, external_id=2)
    guest_run = FlowRun.objects.get(flow=flow, customer=guest)
    account_run = FlowRun.objects.get(flow=flow, customer=account)
    assert guest_run.subject_key == f"customer:{guest.pk}"
    # A threshold run keyed on the guest alone is re-keyed on the account.
    threshold = FlowRun.objects.create(
        store=shop,
        flow=flow,
        customer=guest,
        subject_key=f"threshold:orders_count:3:customer:{guest.pk}",
        started_at=T0,
    )

    take_email(shop, T2)

    account_run.refresh_from_db()
    guest_run.refresh_from_db()
    threshold.refresh_from_db()
    assert account_run.status == RunStatus.ACTIVE
    assert ScheduledStep.objects.get(run=account_run).status == StepStatus.PENDING
    assert (guest_run.status, guest_run.customer_id) == (RunStatus.CANCELLED, account.pk)
    assert "merged" in guest_run.exit_reason
    assert ScheduledStep.objects.get(run=guest_run).status == StepStatus.CANCELLED
    assert threshold.subject_key == f"threshold:orders_count:3:customer:{account.pk}"
    assert threshold.customer_id == account.pk
    live = FlowRun.objects.filter(flow=flow, customer=account, status=RunStatus.ACTIVE)
    assert sorted(live.values_list("pk", flat=True)) == sorted([account_run.pk, threshold.pk])


def test_nothing_of_another_store_is_touched(shop: Store, other_store: Store) -> None:
    with time_machine.travel(T0, tick=False):
        services.enable_preset(store=other_store, name="review-request")
        mirror.apply_orders(store=other_store, source="woocommerce", records=[guest_order(801)])
        matcher.match_pending()
        mirror.apply_customers(store=shop, records=[account_record()])
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(802)])
    theirs = Customer.objects.get(store=other_store, email=EMAIL)
    say(theirs, ConsentState.DENIED, T0)
    tag(theirs, "VIP")
    ContactThrottle.objects.create(
        store=other_store, customer=theirs, channel="email", last_marketing_at=T0
    )
    before = {
        "orders": list(Order.objects.filter(store=other_store).values_list("pk", "customer_id")),
        "runs": list(FlowRun.objects.filter(store=other_store).values_list("pk", "customer_id")),
        "steps": list(
            ScheduledStep.objects.filter(store=other_store).values_list("pk", "customer_id")
        ),
        "events": Event.objects.filter(store=other_store, customer_id=theirs.pk).count(),
        "tags": list(CustomerTag.objects.filter(customer=theirs).values_list("pk", flat=True)),
        "throttle": list(ContactThrottle.objects.filter(customer=theirs).values_list("pk")),
        "consent": ConsentChange.objects.filter(customer=theirs).count(),
    }

    account = take_email(shop, T2)

    theirs.refresh_from_db()  # still there, unchanged
    assert (theirs.email, theirs.marketing_consent) == (EMAIL, ConsentState.DENIED)
    after = {
        "orders": list(Order.objects.filter(store=other_store).values_list("pk", "customer_id")),
        "runs": list(FlowRun.objects.filter(store=other_store).values_list("pk", "customer_id")),
        "steps": list(
            ScheduledStep.objects.filter(store=other_store).values_list("pk", "customer_id")
        ),
        "events": Event.objects.filter(store=other_store, customer_id=theirs.pk).count(),
        "tags": list(CustomerTag.objects.filter(customer=theirs).values_list("pk", flat=True)),
        "throttle": list(ContactThrottle.objects.filter(customer=theirs).values_list("pk")),
        "consent": ConsentChange.objects.filter(customer=theirs).count(),
    }
    assert after == before
    assert account.marketing_consent == ConsentState.UNKNOWN  # ours knew nothing


def test_merge_refuses_two_stores(shop: Store, other_store: Store) -> None:
    with time_machine.travel(T0, tick=False):
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(901)])
        mirror.apply_orders(store=other_store, source="woocommerce", records=[guest_order(902)])
    ours = Customer.objects.get(store=shop)
    theirs = Customer.objects.get(store=other_store)
    with pytest.raises(ValueError, match="two stores"):
        merging.merge(guest=ours, account=theirs)
    assert Customer.objects.filter(pk=ours.pk).exists()


def test_an_unsubscribe_committed_after_the_guest_was_read_is_merged(shop: Store) -> None:
    """The mirror read the guest row before the unsubscribe committed: merge reads it again under
    a lock, so the "no" moves to the account instead of going with the deleted row."""
    with time_machine.travel(T0, tick=False):
        mirror.apply_customers(store=shop, records=[account_record()])
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(951)])
    stale_guest = Customer.objects.get(store=shop, email=EMAIL)
    account = Customer.objects.get(store=shop, external_id=2)
    say(Customer.objects.get(pk=stale_guest.pk), ConsentState.DENIED, T1)
    assert stale_guest.marketing_consent == ConsentState.UNKNOWN  # what the mirror holds

    merging.merge(guest=stale_guest, account=account)

    assert Customer.objects.get(pk=account.pk).marketing_consent == ConsentState.DENIED
    assert not Customer.objects.filter(pk=stale_guest.pk).exists()


def test_links_already_sent_to_the_guest_reach_the_account(shop: Store) -> None:
    """A preferences link, a one-click unsubscribe and an order page mailed to the guest before
    the merge name the guest's id: they still open, and act on the account."""
    from django.test import Client

    from aftercare.core import signed_links

    with time_machine.travel(T0, tick=False):
        mirror.apply_customers(store=shop, records=[account_record()])
        mirror.apply_orders(store=shop, source="woocommerce", records=[guest_order(701)])
    guest = Customer.objects.get(store=shop, email=EMAIL)
    say(guest, ConsentState.GRANTED, T0)
    order = Order.objects.get(store=shop, external_id=701)
    old = {"store_id": shop.pk, "customer_id": guest.pk}
    preferences = signed_links.make_token(purpose="preferences", subject_id=guest.pk, **old)
    order_url = signed_links.make_link(purpose="order", subject_id=order.pk, **old)

    account = take_email(shop, T1)
    assert not Customer.objects.filter(pk=guest.pk).exists()

    client = Client()
    page = client.get(signed_links.build_url(purpose="preferences", token=preferences))
    assert page.status_code == 200
    assert client.get(order_url).status_code == 200
    response = client.post(f"/api/v1/unsubscribe/{preferences}")
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.marketing_consent == ConsentState.DENIED
    # A forged subject (someone else's id under the guest's) is still refused.
    forged = signed_links.make_token(purpose="preferences", subject_id=account.pk, **old)
    assert client.post(f"/api/v1/unsubscribe/{forged}").status_code == 404
