"""Wall-clock time where a person lives: time zones chosen with fallbacks, local times made
UTC across DST changes, "the next 10:00 on a weekday", "the next birthday".

    zone = local_time.zone(store_tz="Europe/Berlin", customer_tz="Asia/Seoul")
    local_time.local_to_utc(date(2026, 3, 29), time(2, 30), ZoneInfo("Europe/Berlin"))
    # 02:30 does not exist that night (clocks jump 02:00 → 03:00): 01:00 UTC, i.e. 03:00 local

A local time skipped by a spring-forward change becomes the first instant after the gap; one
that happens twice in autumn is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(*, store_tz: str, customer_tz: str = "") -> ZoneInfo:
    for name in (customer_tz, store_tz, "UTC"):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at `at` on the wall clock of `zone`, as UTC (see the module docstring for DST)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        # A wall time that does not exist (spring forward): the first instant after the gap.
        later = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        utc = min(later, utc)
        while utc.astimezone(zone).replace(tzinfo=None) < naive:
            utc += timedelta(minutes=1)
    return utc


def next_time_of_day(
    *, after: datetime, at: time, zone: ZoneInfo, weekdays: list[int] | None = None
) -> datetime:
    """The first moment at or after `after` when the local clock shows `at` on an allowed day."""
    local_day = after.astimezone(zone).date()
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        if weekdays and day.weekday() not in weekdays:
            continue
        moment = local_to_utc(day, at, zone)
        if moment >= after:
            return moment
    raise ValueError("no allowed day within a week")  # weekdays validated non-empty


def next_anniversary(*, of: date, on_or_after: date) -> date:
    """The next date with `of`'s month and day (Feb 29 → Feb 28 in common years)."""
    for year in (on_or_after.year, on_or_after.year + 1):
        try:
            candidate = of.replace(year=year)
        except ValueError:  # Feb 29 in a common year
            candidate = date(year, 2, 28)
        if candidate >= on_or_after:
            return candidate
    raise AssertionError("unreachable")
