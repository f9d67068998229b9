"""events.bus: live events get one job per event and subscriber; history (payload.backfill)
reaches subscribers in one job per published batch, one job per event, or not at all — as each
subscriber chose when it subscribed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aftercare.events import bus
from aftercare.events.models import Event
from aftercare.jobs import registry
from aftercare.jobs.models import Job
from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db
_AT = datetime(2024, 1, 1, tzinfo=UTC)
_seen: list[tuple[int, int]] = []


@registry.task(kind="tests.events.on_order")
def _on_order(*, store_id: int, event_id: int) -> None:
    _seen.append((store_id, event_id))


@pytest.fixture
def subscribed(request: pytest.FixtureRequest) -> Iterator[None]:
    bus.subscribe("order.*", _on_order, history=request.param)
    _seen.clear()
    yield
    bus.unsubscribe("order.*", _on_order)


def _drafts(store: Store, count: int, *, backfill: bool) -> list[bus.EventDraft]:
    payload: dict[str, Any] = {"backfill": True} if backfill else {}
    return [
        bus.EventDraft(store_id=store.pk, type=kind, subject_type="order", subject_id=n,
                       occurred_at=_AT, payload=dict(payload), dedupe_key=f"{kind}:{n}:")
        for n in range(1, count + 1)
        for kind in ("order.created", "order.paid")
    ]  # fmt: skip


@pytest.mark.parametrize("subscribed", [bus.History.BATCH], indirect=True)
def test_history_is_one_job_per_batch_that_runs_the_handler_per_event(
    store: Store, subscribed: None
) -> None:
    assert bus.publish_many(_drafts(store, 50, backfill=True)) == 100
    jobs = list(Job.objects.all())
    assert [job.kind for job in jobs] == ["events.deliver_history"]
    event_ids = sorted(Event.objects.values_list("id", flat=True))
    assert sorted(jobs[0].payload["event_ids"]) == event_ids
    assert jobs[0].payload["kind"] == "tests.events.on_order" and jobs[0].store_id == store.pk
    # the job's ids belong to the right events (order of insertion kept)
    first = Event.objects.get(pk=jobs[0].payload["event_ids"][0])
    assert (first.type, first.subject_id) == ("order.created", 1)

    registry.get("events.deliver_history").call(store_id=store.pk, **jobs[0].payload)
    assert _seen == [(store.pk, event_id) for event_id in jobs[0].payload["event_ids"]]


@pytest.mark.parametrize("subscribed", [bus.History.BATCH], indirect=True)
def test_live_events_still_get_one_job_each(store: Store, subscribed: None) -> None:
    bus.publish_many(_drafts(store, 3, backfill=False))
    jobs = Job.objects.filter(kind="tests.events.on_order").order_by("id")
    assert [job.kind for job in jobs] == ["tests.events.on_order"] * 6
    assert sorted(job.payload["event_id"] for job in jobs) == sorted(
        Event.objects.values_list("id", flat=True)
    )


@pytest.mark.parametrize("subscribed", [bus.History.EACH], indirect=True)
def test_history_each_keeps_one_job_per_event(store: Store, subscribed: None) -> None:
    bus.publish_many(_drafts(store, 2, backfill=True))
    assert Job.objects.filter(kind="tests.events.on_order").count() == 4


@pytest.mark.parametrize("subscribed", [bus.History.SKIP], indirect=True)
def test_history_skip_enqueues_nothing_but_records_the_events(
    store: Store, subscribed: None
) -> None:
    bus.publish_many(_drafts(store, 2, backfill=True))
    assert not Job.objects.exists() and Event.objects.count() == 4


@pytest.mark.parametrize("subscribed", [bus.History.BATCH], indirect=True)
def test_a_replayed_batch_publishes_and_enqueues_nothing_new(
    store: Store, subscribed: None
) -> None:
    drafts = _drafts(store, 5, backfill=True)
    bus.publish_many(drafts)
    bus.publish_many(drafts)
    assert Event.objects.count() == 10 and Job.objects.count() == 1
