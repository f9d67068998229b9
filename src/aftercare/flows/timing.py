"""When a wait ends, in the customer's own clock.

    end = timing.wait_end(start=now, step=wait, zone=timing.zone(store=s, customer_tz="Asia/Seoul"),
                          dates={"customer.birthday": date(1990, 3, 14)})

Durations are exact (14 days = 14 x 24 h) — unless the wait names a time of day (`at`): then
days are calendar days on the local clock ("14 days at 10:00" is 10:00 on the 14th day after,
whatever DST did in between). A time of day and weekdays are read in the
customer's time zone when known, else the store's: "at 10:00" is 10:00 where the customer lives,
on DST days too (a local time skipped by a spring-forward change becomes the first time after
it; one that happens twice in autumn is its first occurrence). A date wait ("until the
birthday") takes the next occurrence of the month and day on or after the start, Feb 29 being
Feb 28 in other years; a date wait with no date on file returns None (the runner skips the step
and says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aftercare.core.local_time import local_to_utc, next_anniversary, next_time_of_day
from aftercare.flows.definition import WaitStep

DEFAULT_TIME = time(10, 0)  # date waits without `at`: mid-morning, local


def wait_end(
    *, start: datetime, step: WaitStep, zone: ZoneInfo, dates: Mapping[str, date | None]
) -> datetime | None:
    end = start + timedelta(days=step.days, hours=step.hours, minutes=step.minutes)
    if step.until_date:
        anchor = dates.get(step.until_date)
        if anchor is None:
            return None
        local = end.astimezone(zone).date()
        occurrence = next_anniversary(
            of=anchor, on_or_after=local - timedelta(days=step.offset_days)
        )
        day = occurrence + timedelta(days=step.offset_days)
        moment = local_to_utc(day, step.at or DEFAULT_TIME, zone)
        if moment < end:  # today's moment already passed: next year's
            occurrence = next_anniversary(of=anchor, on_or_after=occurrence + timedelta(days=1))
            moment = local_to_utc(
                occurrence + timedelta(days=step.offset_days), step.at or DEFAULT_TIME, zone
            )
        return moment
    if step.at is not None:
        # Calendar days on the local clock: "14 days at 10:00" is 10:00 on the 14th day after.
        base = start + timedelta(hours=step.hours, minutes=step.minutes)
        day = base.astimezone(zone).date() + timedelta(days=step.days)
        moment = local_to_utc(day, step.at, zone)
        after = moment if moment >= base else moment + timedelta(days=1)
        return next_time_of_day(after=after, at=step.at, zone=zone, weekdays=step.weekdays)
    if step.weekdays:
        return next_time_of_day(
            after=end, at=end.astimezone(zone).time(), zone=zone, weekdays=step.weekdays
        )
    return end
