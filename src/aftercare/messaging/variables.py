"""The variables a template sees, built from the mirror as plain dicts, lists and strings.

    context = variables.build(store=store, customer=customer, order=order, locale="ko",
                              links={"order_url": …, "unsubscribe_url": …},
                              extra={"coupon": variables.coupon(…)})
    brand = variables.brand(store=store)
    variables.sample(locale="ja")            # a full made-up set: previews, check_template

Templates are untrusted code (rendering.py), so they never get model instances — only values,
already formatted for the customer's language: money with Babel through core.money_format (₩
and ¥ without decimals), dates in the customer's time zone (else the store's), order statuses
in customer words. Every documented key is always present, blank when unknown, so a template
can test `{% if order.discount %}` and never meets a "None". The reference for store owners is
docs/subsystems/messaging-templates.md: a key added here is documented there.

Names follow each language's habits: `greeting_name` is the first name in English ("Hi Ann"),
the full name in Korean order in Korean ("김민준님"), the family name in Japanese ("山田様"), and
a polite stand-in without one ("there", "고객" → "고객님", "お客" → "お客様"); the templates add
님/様 themselves.

Reads go through a `lookups.Lookups` (the store's connection is cached on the instance): the
customer's figures, the order's lines, its products, and the recommendations (recommendations.py)
— a query each for one message, one query per batch with `lookups.BatchLookups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_percent
from django.utils import translation
from django.utils.translation import pgettext

from aftercare.core.money_format import format_money
from aftercare.customers.models import Customer
from aftercare.messaging import recommendations
from aftercare.messaging.email_layout import Brand
from aftercare.messaging.lookups import Lookups
from aftercare.orders.models import Order
from aftercare.stores.models import Store, WooConnection

RECOMMENDATIONS = recommendations.RECOMMENDATIONS

GREETING_FALLBACK = {"en": "there", "ko": "고객", "ja": "お客"}

LINK_KEYS = (
    "order_url",
    "preferences_url",
    "unsubscribe_url",
    "review_url",
    "survey_url",
    "shop_url",
)
# Links only some senders fill (blank otherwise): the loyalty module's programme page, and the
# customer's page in the dashboard for staff mail.
OPTIONAL_LINK_KEYS = ("loyalty_url", "customer_url")


def _language(locale: str) -> str:
    return (locale or "en").replace("_", "-").split("-")[0].lower()


def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse((locale or "en").replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def _zone(*names: str) -> ZoneInfo:
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def format_day(value: date | datetime | None, *, locale: str, zone: ZoneInfo | None = None) -> str:
    """A date as people of `locale` write it in full: "March 1, 2026", "2026년 3월 1일",
    "2026年3月1日". Datetimes are taken to `zone` first."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zone or ZoneInfo("UTC")).date()
    return format_date(value, format="long", locale=_babel_locale(locale))


def money(amount: Decimal | int | None, currency: str, *, locale: str) -> str:
    return format_money(amount, currency, locale=locale) if amount is not None else ""


# --- names ------------------------------------------------------------------------------------


def _is_cjk(text: str) -> bool:
    return any(
        "\u1100" <= c <= "\u11ff"  # Hangul Jamo
        or "\u3040" <= c <= "\u30ff"  # Hiragana, Katakana
        or "\u3130" <= c <= "\u318f"  # Hangul compatibility Jamo
        or "\u3400" <= c <= "\u9fff"  # CJK ideographs
        or "\uac00" <= c <= "\ud7a3"  # Hangul syllables
        for c in text
    )


def names(*, first_name: str, last_name: str, locale: str) -> tuple[str, str]:
    """(full_name, greeting_name) as the language writes them."""
    first, last = first_name.strip(), last_name.strip()
    language = _language(locale)
    family_first = _is_cjk(first + last)
    if language == "ko" and family_first:
        full = f"{last}{first}"
    elif family_first:
        full = f"{last} {first}".strip()
    else:
        full = f"{first} {last}".strip()
    if language == "ko":
        greeting = full if family_first else (first or last)
    elif language == "ja":
        greeting = last or first
    else:
        greeting = first
    return full, greeting or GREETING_FALLBACK.get(language, GREETING_FALLBACK["en"])


# --- order statuses in customer words ---------------------------------------------------------


@lru_cache(maxsize=512)
def status_label(status: str, *, locale: str) -> str:
    with translation.override(_language(locale)):
        labels = {
            "pending": pgettext("order status in email", "Awaiting payment"),
            "processing": pgettext("order status in email", "Being prepared"),
            "on-hold": pgettext("order status in email", "On hold"),
            "shipped": pgettext("order status in email", "Shipped"),
            "completed": pgettext("order status in email", "Completed"),
            "cancelled": pgettext("order status in email", "Cancelled"),
            "refunded": pgettext("order status in email", "Refunded"),
            "failed": pgettext("order status in email", "Payment failed"),
        }
    return labels.get(status, status.replace("-", " ").capitalize())


# --- pieces -----------------------------------------------------------------------------------


def _store_url(store: Store) -> str:
    try:
        return str(store.woo.url).rstrip("/")
    except WooConnection.DoesNotExist:
        return ""


def brand(*, store: Store, footer_lines: Iterable[str] = ()) -> Brand:
    """The store's look in emails (rendering.Brand)."""
    return Brand(
        store_name=store.name,
        color=store.brand_color,
        logo_url=store.logo_url,
        footer_lines=tuple(footer_lines),
    )


def _store(store: Store) -> dict[str, str]:
    return {
        "name": store.name,
        "url": _store_url(store),
        "logo_url": store.logo_url,
        "support_email": store.reply_to_email or store.sender_email,
    }


def _customer(customer: Customer, *, store: Store, locale: str, lookups: Lookups) -> dict[str, Any]:
    full, greeting = names(
        first_name=customer.first_name, last_name=customer.last_name, locale=locale
    )
    orders_count, spent = (
        lookups.customer_figures(customer_id=customer.pk)
        if customer.pk is not None  # an unsaved stand-in (staff mail about no one): no figures
        else (0, Decimal(0))
    )
    return {
        "first_name": customer.first_name.strip(),
        "last_name": customer.last_name.strip(),
        "full_name": full,
        "greeting_name": greeting,
        "email": customer.email,
        "orders_count": orders_count,
        "total_spent": money(spent, store.currency, locale=locale),
    }


def _order(
    order: Order,
    *,
    store: Store,
    locale: str,
    zone: ZoneInfo,
    lookups: Lookups,
    recommend: bool = True,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    currency = order.currency or store.currency
    lines = list(order.lines.all())
    products = lookups.products(
        store=store,
        external_ids=sorted({line.product_external_id or 0 for line in lines} - {0}),
    )
    items = []
    for line in lines:
        product = products.get(line.product_external_id or 0)
        permalink = product.permalink if product is not None else ""
        items.append(
            {
                "name": line.name,
                "sku": line.sku,
                "quantity": line.quantity,
                "price": money(line.unit_price, currency, locale=locale),
                "total": money(line.total, currency, locale=locale),
                "image_url": recommendations.image_url(product),
                "product_url": permalink,
                "review_url": f"{permalink}#reviews" if permalink else "",
            }
        )
    discount = order.discount_total or Decimal(0)
    variables = {
        "number": order.number,
        "date": format_day(order.date_created, locale=locale, zone=zone),
        "status": status_label(order.status, locale=locale),
        "total": money(order.total, currency, locale=locale),
        "subtotal": money(order.subtotal, currency, locale=locale),
        "discount": money(-discount, currency, locale=locale) if discount else "",
        "shipping": money(order.shipping_total, currency, locale=locale),
        "currency": currency,
        "items": items,
        "item_count": sum(max(line.quantity, 0) for line in lines),
        "coupon_codes": [str(code) for code in order.coupon_codes or [] if code],
    }
    recommended = (
        recommendations.for_order(
            store=store,
            # In the order of the order's lines (the shop's), whatever order rows came in.
            ordered=list(
                {
                    line.product_external_id: products[line.product_external_id]
                    for line in lines
                    if line.product_external_id in products
                }.values()
            ),
            locale=locale,
            currency=currency,
            lookups=lookups,
        )
        if recommend
        else []
    )
    return variables, recommended


def uses_recommendations(*texts: str) -> bool:
    """Whether a template's texts can show recommendations: they name the variable, or call
    the product grid (which shows them by default)."""
    return any("recommended_products" in text or "product_grid" in text for text in texts)


def _empty_order() -> dict[str, Any]:
    keys = ("number", "date", "status", "total", "subtotal", "discount", "shipping", "currency")
    return {**dict.fromkeys(keys, ""), "items": [], "item_count": 0, "coupon_codes": []}


def coupon(
    *,
    code: str,
    discount_type: str,
    amount: Decimal,
    currency: str,
    expires_at: datetime | date | None,
    locale: str,
    time_zone: str = "",
) -> dict[str, str]:
    """A coupon as templates see it (`extra={"coupon": …}` from the module that issues it)."""
    if discount_type == "percent":
        shown = format_percent(amount / 100, locale=_babel_locale(locale))
    else:
        shown = money(amount, currency, locale=locale)
    with translation.override(_language(locale)):
        value = pgettext("email coupon", "%(amount)s off") % {"amount": shown}
    return {
        "code": code,
        "value": value,
        "expires_at": format_day(expires_at, locale=locale, zone=_zone(time_zone)),
    }


EMPTY_COUPON = {"code": "", "value": "", "expires_at": ""}
EMPTY_POINTS = {"balance": "", "value": ""}
EMPTY_NOTIFICATION = {"title": "", "message": ""}


def build(
    *,
    store: Store,
    customer: Customer,
    order: Order | None = None,
    locale: str,
    links: Mapping[str, str],
    extra: Mapping[str, Any] | None = None,
    recommend: bool = True,
    lookups: Lookups | None = None,
) -> dict[str, Any]:
    """Every documented variable for one message. `extra` adds or replaces top-level keys
    (later modules: `coupon`, `points`, `notification`, …). `recommend=False` leaves
    `recommended_products` empty without querying the catalogue (for templates that never show
    them: see `uses_recommendations`). `lookups`: a batch's (lookups.BatchLookups), else one
    query per read."""
    lookups = lookups or Lookups()
    zone = _zone(customer.time_zone, store.time_zone)
    store_vars = _store(store)
    order_vars, recommended = (
        _order(order, store=store, locale=locale, zone=zone, lookups=lookups, recommend=recommend)
        if order is not None
        else (_empty_order(), [])
    )
    link_vars = dict.fromkeys(LINK_KEYS, "") | {k: str(v or "") for k, v in links.items()}
    link_vars["shop_url"] = link_vars["shop_url"] or store_vars["url"]
    if not link_vars["review_url"]:
        link_vars["review_url"] = next(
            (item["review_url"] for item in order_vars["items"] if item["review_url"]), ""
        )
    variables: dict[str, Any] = {
        "store": store_vars,
        "customer": _customer(customer, store=store, locale=locale, lookups=lookups),
        "order": order_vars,
        "recommended_products": recommended,
        "coupon": dict(EMPTY_COUPON),
        "points": dict(EMPTY_POINTS),
        "notification": dict(EMPTY_NOTIFICATION),
        "links": link_vars,
    }
    variables.update(extra or {})
    return variables


# --- a made-up set for previews and checks ------------------------------------------------------

_SAMPLE_PEOPLE = {
    "en": ("Ann", "Lee", "USD", ("Linen shirt", "Canvas tote", "Wool socks", "Cap", "Belt")),
    "ko": ("민준", "김", "KRW", ("린넨 셔츠", "캔버스 토트백", "울 양말", "모자", "벨트")),
    "ja": (
        "花子",
        "山田",
        "JPY",
        ("リネンシャツ", "キャンバストート", "ウールソックス", "帽子", "ベルト"),
    ),
}
_SAMPLE_PRICES = {"USD": Decimal("24.50"), "KRW": Decimal(32000), "JPY": Decimal(3200)}


def sample(*, locale: str, items: int = 2) -> dict[str, Any]:
    """A full variable set with made-up values (no database): the editor's preview when no
    customer is picked, check_template's trial render, the benchmark."""
    language = _language(locale)
    first, last, currency, product_names = _SAMPLE_PEOPLE.get(language, _SAMPLE_PEOPLE["en"])
    unit = _SAMPLE_PRICES[currency]
    full, greeting = names(first_name=first, last_name=last, locale=locale)
    shop = "https://shop.example"
    lines = [
        {
            "name": product_names[i % len(product_names)],
            "sku": f"SKU-{i + 1}",
            "quantity": i % 2 + 1,
            "price": money(unit, currency, locale=locale),
            "total": money(unit * (i % 2 + 1), currency, locale=locale),
            "image_url": f"{shop}/images/{i + 1}.jpg",
            "product_url": f"{shop}/product/{i + 1}",
            "review_url": f"{shop}/product/{i + 1}#reviews",
        }
        for i in range(items)
    ]
    subtotal = sum((unit * (i % 2 + 1) for i in range(items)), Decimal(0))
    when = date(2026, 3, 1)
    return {
        "store": {
            "name": "Acme",
            "url": shop,
            "logo_url": "",
            "support_email": "help@shop.example",
        },
        "customer": {
            "first_name": first,
            "last_name": last,
            "full_name": full,
            "greeting_name": greeting,
            "email": "customer@example.com",
            "orders_count": 3,
            "total_spent": money(subtotal * 3, currency, locale=locale),
        },
        "order": {
            "number": "1042",
            "date": format_day(when, locale=locale),
            "status": status_label("processing", locale=locale),
            "total": money(subtotal, currency, locale=locale),
            "subtotal": money(subtotal, currency, locale=locale),
            "discount": "",
            "shipping": money(Decimal(0), currency, locale=locale),
            "currency": currency,
            "items": lines,
            "item_count": sum(int(line["quantity"]) for line in lines),  # type: ignore[call-overload]
            "coupon_codes": [],
        },
        "recommended_products": [
            {
                "name": product_names[(i + 2) % len(product_names)],
                "price": money(unit, currency, locale=locale),
                "url": f"{shop}/product/{i + 10}",
                "image_url": f"{shop}/images/{i + 10}.jpg",
            }
            for i in range(RECOMMENDATIONS)
        ],
        "coupon": coupon(
            code="THANKS-7F3K",
            discount_type="percent",
            amount=Decimal(10),
            currency=currency,
            expires_at=when + timedelta(days=30),
            locale=locale,
        ),
        "points": {"balance": "120", "value": money(unit / 10, currency, locale=locale)},
        "notification": {"title": "", "message": ""},
        "links": {
            "order_url": f"{shop}/c/sample/order",
            "preferences_url": f"{shop}/c/sample/preferences",
            "unsubscribe_url": f"{shop}/c/sample/unsubscribe",
            "review_url": f"{shop}/product/1#reviews",
            "survey_url": f"{shop}/c/sample/survey",
            "shop_url": shop,
        },
    }
