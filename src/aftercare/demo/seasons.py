"""When people shop: the year's rhythm (a November/December peak, a summer dip), a customer
base that grows over time, and the hours of the day people check out in their own time zone.

    weight = seasonal_weight(at=datetime(2025, 11, 28, tzinfo=UTC))   # Black Friday: ~2.6
    first = draw_acquisition(start=..., end=..., rng=rng)               # a first-purchase time

Pure: time and randomness are parameters. Weights average about 1 over a year, so thinning a
BG/NBD process with them moves purchases around the calendar without changing how many there
are in the long run.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Relative demand per month for a coffee & tea shop: gift season dominates, summer is quiet.
_MONTH = (0.85, 0.85, 0.95, 0.95, 0.95, 0.80, 0.75, 0.80, 1.00, 1.05, 1.45, 1.55)
# Black Friday to Cyber Monday (and the days around them) on top of November's level.
_BLACK_FRIDAY_BOOST = 1.8
# Mean of the weight over a year, so `seasonal_weight` averages 1.
_MEAN = (sum(_MONTH) + 7 * 1.45 * (_BLACK_FRIDAY_BOOST - 1.0) / 30) / 12
WEIGHT_MAX = max(_MONTH) * _BLACK_FRIDAY_BOOST / _MEAN  # the window can reach into December

# Share of a day's orders per local hour: late evening peak, a lunch bump, dead of night quiet.
_HOURS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.2, 3.0, 3.6, 4.0, 4.6,
    5.4, 5.0, 4.6, 4.4, 4.6, 5.0, 5.6, 6.4, 7.2, 7.4, 6.2, 3.4,
)  # fmt: skip
_HOUR_VALUES = tuple(range(24))


def black_friday(*, year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return thursday + timedelta(days=22)


def seasonal_weight(*, at: datetime) -> float:
    """Relative purchase intensity at `at` (about 1 on average over a year)."""
    day = at.date()
    weight = _MONTH[day.month - 1]
    friday = black_friday(year=day.year)
    if friday - timedelta(days=2) <= day <= friday + timedelta(days=4):
        weight *= _BLACK_FRIDAY_BOOST
    return weight / _MEAN


def draw_acquisition(
    *, start: datetime, end: datetime, rng: random.Random, growth: float = 2.5
) -> datetime:
    """A first-purchase time in [start, end]: acquisition grows linearly to `growth` times its
    opening level by `end` (a shop that is catching on) and follows the seasons."""
    span = (end - start).total_seconds()
    ceiling = growth * WEIGHT_MAX
    while True:
        u = rng.random()
        at = start + timedelta(seconds=u * span)
        density = (1.0 + (growth - 1.0) * u) * seasonal_weight(at=at)
        if rng.random() * ceiling < density:
            return at


def local_checkout_time(
    *, at: datetime, zone: ZoneInfo, rng: random.Random, not_after: datetime
) -> datetime:
    """`at` moved to a believable hour of the same local day in `zone` (people order after
    dinner, not at 4 am). Falls back to `at` when the new time would pass `not_after`."""
    local_day = at.astimezone(zone).date()
    hour = rng.choices(_HOUR_VALUES, weights=_HOURS)[0]
    seconds = rng.randrange(3600)
    moved = datetime.combine(local_day, time(hour), tzinfo=zone) + timedelta(seconds=seconds)
    moved = moved.astimezone(at.tzinfo)
    return at if moved > not_after else moved
