"""A customer's time zone when the shop does not tell us (flows send "at 10:00 their time").

    guess_time_zone(phone="+14155550123", country="US")  -> "America/Los_Angeles"
    guess_time_zone(phone="", country="KR")              -> "Asia/Seoul"
    guess_time_zone(phone="", country="US")              -> ""   (six zones: no guess)

In order: the phone number's region (libphonenumber's geocoding knows area codes, so it tells
New York from California), then the billing country when all its zones keep the same clock
(CLDR's territory zones, through Babel). A country spanning several offsets without a usable
phone gives "" — flows then use the store's time zone, which is better than a wrong guess.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.core import get_global
from phonenumbers import timezone as phone_zones

# A winter and a summer instant: zones that agree on both keep the same clock all year.
_PROBES = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))


def guess_time_zone(*, phone: str, country: str) -> str:
    return _from_phone(phone) or _from_country(country.upper())


@functools.lru_cache(maxsize=65536)
def _from_phone(phone: str) -> str:
    if not phone.startswith("+"):
        return ""  # only E.164 numbers (normalised with the billing country) are trusted
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ""
    zones = [z for z in phone_zones.time_zones_for_number(number) if _known(z)]
    return _one_clock(zones)


@functools.lru_cache(maxsize=512)
def _from_country(country: str) -> str:
    if len(country) != 2:
        return ""
    zones = [z for z in get_global("territory_zones").get(country, ()) if _known(z)]
    return _one_clock(zones)


def _one_clock(zones: list[str]) -> str:
    """The first zone if every zone shows the same time as it all year, else ""."""
    if not zones:
        return ""
    offsets = {tuple(p.astimezone(ZoneInfo(z)).utcoffset() for p in _PROBES) for z in zones}
    return zones[0] if len(offsets) == 1 else ""


def _known(zone: str) -> bool:
    if zone.startswith("Etc/"):
        return False
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
