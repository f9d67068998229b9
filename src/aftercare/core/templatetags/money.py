"""Template filters for money and numbers in the active language (see core.money_format).

    {% load money %}
    {{ order.total|money:order.currency }}   {{ revenue|money_compact:store.currency }}
    {{ customers|number }}   {{ repeat_rate|share }}
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import translation

from aftercare.core import money_format

register = template.Library()


def _lang() -> str:
    return translation.get_language() or "en"


@register.filter
def money(amount: Decimal | int | None, currency: str = "USD") -> str:
    return money_format.format_money(amount, currency or "USD", locale=_lang())


@register.filter
def money_compact(amount: Decimal | int | None, currency: str = "USD") -> str:
    return money_format.format_money_compact(amount, currency or "USD", locale=_lang())


@register.filter
def number(value: Decimal | int | float | None) -> str:
    return money_format.format_number(value, locale=_lang())


@register.filter
def share(value: Decimal | float | None) -> str:
    return money_format.format_share(value, locale=_lang())
