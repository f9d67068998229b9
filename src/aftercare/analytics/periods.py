"""Date ranges for reports, in store days: presets ("last 30 days", "last month", …), custom
ranges from user input, the previous period of equal length, and chart buckets. Pure: the
caller passes `today` (in the store's time zone)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

MAX_DAYS = 3 * 366  # a longer custom range is refused (and no chart reads well past that)
DEFAULT_PRESET = "last_30"
PRESETS: dict[str, Any] = {
    "last_7": _("Last 7 days"),
    "last_30": _("Last 30 days"),
    "last_90": _("Last 90 days"),
    "this_month": _("This month"),
    "last_month": _("Last month"),
    "year_to_date": _("Year to date"),
    "last_12_months": _("Last 12 months"),
}


@dataclass(frozen=True)
class Period:
    """Store days `start`..`end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def shifted(self, offset_days: int) -> Period:
        return Period(self.start + timedelta(offset_days), self.end + timedelta(offset_days))


def _last_month(today: date) -> Period:
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end)


_STARTS: dict[str, Callable[[date], Period]] = {
    "last_7": lambda today: Period(today - timedelta(days=6), today),
    "last_30": lambda today: Period(today - timedelta(days=29), today),
    "last_90": lambda today: Period(today - timedelta(days=89), today),
    "this_month": lambda today: Period(today.replace(day=1), today),
    "last_month": _last_month,
    "year_to_date": lambda today: Period(today.replace(month=1, day=1), today),
    "last_12_months": lambda today: Period(_add_months(today, -12) + timedelta(days=1), today),
}


def preset_period(preset: str, *, today: date) -> Period:
    """The days of a PRESETS key, ending today (included); unknown keys give the default."""
    return _STARTS.get(preset, _STARTS[DEFAULT_PRESET])(today)


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class RangeChoice:
    period: Period
    preset: str  # a PRESETS key, or "custom"
    error: Any = None  # a translatable message when the input was refused


def parse_range(
    *, preset: str | None, start: str | None, end: str | None, today: date
) -> RangeChoice:
    """What the user asked for (query parameters), or the default range with the reason."""
    if preset in PRESETS:
        return RangeChoice(preset_period(preset, today=today), preset)
    if not (preset == "custom" or start or end):
        error = _("Unknown date range; showing the last 30 days.") if preset else None
        return _default(today, error)
    return _custom(start=start, end=end, today=today)


def _custom(*, start: str | None, end: str | None, today: date) -> RangeChoice:
    try:
        first = date.fromisoformat((start or "").strip())
        last = date.fromisoformat((end or "").strip())
    except ValueError:
        return _default(
            today, _("Enter both dates as YYYY-MM-DD; showing the last 30 days instead.")
        )
    if first > last:
        return _default(today, _("The start date is after the end date; showing the last 30 days."))
    if (last - first).days + 1 > MAX_DAYS:
        return _default(today, _("Choose at most three years; showing the last 30 days."))
    return RangeChoice(Period(first, last), "custom")


def _default(today: date, error: Any) -> RangeChoice:
    return RangeChoice(preset_period(DEFAULT_PRESET, today=today), DEFAULT_PRESET, error)


def granularity(period: Period) -> str:
    """Chart buckets: days up to two months, weeks up to half a year, months beyond."""
    if period.days <= 62:
        return "day"
    if period.days <= 183:
        return "week"
    return "month"


def buckets(period: Period, unit: str) -> list[tuple[int, int]]:
    """The chart buckets as day offsets (first, last) from `period.start`. Weeks are runs of 7
    days from the start; months are calendar months (the first and last may be partial). The
    previous period uses the same offsets, so bucket i compares like with like."""
    if unit == "day":
        return [(i, i) for i in range(period.days)]
    if unit == "week":
        return [(i, min(i + 6, period.days - 1)) for i in range(0, period.days, 7)]
    out = []
    cursor = period.start
    while cursor <= period.end:
        next_month = _add_months(cursor.replace(day=1), 1)
        last = min(period.end, next_month - timedelta(days=1))
        out.append(((cursor - period.start).days, (last - period.start).days))
        cursor = next_month
    return out
