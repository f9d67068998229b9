"""Date ranges: presets, validation of custom input, the previous period, chart buckets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftercare.analytics import periods
from aftercare.analytics.periods import Period
from aftercare.analytics.selectors import compare

TODAY = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("last_7", date(2026, 3, 25), TODAY),
        ("last_30", date(2026, 3, 2), TODAY),
        ("last_90", date(2026, 1, 1), TODAY),
        ("this_month", date(2026, 3, 1), TODAY),
        ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
        ("year_to_date", date(2026, 1, 1), TODAY),
        ("last_12_months", date(2025, 4, 1), TODAY),
    ],
)
def test_presets(preset: str, start: date, end: date) -> None:
    choice = periods.parse_range(preset=preset, start=None, end=None, today=TODAY)
    assert choice.period == Period(start, end) and choice.error is None


def test_last_month_in_january_is_december() -> None:
    assert periods.preset_period("last_month", today=date(2026, 1, 15)) == Period(
        date(2025, 12, 1), date(2025, 12, 31)
    )


def test_previous_period_has_equal_length_and_ends_the_day_before() -> None:
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert march.previous() == Period(date(2026, 1, 29), date(2026, 2, 28))
    assert Period(TODAY, TODAY).previous() == Period(TODAY - timedelta(1), TODAY - timedelta(1))


@given(start=st.dates(date(2000, 1, 1), date(2090, 1, 1)), length=st.integers(1, 1000))
def test_previous_period_property(start: date, length: int) -> None:
    period = Period(start, start + timedelta(days=length - 1))
    previous = period.previous()
    assert previous.days == period.days and previous.end + timedelta(1) == period.start


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-03-10", "2026-03-01"),
        ("junk", "2026-03-01"),
        ("2026-03-01", ""),
        ("2020-01-01", "2026-03-01"),
    ],
)
def test_bad_custom_ranges_fall_back_with_a_reason(start: str, end: str) -> None:
    choice = periods.parse_range(preset="custom", start=start, end=end, today=TODAY)
    assert choice.error and choice.preset == "last_30"
    assert choice.period == periods.preset_period("last_30", today=TODAY)


def test_unknown_preset_and_no_input() -> None:
    assert periods.parse_range(preset="forever", start=None, end=None, today=TODAY).error
    assert periods.parse_range(preset=None, start=None, end=None, today=TODAY).error is None


def test_custom_range() -> None:
    choice = periods.parse_range(preset="custom", start="2026-01-01", end="2026-01-01", today=TODAY)
    assert choice.period == Period(date(2026, 1, 1), date(2026, 1, 1)) and not choice.error


@given(start=st.dates(date(2000, 1, 1), date(2090, 1, 1)), length=st.integers(1, 1100))
def test_buckets_cover_the_period_exactly_once(start: date, length: int) -> None:
    period = Period(start, start + timedelta(days=length - 1))
    unit = periods.granularity(period)
    offsets = periods.buckets(period, unit)
    covered = [d for first, last in offsets for d in range(first, last + 1)]
    assert covered == list(range(period.days))
    assert len(offsets) <= 62


def test_changes_against_the_previous_period() -> None:
    assert compare(150, 100).relative == pytest.approx(0.5)
    assert compare(50, 100).direction == "down"
    assert compare(5, 0).relative is None  # nothing to compare with
    assert compare(None, 3).direction == "flat"
    rate = compare(0.30, 0.25, rate=True)  # type: ignore[arg-type]
    assert rate.points is not None and float(rate.points) == pytest.approx(0.05)
    assert rate.relative is None and rate.direction == "up"
