"""The customer directory selector: filter parsing, search semantics, the exact-match probe,
and that searches are served by indexes (no scan of the store's customers per keystroke)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from aftercare.analytics import customer_directory
from aftercare.analytics.customer_directory import DEFAULT_SORT, DirectoryFilters
from aftercare.customers.models import Customer
from aftercare.stores.models import Store
from tests.mirror_factories import CustomerFactory, CustomerStatsFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_parse_filters_reads_values_and_reports_bad_ones() -> None:
    filters, problems = customer_directory.parse_filters(
        {
            "q": "  jane   doe ",
            "segment": "champions",
            "tag": "7",
            "locale": "ko",
            "consent": "granted",
            "last_order_from": "2026-01-02",
            "last_order_to": "nope",
            "spent_min": "10.5",
            "spent_max": "-3",
            "sort": "-spent",
        }
    )
    assert filters == DirectoryFilters(
        q="jane doe",
        segment="champions",
        tag=7,
        locale="ko",
        consent="granted",
        last_order_from=date(2026, 1, 2),
        spent_min=Decimal("10.5"),
        sort="-spent",
    )
    assert len(problems) == 2  # the date and the negative amount


def test_unknown_choices_fall_back_quietly() -> None:
    filters, problems = customer_directory.parse_filters(
        {"segment": "hackers", "consent": "maybe", "sort": "password", "tag": "x"}
    )
    assert filters == DirectoryFilters() and problems == []
    assert filters.sort == DEFAULT_SORT and not filters.active


def test_to_params_round_trips() -> None:
    filters = DirectoryFilters(
        q="a", tag=3, spent_max=Decimal("9.99"), last_order_to=date(2026, 5, 1), sort="name"
    )
    again, problems = customer_directory.parse_filters(filters.to_params())
    assert again == filters and problems == []


def test_search_prefix_is_exact_about_its_boundaries(store: Store) -> None:
    for email in ("abc@x.example", "abd@x.example", "ab@x.example", "abc_@x.example"):
        CustomerFactory(store=store, email=email, first_name="", last_name="")
    found = customer_directory.customers(store=store, filters=DirectoryFilters(q="abc"))
    assert sorted(c.email for c in found) == ["abc@x.example", "abc_@x.example"]
    # LIKE wildcards in the query are literal.
    wild = customer_directory.customers(store=store, filters=DirectoryFilters(q="ab_"))
    assert [c.email for c in wild] == []


def test_exact_match_by_email_or_order(store: Store) -> None:
    jane = CustomerFactory(store=store, email="jane@example.com")
    OrderFactory(store=store, customer=jane, number="5005")
    hidden = DirectoryFilters(q="jane@example.com", segment="champions")
    page = customer_directory.page(store=store, filters=hidden)
    assert page.rows == [] and page.exact is not None and page.exact.customer == jane
    by_order = customer_directory.page(store=store, filters=DirectoryFilters(q="#5005"))
    assert by_order.exact is not None and by_order.exact.customer == jane
    assert customer_directory.page(store=store, filters=DirectoryFilters(q="jane")).exact is None


def test_rows_carry_stats_or_none(store: Store) -> None:
    with_orders = CustomerFactory(store=store)
    CustomerStatsFactory(customer=with_orders, segment="at_risk")
    CustomerFactory(store=store)
    page = customer_directory.page(store=store, filters=DirectoryFilters(sort="-orders"))
    assert [row.stats is not None for row in page.rows] == [True, False]
    assert page.rows[0].segment_label == "At risk" and page.rows[1].segment_label == ""


def _plan(sql: str, params: tuple[object, ...]) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: ask what it could use
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(" ".join(str(col) for col in row) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("q", "index"),
    [
        ("jane@exa", "customer_email_prefix_idx|sqlite_autoindex_customers_customer"),
        ("jan", "customer_fname_prefix_idx"),
        ("doe", "customer_lname_prefix_idx"),
    ],
)
def test_searches_use_the_prefix_indexes(store: Store, q: str, index: str) -> None:
    CustomerFactory(store=store, email="jane@example.com", first_name="Jane", last_name="Doe")
    Customer.objects.bulk_create(
        Customer(
            store=store,
            email=f"someone{n}@shop{n % 7}.example",
            first_name=f"Ann{n}",
            last_name=f"Buyer{n}",
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner sees a store of thousands, as in production
    found = customer_directory.customers(store=store, filters=DirectoryFilters(q=q))
    sql, params = found.query.sql_with_params()
    plan = _plan(sql, params)
    assert any(name in plan for name in index.split("|")), plan
    assert [c.email for c in found] == ["jane@example.com"]
