"""The overview page: figures for the owner, no money for an agent who may not see revenue,
the date range picker, the empty state, the OVERVIEW slot, escaping, and a small constant
number of queries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from aftercare.analytics import rebuild
from aftercare.core import slots
from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store
from tests.analytics.factories import at, order_record, place

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
NOW = at("2026-06-15 16:00")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _login(client: Client, store: Store, role: str, email: str) -> Client:
    store_services.create_staff_member(store=store, email=email, password=PASSWORD, role=role)
    assert client.login(username=email, password=PASSWORD)
    return client


@pytest.fixture
def owner(client: Client, store: Store) -> Client:
    return _login(client, store, StaffRole.OWNER, "owner@example.com")


@pytest.fixture
def agent(client: Client, store: Store) -> Client:
    return _login(client, store, StaffRole.AGENT, "agent@example.com")


@pytest.fixture
def sales(store: Store) -> Store:
    """June 1-15 (this period for "last 30 days" ending June 15): Ann's first order and her
    second; Bob's first. May: Ann's... nothing — the previous period has Cy's one order."""
    place(
        store,
        order_record(email="cy@example.com", created=at("2026-05-10 12:00"), total="40.00"),
        order_record(email="ann@example.com", created=at("2026-06-01 12:00"), total="100.00"),
        order_record(
            email="ann@example.com",
            created=at("2026-06-10 12:00"),
            total="60.00",
            refunds=[(1, "10.00")],
        ),
        order_record(email="bob@example.com", created=at("2026-06-12 12:00"), total="1234.50"),
    )
    rebuild.rebuild_store(store=store)
    return store


def _page(client: Client, query: str = "") -> tuple[int, str]:
    response = client.get("/dashboard/" + query)
    return response.status_code, response.content.decode()


def _kpi(html: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}".*?<span class="value">(.*?)</span>', html, re.S)
    assert match, f"no KPI {key}"
    return match.group(1)


def _chart(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="overview-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_owner_sees_revenue_orders_and_the_previous_period(owner: Client, sales: Store) -> None:
    status, html = _page(owner)
    assert status == 200
    # Last 30 days = May 17 - June 15: Ann 100 + (60 - 10) and Bob 1,234.50.
    assert _kpi(html, "revenue") == "$1,384.50"
    assert _kpi(html, "orders") == "3"
    assert _kpi(html, "aov") == "$461.50"
    assert _kpi(html, "new_customers") == "2"
    assert _kpi(html, "repeat_rate") == "33.3%"
    assert _kpi(html, "refunded") == "$10.00"
    # The previous period (April 17 - May 16) had Cy's order of $40.
    assert "vs $40.00" in html
    assert "Figures as of" in html
    data = _chart(html)
    assert data["unit"] == "day" and len(data["labels"]) == 30
    assert sum(data["orders"]["current"]) == 3 and sum(data["orders"]["previous"]) == 1
    assert data["revenue"]["new"][-4] == "1234.50"  # June 12
    assert data["currency"] == "USD"
    assert "chart-4.6.1.umd.min.js" in html


def test_agent_without_revenue_sees_counts_and_no_money(agent: Client, sales: Store) -> None:
    sales.agents_see_revenue = False
    sales.save()
    status, html = _page(agent)
    assert status == 200
    assert _kpi(html, "orders") == "3"
    for key in ("revenue", "aov", "refunded"):
        assert f'data-kpi="{key}"' not in html
    assert "$" not in html and "1234" not in html and "1,234" not in html
    data = _chart(html)
    assert "revenue" not in data and "aov" not in data and "currency" not in data
    assert 'id="chart-revenue"' not in html


def test_agent_sees_revenue_when_the_owner_allows_it(agent: Client, sales: Store) -> None:
    _, html = _page(agent)
    assert _kpi(html, "revenue") == "$1,384.50"


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("?range=last_7", "2026-06-09", "2026-06-15"),
        ("?range=this_month", "2026-06-01", "2026-06-15"),
        ("?range=last_month", "2026-05-01", "2026-05-31"),
        ("?range=year_to_date", "2026-01-01", "2026-06-15"),
        ("?range=custom&from=2026-05-01&to=2026-06-15", "2026-05-01", "2026-06-15"),
    ],
)
def test_range_picker(owner: Client, sales: Store, query: str, start: str, end: str) -> None:
    _, html = _page(owner, query)
    assert f'name="from" value="{start}"' in html and f'name="to" value="{end}"' in html
    assert 'role="alert"' not in html


@pytest.mark.parametrize(
    "query",
    [
        "?range=custom&from=2026-06-10&to=2026-06-01",
        "?range=custom&from=junk&to=2026-06-01",
        "?range=custom&from=2020-01-01&to=2026-06-01",
        "?range=forever",
    ],
)
def test_invalid_range_says_why_and_shows_the_default(
    owner: Client, sales: Store, query: str
) -> None:
    status, html = _page(owner, query)
    assert status == 200
    assert 'class="notice error" role="alert"' in html
    assert 'name="from" value="2026-05-17"' in html  # last 30 days
    assert _kpi(html, "orders") == "3"


def test_long_ranges_are_bucketed_by_month(owner: Client, sales: Store) -> None:
    _, html = _page(owner, "?range=last_12_months")
    data = _chart(html)
    assert data["unit"] == "month" and len(data["labels"]) == 13  # June 16, 2025 → June 15
    assert sum(data["orders"]["current"]) == 4


def test_empty_store_explains_how_to_get_orders(owner: Client) -> None:
    status, html = _page(owner)
    assert status == 200
    assert 'data-testid="overview-empty"' in html
    assert "aftercare demo" in html and "overview-data" not in html
    assert "chart-4.6.1" not in html  # no chart library on a page without charts


def test_orders_without_figures_yet_say_they_are_being_computed(
    owner: Client, store: Store
) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-06-01 12:00")))
    _, html = _page(owner)
    assert 'data-testid="overview-computing"' in html
    assert "aftercare analytics rebuild --store acme" in html


def test_maturing_cohorts_are_shown_honestly(owner: Client, sales: Store) -> None:
    _, html = _page(owner)
    # Ann and Bob became customers in June: their 90 days are not over.
    assert 'data-testid="maturing"' in html
    assert re.search(r'data-kpi="repeat_90".*?<span class="value">—</span>', html, re.S)
    # January's cohort is mature: Dan came back within 90 days, Eve did not.
    place(
        sales,
        order_record(email="dan@example.com", created=at("2026-01-10 12:00")),
        order_record(email="dan@example.com", created=at("2026-03-01 12:00")),
        order_record(email="eve@example.com", created=at("2026-01-20 12:00")),
    )
    rebuild.rebuild_store(store=sales)
    _, html = _page(owner, "?range=custom&from=2026-01-01&to=2026-01-31")
    assert _kpi(html, "repeat_90") == "50.0%"
    assert 'data-testid="maturing"' not in html
    assert "1 of 2 new customers whose 90 days are over bought again" in html


def test_customer_text_is_escaped(owner: Client, store: Store) -> None:
    store.name = '<script>alert("store")</script>'
    store.save()
    place(store, order_record(email="x@example.com", created=at("2026-06-01 12:00")))
    rebuild.rebuild_store(store=store)
    _, html = _page(owner)
    assert '<script>alert("store")</script>' not in html
    assert "&lt;script&gt;alert(&quot;store&quot;)&lt;/script&gt;" in html


def test_overview_slot_panels_render_with_period_and_permission(
    agent: Client, sales: Store, tmp_path: Any, settings: Any
) -> None:
    sales.agents_see_revenue = False
    sales.save()
    seen: dict[str, Any] = {}

    def context(**kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {"subject": "<b>sent</b>"}

    templates = tmp_path / "templates"
    (templates / "test").mkdir(parents=True)
    (templates / "test" / "panel.html").write_text("<p class=panel-body>{{ subject }}</p>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0].get("DIRS", []), str(templates)]}
    ]
    open_panel = slots.Panel(
        slot=slots.OVERVIEW,
        key="test.messages",
        title="Messages",
        template="test/panel.html",
        context=context,
    )
    money_panel = slots.Panel(
        slot=slots.OVERVIEW,
        key="test.flow_revenue",
        title="Flow revenue",
        template="test/panel.html",
        context=context,
        permission="view_revenue",
    )
    slots.register_panel(open_panel)
    slots.register_panel(money_panel)
    try:
        _, html = _page(agent)
    finally:
        slots._panels[slots.OVERVIEW].pop("test.messages")
        slots._panels[slots.OVERVIEW].pop("test.flow_revenue")
    assert 'data-panel="test.messages"' in html
    assert 'data-panel="test.flow_revenue"' not in html
    assert "&lt;b&gt;sent&lt;/b&gt;" in html
    assert seen["store"] == sales
    assert seen["period"].end - seen["period"].start == timedelta(days=29)
    assert seen["previous"].end == seen["period"].start - timedelta(days=1)


def test_query_count_is_small_and_constant(
    owner: Client, sales: Store, django_assert_max_num_queries: Any
) -> None:
    owner.get("/dashboard/")  # warm the session
    with django_assert_max_num_queries(10):
        assert owner.get("/dashboard/?range=last_7").status_code == 200
    with django_assert_max_num_queries(10):
        assert owner.get("/dashboard/?range=last_12_months").status_code == 200


def test_another_stores_figures_never_show(owner: Client, sales: Store, other_store: Store) -> None:
    place(
        other_store,
        order_record(email="z@example.com", created=at("2026-06-14 12:00"), total="999.00"),
    )
    rebuild.rebuild_store(store=other_store)
    _, html = _page(owner)
    assert _kpi(html, "orders") == "3" and "999" not in html
