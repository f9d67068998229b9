"""Money and numbers as people of a locale write them (CLDR data through Babel):

    format_money(Decimal("1234.5"), "USD", locale="en")  -> "$1,234.50"
    format_money(Decimal("1234.5"), "KRW", locale="ko")  -> "₩1,235"
    format_money(Decimal("1234.5"), "JPY", locale="ja")  -> "￥1,235"

Amounts stay Decimal until this last step; the currency's own number of decimals is used."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_compact_currency, format_currency, format_decimal, format_percent


@lru_cache(maxsize=64)
def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def format_money(amount: Decimal | int | None, currency: str, *, locale: str) -> str:
    if amount is None:
        return ""
    return _money(Decimal(amount), currency.upper() or "USD", locale)


# Babel takes ~0.1 ms per amount; a mail shows a dozen, mostly the same product prices again
# and again: remembered per (amount, currency, locale). Decimals equal in value format alike.
@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=_locale(locale))


def format_money_compact(amount: Decimal | int | None, currency: str, *, locale: str) -> str:
    """Short form for chart axes and tight cards: "$1.2K", "₩120만"."""
    if amount is None:
        return ""
    return format_compact_currency(
        Decimal(amount), currency.upper() or "USD", locale=_locale(locale), fraction_digits=1
    )


def format_number(value: Decimal | int | float | None, *, locale: str) -> str:
    return "" if value is None else format_decimal(value, locale=_locale(locale))


def format_share(value: Decimal | float | None, *, locale: str, digits: int = 1) -> str:
    """A ratio (0.253) as a percentage ("25.3%")."""
    if value is None:
        return ""
    return format_percent(value, locale=_locale(locale), format=f"#,##0.{'0' * digits}%")
