"""The order tracker's steps (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aftercare.portal import order_progress
from aftercare.portal.order_progress import StatusMove, StepState

T = datetime(2026, 3, 2, tzinfo=UTC)


def states(
    status: str, *, paid: bool = False, completed: bool = False, moves: tuple[str, ...] = ()
) -> list[str]:
    return [
        step.state.value
        for step in order_progress.steps(
            status=status,
            date_created=T,
            date_paid=T if paid else None,
            date_completed=T if completed else None,
            moves=[
                StatusMove(to_status=s, changed_at=T + timedelta(hours=i))
                for i, s in enumerate(moves)
            ],
        )
    ]


def test_happy_path() -> None:
    assert states("pending") == ["done", "current", "upcoming", "upcoming"]
    assert states("processing", paid=True) == ["done", "done", "done", "current"]
    assert states("completed", paid=True, completed=True) == ["done"] * 4


def test_off_the_path() -> None:
    assert states("on-hold") == ["done", "current", "upcoming", "upcoming"]
    assert states("failed") == ["done", "stopped", "stopped", "stopped"]
    assert states("cancelled") == ["done", "stopped", "stopped", "stopped"]
    # Refunded after it was being prepared: what happened stays done.
    assert states("refunded", paid=True, moves=("processing", "refunded")) == [
        "done",
        "done",
        "done",
        "stopped",
    ]


def test_completed_without_a_payment_date_still_counts_as_paid() -> None:
    steps = order_progress.steps(
        status="completed",
        date_created=T,
        date_paid=None,
        date_completed=None,
        moves=[StatusMove(to_status="completed", changed_at=T + timedelta(days=1))],
    )
    assert [s.state for s in steps] == [StepState.DONE] * 4
    assert steps[3].at == T + timedelta(days=1)


def test_plugin_status_names() -> None:
    assert str(order_progress.status_label("ready-to-ship")) == "Ready to ship"
    assert str(order_progress.status_label("cancelled")) == "Cancelled"
    assert states("ready-to-ship", paid=True) == ["done", "done", "current", "upcoming"]
