"""RFM scoring and the segment grid (pure), and the store pass."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercare.analytics import rebuild, rfm
from aftercare.analytics.models import CustomerStats
from aftercare.stores.models import Store
from tests.analytics.factories import at, order_record, place

NOW = at("2026-06-01 12:00")


@pytest.mark.parametrize(
    ("r", "fm", "segment"),
    [
        (5, 5, "champions"), (5, 4, "champions"), (4, 5, "loyal"), (3, 4, "loyal"),
        (5, 2, "potential_loyalists"), (4, 3, "potential_loyalists"), (5, 1, "new"),
        (4, 1, "promising"), (3, 3, "need_attention"), (3, 1, "about_to_sleep"),
        (2, 4, "at_risk"), (1, 3, "at_risk"), (1, 5, "cant_lose"), (2, 5, "cant_lose"),
        (2, 1, "hibernating"), (2, 2, "hibernating"), (1, 1, "lost"), (1, 2, "lost"),
    ],
)  # fmt: skip
def test_the_grid(r: int, fm: int, segment: str) -> None:
    assert rfm.segment_of(r, fm) == segment


@given(r=st.integers(1, 5), fm=st.integers(1, 5))
def test_every_cell_has_a_named_segment(r: int, fm: int) -> None:
    assert rfm.segment_of(r, fm) in rfm.SEGMENTS


def _edges() -> rfm.Thresholds:
    edges = rfm.thresholds(
        recency_days=[float(d) for d in range(1, 101)],
        frequency=[1.0] * 60 + [2.0] * 20 + [3.0] * 10 + [8.0] * 10,
        monetary=[Decimal(m) for m in range(10, 1010, 10)],
    )
    assert edges is not None
    return edges


def test_recent_frequent_big_spender_is_a_champion() -> None:
    assert rfm.segment_for(
        last_order_at=NOW - timedelta(hours=12), orders_count=9, total_spent=Decimal("2000"),
        now=NOW, edges=_edges(),
    ) == "champions"  # fmt: skip


def test_one_recent_small_order_is_new_and_an_old_one_is_lost() -> None:
    edges = _edges()
    assert (
        rfm.segment_for(
            last_order_at=NOW - timedelta(days=2),
            orders_count=1,
            total_spent=Decimal("15"),
            now=NOW,
            edges=edges,
        )
        == "new"
    )
    assert (
        rfm.segment_for(
            last_order_at=NOW - timedelta(days=400),
            orders_count=1,
            total_spent=Decimal("15"),
            now=NOW,
            edges=edges,
        )
        == "lost"
    )
    assert (
        rfm.segment_for(
            last_order_at=NOW - timedelta(days=400),
            orders_count=12,
            total_spent=Decimal("5000"),
            now=NOW,
            edges=edges,
        )
        == "cant_lose"
    )


def test_no_purchase_no_segment() -> None:
    assert (
        rfm.segment_for(
            last_order_at=None, orders_count=0, total_spent=Decimal(0), now=NOW, edges=_edges()
        )
        == ""
    )


def test_thresholds_round_trip_through_json() -> None:
    edges = _edges()
    assert rfm.Thresholds.from_json(edges.to_json()) == edges
    assert rfm.Thresholds.from_json({"recency_days": "x"}) is None


@given(values=st.lists(st.floats(0, 1e6), min_size=1, max_size=200))
def test_scores_stay_within_one_to_five(values: list[float]) -> None:
    edges = rfm.thresholds(
        recency_days=values, frequency=values, monetary=[Decimal(str(v)) for v in values]
    )
    assert edges is not None
    for value in values:
        assert 1 <= rfm._higher_is_better(value, edges.frequency) <= 5
        assert 1 <= rfm._lower_is_better(value, edges.recency_days) <= 5


@pytest.mark.django_db
def test_rebuild_segments_the_store(store: Store) -> None:
    records = []
    for i in range(20):  # 20 one-order customers spread over two years, one regular
        records.append(
            order_record(
                email=f"c{i}@example.com", created=at("2024-06-01 10:00") + timedelta(days=36 * i)
            )
        )
    for month in range(12):
        records.append(
            order_record(
                email="regular@example.com",
                total="300.00",
                created=at("2025-06-01 10:00") + timedelta(days=30 * month),
            )
        )
    place(store, *records)
    rebuild.rebuild_store(store=store)
    segments = dict(CustomerStats.objects.values_list("customer__email", "segment"))
    assert segments["regular@example.com"] == "champions"
    assert segments["c0@example.com"] == "lost"
    assert all(segments.values())
