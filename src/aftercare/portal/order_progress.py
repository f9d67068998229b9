"""Where an order stands, as a customer understands it: placed → paid → processing →
completed, and honest words when it left that path (cancelled, refunded, failed, on hold).

Pure: takes the order's status, dates and status history, returns what the tracker shows.
WooCommerce has no "shipped" status in core; plugins' own statuses are shown by name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StepState(StrEnum):
    DONE = "done"
    CURRENT = "current"
    UPCOMING = "upcoming"
    STOPPED = "stopped"  # the order left the path before this step


class Tone(StrEnum):
    GOOD = "good"
    INFO = "info"
    WARN = "warn"
    BAD = "bad"


@dataclass(frozen=True)
class StatusMove:
    to_status: str
    changed_at: datetime


@dataclass(frozen=True)
class Step:
    key: str
    label: str | Promise
    state: StepState
    at: datetime | None


@dataclass(frozen=True)
class Outcome:
    """A banner for a status off the happy path (or a plain note for the normal ones)."""

    title: str | Promise
    message: str | Promise
    tone: Tone


STATUS_LABELS: dict[str, str | Promise] = {
    "pending": _("Awaiting payment"),
    "processing": _("Being prepared"),
    "on-hold": _("On hold"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "refunded": _("Refunded"),
    "failed": _("Payment failed"),
    "checkout-draft": _("Not placed yet"),
    "trash": _("Removed"),
}

_OUTCOMES: dict[str, Outcome] = {
    "pending": Outcome(
        _("Awaiting payment"),
        _("The store has not received the payment for this order yet."),
        Tone.INFO,
    ),
    "on-hold": Outcome(
        _("On hold"),
        _("The order is on hold until the store confirms the payment."),
        Tone.WARN,
    ),
    "processing": Outcome(
        _("Being prepared"),
        _("Payment received. The store is preparing your order."),
        Tone.INFO,
    ),
    "completed": Outcome(_("Completed"), _("This order is complete."), Tone.GOOD),
    "cancelled": Outcome(
        _("Cancelled"), _("This order was cancelled and will not be sent."), Tone.BAD
    ),
    "refunded": Outcome(_("Refunded"), _("This order was refunded in full."), Tone.BAD),
    "failed": Outcome(
        _("Payment failed"),
        _("The payment for this order did not go through, so it was not placed."),
        Tone.BAD,
    ),
}

PAID = frozenset({"processing", "completed"})


def status_label(status: str) -> str | Promise:
    """A customer-facing name for a status; a plugin's own slug ("ready-to-ship") is shown as
    words ("Ready to ship")."""
    known = STATUS_LABELS.get(status)
    if known is not None:
        return known
    return status.replace("-", " ").replace("_", " ").strip().capitalize() or status


def outcome(status: str) -> Outcome:
    known = _OUTCOMES.get(status)
    if known is not None:
        return known
    label = status_label(status)
    return Outcome(label, _("The store has updated this order."), Tone.INFO)


def _first(moves: Sequence[StatusMove], statuses: frozenset[str]) -> datetime | None:
    times = [m.changed_at for m in moves if m.to_status in statuses]
    return min(times) if times else None


def steps(
    *,
    status: str,
    date_created: datetime,
    date_paid: datetime | None,
    date_completed: datetime | None,
    moves: Sequence[StatusMove],
) -> list[Step]:
    """The four steps with their state and time (when known)."""
    processing_at = _first(moves, frozenset({"processing"}))
    completed_at = date_completed or _first(moves, frozenset({"completed"}))
    paid_at = date_paid or _first(moves, PAID)
    reached = {
        "placed": True,
        "paid": paid_at is not None or status in PAID,
        "processing": processing_at is not None or status in PAID,
        "completed": completed_at is not None or status == "completed",
    }
    times = {
        "placed": date_created,
        "paid": paid_at,
        "processing": processing_at or (paid_at if status in PAID else None),
        "completed": completed_at,
    }
    labels: dict[str, str | Promise] = {
        "placed": pgettext_lazy("order step", "Placed"),
        "paid": pgettext_lazy("order step", "Paid"),
        "processing": pgettext_lazy("order step", "Processing"),
        "completed": pgettext_lazy("order step", "Completed"),
    }
    # Statuses on the way (pending, processing, on-hold, a plugin's) have a next step; the
    # others ended the journey wherever it was.
    active = status not in {"cancelled", "refunded", "failed", "completed", "trash"}
    result: list[Step] = []
    current_given = False
    for key, label in labels.items():
        if reached[key]:
            state = StepState.DONE
        elif active and not current_given:
            state, current_given = StepState.CURRENT, True
        else:
            state = StepState.UPCOMING if active else StepState.STOPPED
        result.append(Step(key=key, label=label, state=state, at=times[key]))
    return result
