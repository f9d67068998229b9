"""Money per locale: the currency's own decimals, the locale's symbols and grouping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from aftercare.core.money_format import format_money, format_number, format_share


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1234.5", "USD", "en", "$1,234.50"),
        ("1234.5", "EUR", "en", "€1,234.50"),
        ("1234.6", "KRW", "ko", "₩1,235"),
        ("1234.6", "JPY", "ja", "￥1,235"),
        ("-20", "USD", "en", "-$20.00"),
        ("5", "usd", "zz-unknown", "$5.00"),
    ],
)
def test_format_money(amount: str, currency: str, locale: str, expected: str) -> None:
    assert format_money(Decimal(amount), currency, locale=locale) == expected


def test_numbers_and_shares() -> None:
    assert format_number(1234567, locale="en") == "1,234,567"
    assert format_share(0.2534, locale="en") == "25.3%"
    assert format_money(None, "USD", locale="en") == ""


def test_template_filters_follow_the_active_language() -> None:
    template = Template("{% load money %}{{ a|money:'JPY' }} {{ n|number }}")
    with translation.override("ja"):
        assert template.render(Context({"a": Decimal("1500"), "n": 1500})) == "￥1,500 1,500"
