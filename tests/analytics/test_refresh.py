"""The incremental refresh: the event cursor and the high-water mark, equality with the full
rebuild (on the demo store and after random batches of changes), the worker's schedule and
the command."""

from __future__ import annotations

import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aftercare.analytics import handlers, rebuild, refresh
from aftercare.analytics.models import DailyStoreStats, StoreAnalyticsState
from aftercare.demo.builder import build_demo_store
from aftercare.events import high_water
from aftercare.events.models import Event, EventHighWater
from aftercare.jobs.models import Job
from aftercare.stores.models import Store
from tests.analytics.conftest import day_rows, run_refresh, stats_rows
from tests.analytics.factories import at, order_record, place

NOW = at("2026-06-01 12:00")


# -- the high-water mark (pure) ----------------------------------------------------------------


def test_no_gap_moves_to_the_last_id() -> None:
    assert high_water.next_mark(previous=10, ids=[11, 12, 13], known_gaps=[], now=NOW) == (
        13,
        [],
    )


def test_a_fresh_gap_holds_the_mark_below_it() -> None:
    mark, gaps = high_water.next_mark(previous=10, ids=[11, 14, 15], known_gaps=[], now=NOW)
    assert mark == 11 and gaps == [[12, 13, NOW.isoformat()]]
    # A minute later the gap filled (the transaction committed): the mark moves past it.
    later = NOW + timedelta(minutes=1)
    assert high_water.next_mark(previous=11, ids=[12, 13, 14, 15], known_gaps=gaps, now=later) == (
        15,
        [],
    )


def test_a_gap_that_never_fills_is_skipped_once_stale() -> None:
    _, gaps = high_water.next_mark(previous=10, ids=[11, 14], known_gaps=[], now=NOW)
    still = NOW + high_water.STALE_GAP - timedelta(seconds=1)
    assert high_water.next_mark(previous=11, ids=[14], known_gaps=gaps, now=still)[0] == 11
    stale = NOW + high_water.STALE_GAP
    assert high_water.next_mark(previous=11, ids=[14], known_gaps=gaps, now=stale) == (14, [])


def test_a_later_fresh_gap_still_holds_after_a_stale_one_is_skipped() -> None:
    old = [[12, 13, (NOW - timedelta(hours=1)).isoformat()]]
    mark, gaps = high_water.next_mark(previous=11, ids=[14, 20], known_gaps=old, now=NOW)
    assert mark == 14 and gaps == [[15, 19, NOW.isoformat()]]


# -- the refresh against the rebuild ----------------------------------------------------------


@pytest.mark.django_db
def test_incremental_equals_rebuild_on_the_demo_store(store: Store) -> None:
    build_demo_store(store=store, now=NOW, customers=150, seed=5)
    assert run_refresh(store) > 0
    incremental = (day_rows(store), stats_rows(store))
    assert len(incremental[0]) > 100 and len(incremental[1]) > 100
    result = rebuild.rebuild_store(store=store)
    assert result.customers == len(incremental[1])
    assert (day_rows(store), stats_rows(store)) == incremental
    # Everyone who bought got an RFM segment from the rebuild's pass.
    state = StoreAnalyticsState.objects.get(store=store)
    assert state.rfm_thresholds and state.rebuilt_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(8))
def test_incremental_equals_rebuild_after_random_batches(store: Store, seed: int) -> None:
    """Property: whatever sequence of creations, status changes, refunds and late earlier
    orders arrives, in whatever batches, refreshing after each batch ends where a rebuild from
    scratch does."""
    rng = random.Random(seed)
    emails = [f"c{i}@example.com" for i in range(6)]
    known: dict[int, dict[str, object]] = {}
    clock = at("2026-01-01 00:00")
    for _batch in range(8):
        records = []
        for _ in range(rng.randint(1, 6)):
            clock += timedelta(hours=rng.randint(1, 200))
            if known and rng.random() < 0.4:
                ext = rng.choice(sorted(known))
                spec = dict(known[ext])
                spec["status"] = rng.choice(["completed", "cancelled", "refunded", "processing"])
                refunds = list(spec["refunds"])  # type: ignore[call-overload]
                if len(refunds) < 2 and rng.random() < 0.5:
                    # Refunds are added, never rewritten: WooCommerce refund ids are post ids.
                    refunds.append((ext * 10 + len(refunds), rng.choice(["5.00", "12.50"])))
                spec["refunds"] = refunds
                spec["modified"] = clock
            else:
                ext = 1 + len(known)
                late = rng.random() < 0.25  # a late delivery of an older order
                spec = {
                    "email": rng.choice(emails),
                    "created": clock - timedelta(days=rng.randint(30, 120)) if late else clock,
                    "total": rng.choice(["20.00", "45.50", "100.00"]),
                    "status": rng.choice(["completed", "processing", "pending", "on-hold"]),
                    "refunds": [],
                    "modified": clock,
                }
            known[ext] = spec
            records.append(order_record(external_id=ext, paid=spec["status"] != "pending", **spec))  # type: ignore[arg-type]
        place(store, *records)
        run_refresh(store)
    incremental = (day_rows(store), stats_rows(store))
    rebuild.rebuild_store(store=store)
    assert (day_rows(store), stats_rows(store)) == incremental


@pytest.mark.django_db
def test_the_cursor_only_reads_new_events(store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00")))
    assert run_refresh(store) > 0
    assert run_refresh(store) == 0  # nothing new: nothing read
    state = StoreAnalyticsState.objects.get(store=store)
    assert state.last_event_id == Event.objects.latest("id").pk
    assert EventHighWater.objects.get().high_water == state.last_event_id


@pytest.mark.django_db
def test_refresh_works_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(refresh, "BATCH", 3)
    monkeypatch.setattr(refresh, "SQLITE_BATCH", 3)
    place(
        store,
        *[
            order_record(email=f"c{i}@example.com", created=at("2026-03-01 10:00"))
            for i in range(5)
        ],
    )
    run_refresh(store)
    assert day_rows(store)["2026-03-01"]["orders_new"] == 5


@pytest.mark.django_db
def test_rebuild_moves_the_cursor_so_history_is_not_replayed(store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00")))
    rebuild.rebuild_store(store=store)
    assert run_refresh(store) == 0


@pytest.mark.django_db
def test_a_quiet_store_stays_current(store: Store, other_store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00")))
    run_refresh(store)
    before = StoreAnalyticsState.objects.get(store=store)
    place(other_store, order_record(email="b@example.com", created=at("2026-03-01 10:00")))
    step = high_water.advance_step()
    assert step.store_ids == {other_store.pk}
    assert refresh.mark_quiet_stores_current(step=step) == 1
    after = StoreAnalyticsState.objects.get(store=store)
    assert after.last_event_id == step.high_water > before.last_event_id


# -- the worker's schedules and the command ---------------------------------------------------


@pytest.mark.django_db
def test_schedule_enqueues_one_job_per_store_with_new_events(
    store: Store, other_store: Store
) -> None:
    place(
        store,
        order_record(email="a@example.com", created=at("2026-03-01 10:00")),
        order_record(email="b@example.com", created=at("2026-03-02 10:00")),
    )
    assert handlers.schedule_refreshes() == 1
    [job] = Job.objects.filter(kind="analytics.refresh_store")
    assert job.store_id == store.pk
    handlers.refresh_store.call(**job.payload, store_id=job.store_id)
    assert len(day_rows(store)) == 2
    assert handlers.schedule_refreshes() == 0  # nothing new
    assert handlers.schedule_nightly() == 1
    assert Job.objects.filter(kind="analytics.rebuild_store", store_id=store.pk).exists()


@pytest.mark.django_db
def test_rebuild_command(store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00")))
    out = StringIO()
    call_command("analytics", "rebuild", "--store", "acme", stdout=out)
    assert "acme: 1 orders, 1 customers, 1 days rebuilt" in out.getvalue()
    assert DailyStoreStats.objects.filter(store=store).count() == 1
    with pytest.raises(CommandError, match="no store"):
        call_command("analytics", "rebuild", "--store", "nope")


@pytest.mark.django_db
def test_refresh_command(store: Store) -> None:
    place(store, order_record(email="a@example.com", created=at("2026-03-01 10:00")))
    out = StringIO()
    call_command("analytics", "refresh", stdout=out)
    assert out.getvalue().startswith("1 stores refreshed")
    assert len(day_rows(store)) == 1
