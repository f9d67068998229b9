"""The one place services read the time, so tests can move it (time-machine) and pure functions
can take `now=` instead."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def parse_gmt(value: str | None) -> datetime | None:
    """Parse WooCommerce's `*_gmt` fields ("2026-11-22T07:46:21", no offset, UTC) as aware UTC.

    Values with an explicit offset are honoured. None/"" stay None."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
