"""Guessing a customer's time zone from their phone number or billing country."""

from __future__ import annotations

import pytest

from aftercare.ingest.time_zone_guess import guess_time_zone


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("+12125550123", "US", "America/New_York"),  # area code 212
        ("+14155550123", "US", "America/Los_Angeles"),  # area code 415
        ("", "US", ""),  # several clocks: no guess
        ("", "KR", "Asia/Seoul"),
        ("+819012345678", "", "Asia/Tokyo"),  # the phone alone is enough
        ("", "DE", "Europe/Berlin"),  # Berlin and Busingen keep the same clock
        ("", "GB", "Europe/London"),
        ("", "", ""),
        ("", "ZZ", ""),
        ("555-0123", "KR", "Asia/Seoul"),  # not E.164: the country decides
        ("+15555550123", "CA", ""),  # unknown area code, multi-zone country
    ],
)
def test_guess(phone: str, country: str, expected: str) -> None:
    assert guess_time_zone(phone=phone, country=country) == expected
