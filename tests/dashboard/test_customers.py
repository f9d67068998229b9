"""The customer list (search, filters, sort, pages), the customer 360 and its tag editor:
behaviour, tenancy (404 for another store's customer), escaping of customer text, CSRF,
query counts and money visibility."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from aftercare.core import slots
from aftercare.customers import tagging
from aftercare.customers.models import Customer, CustomerTag, Tag
from aftercare.events.models import Event
from aftercare.stores.models import Store
from tests.dashboard.conftest import table_body
from tests.factories import MembershipFactory
from tests.mirror_factories import (
    T0,
    ConsentChangeFactory,
    CustomerFactory,
    CustomerStatsFactory,
    EventFactory,
    LineItemFactory,
    OrderFactory,
    StatusChangeFactory,
)

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def _agent(store: Store) -> Client:
    agent = Client()
    agent.force_login(MembershipFactory(store=store, role="agent").user)
    return agent


def _listed(response: Any) -> list[str]:
    """Emails in the result table, in order."""
    body = table_body(response)
    return re.findall(r'<span class="muted small">([^<]+@[^<]+)</span>', body)


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def people(store: Store) -> dict[str, Customer]:
    return {
        "jane": CustomerFactory(
            store=store, email="jane.doe@example.com", first_name="Jane", last_name="Doe"
        ),
        "john": CustomerFactory(
            store=store, email="john@shop.example", first_name="John", last_name="Janssen"
        ),
        "mina": CustomerFactory(
            store=store, email="mina@example.kr", first_name="민아", last_name="김"
        ),
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("jane.doe@example.com", {"jane.doe@example.com"}),  # exact email
        ("JANE.DOE@", {"jane.doe@example.com"}),  # email prefix, any case
        ("jan", {"jane.doe@example.com", "john@shop.example"}),  # first or last name prefix
        ("Doe", {"jane.doe@example.com"}),
        ("jane doe", {"jane.doe@example.com"}),
        ("doe jane", {"jane.doe@example.com"}),  # either order
        ("민", {"mina@example.kr"}),
        ("oe", set()),  # no infix match: it would scan every customer per keystroke
    ],
)
def test_search_by_email_and_name(
    owner: Client, people: dict[str, Customer], q: str, expected: set[str]
) -> None:
    response = owner.get("/dashboard/customers/", {"q": q})
    assert response.status_code == 200
    assert set(_listed(response)) == expected


def test_search_by_order_number_finds_its_customer(
    owner: Client, store: Store, people: dict[str, Customer]
) -> None:
    OrderFactory(store=store, customer=people["john"], external_id=777, number="A-1001")
    for q in ("A-1001", "#A-1001", "777"):
        response = owner.get("/dashboard/customers/", {"q": q})
        assert _listed(response) == ["john@shop.example"], q
        assert "Exact match" in response.content.decode()


def test_an_exact_email_shows_the_customer_even_when_filters_hide_them(
    owner: Client, people: dict[str, Customer]
) -> None:
    response = owner.get(
        "/dashboard/customers/", {"q": "jane.doe@example.com", "segment": "champions"}
    )
    html = response.content.decode()
    assert _listed(response) == []  # she is not a champion…
    assert f'href="/dashboard/customers/{people["jane"].pk}/"' in html  # …but the link is there


def test_live_search_answers_htmx_with_the_results_only(
    owner: Client, people: dict[str, Customer]
) -> None:
    response = owner.get("/dashboard/customers/", {"q": "jane"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and "jane.doe@example.com" in html
    full = owner.get("/dashboard/customers/", {"q": "jane"}).content.decode()
    assert 'hx-get="/dashboard/customers/"' in full and 'name="q"' in full  # plain GET form too


# --- filters, sort, pages -------------------------------------------------------------------


@pytest.fixture
def shoppers(store: Store) -> dict[str, Customer]:
    big = CustomerFactory(
        store=store, email="big@example.com", locale="ko-KR", marketing_consent="granted"
    )
    mid = CustomerFactory(
        store=store, email="mid@example.com", locale="en", marketing_consent="denied"
    )
    small = CustomerFactory(store=store, email="small@example.com", locale="")
    CustomerFactory(store=store, email="never@example.com", locale="ko")  # no orders
    CustomerStatsFactory(
        customer=big,
        total_spent=Decimal("900.00"),
        orders_count=9,
        segment="champions",
        last_order_at=T0,
    )
    CustomerStatsFactory(
        customer=mid,
        total_spent=Decimal("120.00"),
        orders_count=2,
        segment="loyal",
        last_order_at=T0 - timedelta(days=40),
    )
    CustomerStatsFactory(
        customer=small,
        total_spent=Decimal("15.50"),
        orders_count=1,
        segment="new",
        last_order_at=T0 - timedelta(days=400),
    )
    tagging.add_tag(customer=mid, name="Wholesale")
    return {"big": big, "mid": mid, "small": small}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"segment": "champions"}, {"big"}),
        ({"locale": "ko"}, {"big", "never"}),  # "ko" covers ko-KR
        ({"locale": "none"}, {"small"}),
        ({"consent": "denied"}, {"mid"}),
        ({"consent": "unknown"}, {"small", "never"}),
        ({"spent_min": "100"}, {"big", "mid"}),
        ({"spent_max": "120"}, {"mid", "small"}),
        ({"spent_min": "100", "spent_max": "500"}, {"mid"}),
        ({"last_order_from": "2026-01-01"}, {"big", "mid"}),
        ({"last_order_to": "2026-01-30"}, {"mid", "small"}),
        ({"last_order_from": "2026-01-01", "last_order_to": "2026-01-30"}, {"mid"}),
    ],
)
def test_each_filter(
    owner: Client, shoppers: dict[str, Customer], params: dict[str, str], expected: set[str]
) -> None:
    listed = {email.split("@")[0] for email in _listed(owner.get("/dashboard/customers/", params))}
    assert listed == expected


def test_tag_filter(owner: Client, store: Store, shoppers: dict[str, Customer]) -> None:
    tag = Tag.objects.get(store=store, name="Wholesale")
    listed = _listed(owner.get("/dashboard/customers/", {"tag": tag.pk}))
    assert listed == ["mid@example.com"]


def test_last_order_dates_are_the_shops_days(owner: Client, store: Store) -> None:
    store.time_zone = "Asia/Seoul"  # UTC+9
    store.save()
    late = CustomerFactory(store=store, email="late@example.com")
    # 2026-03-01 20:00 UTC is already 2 March in Seoul.
    CustomerStatsFactory(customer=late, last_order_at=T0.replace(hour=20))
    on_first = owner.get(
        "/dashboard/customers/", {"last_order_from": "2026-03-01", "last_order_to": "2026-03-01"}
    )
    on_second = owner.get(
        "/dashboard/customers/", {"last_order_from": "2026-03-02", "last_order_to": "2026-03-02"}
    )
    assert _listed(on_first) == [] and _listed(on_second) == ["late@example.com"]


def test_bad_filter_values_are_reported_not_fatal(
    owner: Client, shoppers: dict[str, Customer]
) -> None:
    response = owner.get(
        "/dashboard/customers/", {"spent_min": "lots", "last_order_from": "x", "sort": "password"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not an amount" in html and "not a date" in html
    assert len(_listed(response)) == 4


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-spent", ["big", "mid", "small", "never"]),  # no figures: last
        ("spent", ["never", "small", "mid", "big"]),
        ("-last_order", ["big", "mid", "small", "never"]),
        ("-orders", ["big", "mid", "small", "never"]),
        ("email", ["big", "mid", "never", "small"]),
    ],
)
def test_sort(owner: Client, shoppers: dict[str, Customer], sort: str, expected: list[str]) -> None:
    listed = _listed(owner.get("/dashboard/customers/", {"sort": sort}))
    assert [email.split("@")[0] for email in listed] == expected


def test_sort_links_keep_the_filters_and_flip_direction(
    owner: Client, shoppers: dict[str, Customer]
) -> None:
    html = owner.get("/dashboard/customers/", {"sort": "-spent", "consent": "granted"}).content
    text = html.decode()
    assert 'href="?consent=granted&amp;sort=spent"' in text
    assert 'aria-sort="descending"' in text


def test_pages(owner: Client, store: Store) -> None:
    for _ in range(55):
        CustomerFactory(store=store)
    first = owner.get("/dashboard/customers/")
    second = owner.get("/dashboard/customers/", {"page": "2"})
    assert len(_listed(first)) == 50 and len(_listed(second)) == 5
    assert not set(_listed(first)) & set(_listed(second))
    assert "55 customers" in first.content.decode()
    assert len(_listed(owner.get("/dashboard/customers/", {"page": "99"}))) == 5  # clamped


def test_the_list_takes_the_same_queries_for_5_or_40_customers(
    owner: Client, store: Store, django_assert_max_num_queries: Any
) -> None:
    def fill(n: int) -> None:
        for _ in range(n):
            customer = CustomerFactory(store=store)
            CustomerStatsFactory(customer=customer, segment="loyal")
            tagging.add_tag(customer=customer, name="vip")

    fill(5)
    owner.get("/dashboard/customers/")  # warm the session/membership caches
    with django_assert_max_num_queries(12) as small:
        owner.get("/dashboard/customers/", {"q": "ann"})
    fill(35)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner.get("/dashboard/customers/", {"q": "ann"})
    assert len(_listed(response)) == 40


# --- tenancy --------------------------------------------------------------------------------


def test_the_list_never_shows_another_stores_customers(
    owner: Client, store: Store, other_store: Store
) -> None:
    theirs = CustomerFactory(store=other_store, email="theirs@globex.example")
    OrderFactory(store=other_store, customer=theirs, number="G-1")
    CustomerFactory(store=store, email="mine@acme.example")
    assert _listed(owner.get("/dashboard/customers/")) == ["mine@acme.example"]
    for q in ("theirs@globex.example", "theirs", "G-1"):
        response = owner.get("/dashboard/customers/", {"q": q})
        assert _listed(response) == [] and "Exact match" not in response.content.decode()
        assert f"/dashboard/customers/{theirs.pk}/" not in response.content.decode()


def test_another_stores_customer_is_404_everywhere(owner: Client, other_store: Store) -> None:
    theirs = CustomerFactory(store=other_store)
    base = f"/dashboard/customers/{theirs.pk}/"
    assert owner.get(base).status_code == 404
    assert owner.get(base + "tags/").status_code == 404
    assert owner.get(base + "activity/").status_code == 404
    assert owner.post(base + "tags/", {"action": "add", "name": "x"}).status_code == 404
    assert not CustomerTag.objects.exists()


# --- the 360 --------------------------------------------------------------------------------


@pytest.fixture
def jane(store: Store) -> Customer:
    customer = CustomerFactory(
        store=store,
        email="jane@example.com",
        first_name="Jane",
        last_name="Doe",
        phone="+821012345678",
        locale="ko-KR",
        time_zone="Asia/Seoul",
        country="KR",
        is_registered=True,
        external_id=321,
        marketing_consent="granted",
        consent_source="checkout",
    )
    CustomerStatsFactory(
        customer=customer, orders_count=2, total_spent=Decimal("1234.50"), segment="loyal"
    )
    ConsentChangeFactory(customer=customer, state="granted", source="checkout")
    ConsentChangeFactory(
        customer=customer,
        state="denied",
        source="one_click_unsubscribe",
        occurred_at=T0 + timedelta(days=3),
    )
    order = OrderFactory(store=store, customer=customer, number="1001", status="completed")
    LineItemFactory(order=order, name="Linen Shirt (snapshot)", sku="LS-01")
    StatusChangeFactory(order=order, from_status="", to_status="pending")
    StatusChangeFactory(
        order=order,
        from_status="pending",
        to_status="processing",
        inferred=True,
        changed_at=T0 + timedelta(minutes=1),
    )
    StatusChangeFactory(
        order=order,
        from_status="processing",
        to_status="completed",
        changed_at=T0 + timedelta(minutes=2),
    )
    return customer


def test_the_360_shows_profile_figures_consent_orders_and_timeline(
    owner: Client, jane: Customer
) -> None:
    html = owner.get(f"/dashboard/customers/{jane.pk}/").content.decode()
    for fact in (
        "Jane Doe",
        "+821012345678",
        "ko-KR",
        "Asia/Seoul",
        "KR",
        "321",
        "Registered",
        "Loyal",
        "$1,234.50",
        "$617.25",  # total spent, average
        "one_click_unsubscribe",
        "#1001",
        "Linen Shirt (snapshot)",
        "LS-01",
        "inferred",
        "Completed",
    ):
        assert fact in html, fact
    assert "Unsubscribed" in html and "Subscribed" in html  # consent history both ways


def test_activity_pages_with_load_more(owner: Client, store: Store, jane: Customer) -> None:
    for n in range(30):
        EventFactory(
            store=store,
            customer_id=jane.pk,
            subject_id=jane.pk,
            type="customer.updated",
            occurred_at=T0 + timedelta(minutes=n),
            payload={"n": n},
        )
    html = owner.get(f"/dashboard/customers/{jane.pk}/").content.decode()
    assert html.count("Profile updated") == 25
    cursor = re.search(r'hx-get="(/dashboard/customers/\d+/activity/\?before=[^"]+)"', html)
    assert cursor
    more = owner.get(cursor.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert more.content.decode().count("Profile updated") == 5
    assert "Load older activity" not in more.content.decode()


def test_agents_without_revenue_see_no_money(store: Store, jane: Customer) -> None:
    store.agents_see_revenue = False
    store.save()
    EventFactory(
        store=store,
        customer_id=jane.pk,
        type="order.created",
        subject_type="order",
        subject_id=jane.orders.get().pk,
        payload={"number": "1001", "total": "42.00"},
    )
    agent = _agent(store)
    for url in ("/dashboard/customers/", f"/dashboard/customers/{jane.pk}/"):
        html = agent.get(url).content.decode()
        assert agent.get(url).status_code == 200
        assert "$" not in html and "1,234.50" not in html and "42.00" not in html, url
        assert "Total spent" not in html and 'name="spent_min"' not in html


def test_customer_text_is_escaped_on_list_and_360(owner: Client, store: Store) -> None:
    evil = CustomerFactory(
        store=store,
        email="evil@example.com",
        first_name=XSS,
        last_name=XSS,
        phone=XSS[:40],
        consent_source=XSS,
    )
    ConsentChangeFactory(customer=evil, source=XSS)
    order = OrderFactory(store=store, customer=evil, number="666")
    LineItemFactory(order=order, name=XSS, sku=XSS)
    EventFactory(
        store=store,
        customer_id=evil.pk,
        payload={"note": XSS, "tag": XSS},
        type="customer.tag_added",
    )
    tagging.add_tag(customer=evil, name="<b>bold</b>")
    for html in (
        owner.get("/dashboard/customers/").content.decode(),
        owner.get(f"/dashboard/customers/{evil.pk}/").content.decode(),
    ):
        assert "<script>alert(1)" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_panels_other_modules_register_appear_by_permission(
    owner: Client, store: Store, jane: Customer
) -> None:
    seen: dict[str, Any] = {}

    def points(*, store: Store, customer: Customer, **_: Any) -> dict[str, Any]:
        seen.update(store=store, customer=customer)
        return {"points": 120}

    panel = slots.Panel(
        slot=slots.CUSTOMER_SIDEBAR,
        key="test.points",
        title="Points",
        template="dashboard/partials/icon.html",
        context=points,
        permission="view_revenue",
    )
    slots.register_panel(panel)
    try:
        html = owner.get(f"/dashboard/customers/{jane.pk}/").content.decode()
        assert 'aria-label="Points"' in html
        assert seen == {"store": store, "customer": jane}
        store.agents_see_revenue = False
        store.save()
        assert (
            'aria-label="Points"'
            not in _agent(store).get(f"/dashboard/customers/{jane.pk}/").content.decode()
        )
    finally:
        slots._panels[slots.CUSTOMER_SIDEBAR].pop("test.points", None)


# --- tags -----------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(store: Store) -> Iterator[Client]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(MembershipFactory(store=store, role="agent").user)
    yield client


def _token(client: Client, url: str) -> str:
    found = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content.decode()
    )
    assert found
    return found.group(1)


def test_tags_need_the_csrf_token(csrf_client: Client, jane: Customer) -> None:
    url = f"/dashboard/customers/{jane.pk}/tags/"
    refused = csrf_client.post(url, {"action": "add", "name": "VIP"})
    assert refused.status_code == 403 and not CustomerTag.objects.exists()
    token = _token(csrf_client, f"/dashboard/customers/{jane.pk}/")
    # htmx sends the token as a header (page.html's hx-headers).
    ok = csrf_client.post(
        url, {"action": "add", "name": "VIP"}, headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert ok.status_code == 200 and "VIP" in ok.content.decode()
    assert [t.name for t in Tag.objects.filter(links__customer=jane)] == ["VIP"]


def test_add_and_remove_tags(owner: Client, jane: Customer) -> None:
    url = f"/dashboard/customers/{jane.pk}/tags/"
    htmx = {"HX-Request": "true"}
    owner.post(url, {"action": "add", "name": "  VIP  "}, headers=htmx)
    owner.post(url, {"action": "add", "name": "vip"}, headers=htmx)  # same tag, any case
    assert list(CustomerTag.objects.filter(customer=jane).values_list("tag__name", flat=True)) == [
        "VIP"
    ]
    assert Event.objects.filter(type="customer.tag_added", customer_id=jane.pk).count() == 1
    empty = owner.post(url, {"action": "add", "name": "   "}, headers=htmx)
    assert "A tag needs a name." in empty.content.decode()
    # Without htmx: a normal form post that redirects back to the 360.
    gone = owner.post(url, {"action": "remove", "name": "Vip"})
    assert gone.status_code == 302 and gone["Location"] == f"/dashboard/customers/{jane.pk}/"
    assert not CustomerTag.objects.filter(customer=jane).exists()
    assert Tag.objects.filter(name="VIP").exists()  # the tag stays for other customers
    assert Event.objects.filter(type="customer.tag_removed", customer_id=jane.pk).count() == 1
    assert "Tag removed" in owner.get(f"/dashboard/customers/{jane.pk}/").content.decode()


def test_add_tag_is_idempotent_and_removing_an_absent_tag_is_a_no_op(jane: Customer) -> None:
    first = tagging.add_tag(customer=jane, name="Gift")
    again = tagging.add_tag(customer=jane, name="GIFT")
    assert first.pk == again.pk
    assert tagging.remove_tag(customer=jane, name="nothing") is False
    assert tagging.remove_tag(customer=jane, name="gift") is True
    assert tagging.remove_tag(customer=jane, name="gift") is False
    assert Event.objects.filter(type__startswith="customer.tag_").count() == 2
