"""How far the event log may be read by a cursor without skipping a row.

    step = high_water.advance_step()          # move the global mark as far as is safe
    for step in high_water.catch_up(): …      # several steps after a large import
    Event.objects.filter(id__gt=my_cursor, id__lte=step.high_water)   # safe to read

Readers that follow the log with a cursor (analytics, flows) read only up to this mark.

**Why a high-water mark.** Event ids come from a sequence when the row is inserted, not when it
commits. On PostgreSQL a transaction that took id 101 can commit after one that took id 102: a
reader that moved its cursor to 102 would never see 101. So the log is read only up to the
first *gap* (a missing id) that is younger than `STALE_GAP`: a gap is an open transaction that
will commit soon, or a rollback that will never fill; after `STALE_GAP` it is taken for the
latter. The mirror writes in short batches, so gaps fill within a second or two; a transaction
open longer than that (none of ours is) is caught by the nightly rebuild. SQLite has one writer
at a time, so there every id below the largest visible one is final and no gap waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from aftercare.core import clock
from aftercare.events.models import Event, EventHighWater

logger = logging.getLogger(__name__)

STALE_GAP = timedelta(minutes=15)
WINDOW = 200_000  # event ids read per step


@dataclass(frozen=True)
class HighWaterStep:
    previous: int
    high_water: int
    store_ids: frozenset[int]  # stores with events in (previous, high_water]


def _gaps_between(previous: int, ids: list[int]) -> list[tuple[int, int]]:
    gaps, expected = [], previous + 1
    for event_id in ids:
        if event_id > expected:
            gaps.append((expected, event_id - 1))
        expected = event_id + 1
    return gaps


def next_mark(
    *, previous: int, ids: list[int], known_gaps: list[Any], now: datetime
) -> tuple[int, list[list[Any]]]:
    """Pure step: the new high-water mark over the visible `ids` (sorted, all > previous) and
    the gaps still awaited ([lo, hi, first seen ISO]). A gap is awaited until STALE_GAP after it
    was first seen; the mark stops just below the first awaited gap."""
    if not ids:
        return previous, [g for g in known_gaps if g[0] > previous]
    seen: list[tuple[int, int, datetime]] = [
        (int(lo), int(hi), datetime.fromisoformat(at)) for lo, hi, at in known_gaps
    ]
    gaps = []
    for lo, hi in _gaps_between(previous, ids):
        since = min((at for a, b, at in seen if a <= hi and b >= lo), default=now)
        gaps.append((lo, hi, since))
    high_water = ids[-1]
    for lo, _, since in gaps:
        if now - since < STALE_GAP:
            high_water = lo - 1
            break
    return high_water, [[lo, hi, since.isoformat()] for lo, hi, since in gaps if lo > high_water]


def advance() -> int:
    """Move the global high-water mark as far as is safe; returns it."""
    return advance_step().high_water


def advance_step() -> HighWaterStep:
    _, first_run = EventHighWater.objects.get_or_create(pk=1)
    with transaction.atomic():
        row = EventHighWater.objects.select_for_update().get(pk=1)
        if first_run and row.high_water == 0:
            # Ids below the first visible event are history (deleted stores, rolled-back
            # transactions of the past), not transactions about to commit: start there.
            first = Event.objects.order_by("id").values_list("id", flat=True).first()
            row.high_water = (first or 1) - 1
        previous = row.high_water
        pairs = list(
            Event.objects.filter(id__gt=previous)
            .order_by("id")
            .values_list("id", "store_id")[:WINDOW]
        )
        if connection.vendor == "postgresql":
            high_water, gaps = next_mark(
                previous=previous,
                ids=[event_id for event_id, _ in pairs],
                known_gaps=row.gaps,
                now=clock.now(),
            )
        else:  # one writer at a time: nothing below a visible id is still to come
            high_water, gaps = (pairs[-1][0] if pairs else previous), []
        if gaps:
            logger.info("event log: waiting for %d gap(s) above id %d", len(gaps), high_water)
        row.high_water, row.gaps = high_water, gaps
        row.save()
    stores = frozenset(store_id for event_id, store_id in pairs if event_id <= high_water)
    return HighWaterStep(previous=previous, high_water=high_water, store_ids=stores)


def catch_up(*, max_steps: int = 50) -> list[HighWaterStep]:
    """Advance the mark until it stops moving (a first run over a large log takes a few
    steps of WINDOW ids)."""
    steps = []
    for _ in range(max_steps):
        step = advance_step()
        steps.append(step)
        if step.high_water - step.previous < WINDOW // 2:  # caught up (or waiting on a gap)
            break
    return steps
