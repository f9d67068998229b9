"""Which language a customer page (or mail) speaks: the customer's own locale when the store
writes in it (and we ship it), else the store's default; a switcher on the page offers the
store's others. Dates are shown in the customer's time zone, else the store's.

    language.choose(store=store, customer_locale="ko_KR", requested=None) -> "ko"
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from aftercare.customers.models import Customer
from aftercare.stores.models import Store


def _shipped() -> dict[str, str]:
    return {code.lower(): str(name) for code, name in settings.LANGUAGES}


def normalise(code: str | None) -> str | None:
    """A shipped language code for a locale ("ko_KR", "ja-JP", "EN") or None."""
    if not code:
        return None
    shipped = _shipped()
    value = code.strip().replace("_", "-").lower()
    if value in shipped:
        return value
    base = value.split("-", 1)[0]
    return base if base in shipped else None


def default_language(*, store: Store) -> str:
    return normalise(store.default_locale) or normalise(settings.LANGUAGE_CODE) or "en"


def available(*, store: Store) -> list[tuple[str, str]]:
    """(code, native name) of the languages the store writes in that we ship, default first."""
    shipped = _shipped()
    codes = [default_language(store=store)]
    for raw in store.languages if isinstance(store.languages, list) else []:
        code = normalise(str(raw))
        if code and code not in codes:
            codes.append(code)
    return [(code, shipped[code]) for code in codes]


def choose(*, store: Store, customer_locale: str | None, requested: str | None = None) -> str:
    """`requested` (the page's switcher) if the store offers it, else the customer's locale if
    the store offers it, else the store's default language."""
    offered = {code for code, _ in available(store=store)}
    for candidate in (normalise(requested), normalise(customer_locale)):
        if candidate in offered:
            return candidate
    return default_language(store=store)


def time_zone(*, store: Store, customer: Customer) -> ZoneInfo:
    for name in (customer.time_zone, store.time_zone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
