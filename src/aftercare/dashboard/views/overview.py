"""The overview: how the store did in a period against the period before — revenue, orders,
AOV for new vs returning customers, repeat purchases, the 90-day repurchase of new customers —
with charts, read from the daily aggregates (analytics.selectors), plus the cards other modules
put in the OVERVIEW slot. Revenue is left out entirely (not blurred) for staff who may not
see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_skeleton
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aftercare.analytics import metrics, periods
from aftercare.analytics import selectors as analytics_selectors
from aftercare.analytics.periods import Period
from aftercare.analytics.selectors import Change, Overview
from aftercare.core import money_format, slots
from aftercare.dashboard.access import Staff, staff_page
from aftercare.stores.permissions import Permission


@staff_page()
def overview(request: HttpRequest, staff: Staff) -> HttpResponse:
    store = staff.store
    today = analytics_selectors.store_today(store=store)
    choice = periods.parse_range(
        preset=request.GET.get("range"),
        start=request.GET.get("from"),
        end=request.GET.get("to"),
        today=today,
    )
    view = analytics_selectors.overview(store=store, period=choice.period, today=today)
    show_revenue = staff.can(Permission.VIEW_REVENUE)
    lang = translation.get_language() or "en"
    fmt = _Formatter(lang=lang, currency=store.currency)
    context = {
        "choice": choice,
        "view": view,
        "presets": [
            {
                "key": key,
                "label": label,
                "query": urlencode({"range": key}),
                "active": key == choice.preset,
            }
            for key, label in periods.PRESETS.items()
        ],
        "period_label": fmt.period(view.period),
        "previous_label": fmt.period(view.previous),
        "show_revenue": show_revenue,
        "kpis": _kpis(view, fmt, show_revenue=show_revenue),
        "split": _split(view, fmt, show_revenue=show_revenue),
        "cohort": _cohort(view, fmt),
        "chart": _chart(view, fmt, show_revenue=show_revenue, lang=lang),
        "as_of": fmt.moment(view.as_of, store.time_zone) if view.as_of else "",
        "panels": _panels(request, staff, view),
    }
    return render(request, "dashboard/overview.html", context)


urlpatterns = [path("", overview, name="overview")]


class _Formatter:
    """Numbers, money and dates in the active language (CLDR through Babel)."""

    def __init__(self, *, lang: str, currency: str) -> None:
        self.lang, self.currency = lang, currency
        try:
            self.locale = Locale.parse(lang.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            self.locale = Locale.parse("en")

    def money(self, amount: Decimal | None) -> str:
        return (
            "—"
            if amount is None
            else money_format.format_money(amount, self.currency, locale=self.lang)
        )

    def count(self, value: int | None) -> str:
        return "—" if value is None else money_format.format_number(value, locale=self.lang)

    def share(self, value: Decimal | None) -> str:
        return "—" if value is None else money_format.format_share(value, locale=self.lang)

    def day(self, day: date, *, year: bool = True) -> str:
        return format_skeleton("yMMMd" if year else "MMMd", day, locale=self.locale)

    def month(self, day: date) -> str:
        return format_skeleton("yMMM", day, locale=self.locale)

    def period(self, period: Period) -> str:
        if period.start == period.end:
            return self.day(period.start)
        return _("%(start)s – %(end)s") % {  # noqa: RUF001 - the en dash of ranges; a literal, so xgettext extracts it
            "start": self.day(period.start, year=period.start.year != period.end.year),
            "end": self.day(period.end),
        }

    def moment(self, at: datetime, time_zone: str) -> str:
        return format_datetime(at, "short", tzinfo=metrics.zone(time_zone), locale=self.locale)

    def change(self, change: Change) -> str:
        if change.points is not None:
            points = money_format.format_number(
                abs(change.points * 100).quantize(Decimal("0.1")), locale=self.lang
            )
            sign = "+" if change.points > 0 else "-" if change.points < 0 else "±"
            return pgettext("percentage points", "%(sign)s%(points)s pts") % {
                "sign": sign, "points": points,
            }  # fmt: skip
        if change.relative is not None:
            sign = "+" if change.relative > 0 else "-" if change.relative < 0 else "±"
            return sign + money_format.format_share(abs(change.relative), locale=self.lang)
        return ""


@dataclass(frozen=True)
class _Kpi:
    key: str
    label: str
    value: str
    previous: str
    delta: str
    direction: str  # up / down / flat
    tone: str  # how the direction reads: "up" (good), "down" (bad), "flat"
    help: str = ""


def _kpis(view: Overview, fmt: _Formatter, *, show_revenue: bool) -> list[_Kpi]:
    spec: list[tuple[str, str, Any, bool, str]] = []
    if show_revenue:
        spec += [
            ("revenue", _("Net revenue"), fmt.money, True,
             _("Paid orders placed in the period, less their refunds.")),
            ("aov", _("Average order value"), fmt.money, True,
             _("Net revenue per paid order.")),
        ]  # fmt: skip
    spec += [
        ("orders", _("Orders"), fmt.count, True, _("Paid orders placed in the period.")),
        ("new_customers", _("New customers"), fmt.count, True,
         _("Customers whose first paid order was placed in the period.")),
        ("repeat_rate", _("Repeat-purchase rate"), fmt.share, True,
         _("Share of paid orders placed by returning customers.")),
    ]  # fmt: skip
    if show_revenue:
        spec.append(
            ("refunded", _("Refunded"), fmt.money, False,
             _("Refunds of the period's paid orders, whenever they were made."))
        )  # fmt: skip
    out = []
    for key, label, show, up_is_good, help_text in spec:
        change = view.current.change(view.compared, key)
        direction = change.direction
        # The colour says good or bad: fewer refunds is good news.
        tone = (
            direction
            if up_is_good or direction == "flat"
            else {"up": "down", "down": "up"}[direction]
        )
        out.append(
            _Kpi(
                key=key,
                label=label,
                value=show(getattr(view.current, key)),
                previous=show(getattr(view.compared, key)),
                delta=fmt.change(change),
                direction=direction,
                tone=tone,
                help=help_text,
            )
        )
    return out


def _split(view: Overview, fmt: _Formatter, *, show_revenue: bool) -> list[dict[str, Any]]:
    """New vs returning, this period and the previous one."""
    rows = []
    for label, orders, revenue, aov in (
        (_("New customers"), "orders_new", "revenue_new", "aov_new"),
        (_("Returning customers"), "orders_returning", "revenue_returning", "aov_returning"),
    ):
        row: dict[str, Any] = {"label": label}
        for name, totals in (("current", view.current), ("previous", view.compared)):
            row[name] = {"orders": fmt.count(getattr(totals, orders))}
            if show_revenue:
                row[name]["revenue"] = fmt.money(getattr(totals, revenue))
                row[name]["aov"] = fmt.money(getattr(totals, aov))
        rows.append(row)
    return rows


def _cohort(view: Overview, fmt: _Formatter) -> dict[str, Any]:
    cur, prev = view.current, view.compared
    change = cur.change(prev, "repeat_90_rate")
    return {
        "rate": fmt.share(cur.repeat_90_rate),
        "previous": fmt.share(prev.repeat_90_rate),
        "delta": fmt.change(change),
        "direction": change.direction,
        "mature": fmt.count(cur.mature_new_customers),
        "repeat": fmt.count(cur.mature_repeat_90),
        "maturing": cur.maturing_customers,
        "maturing_label": fmt.count(cur.maturing_customers),
        "so_far": fmt.count(cur.cohort_repeat_90),
        "new_customers": fmt.count(cur.new_customers),
    }


def _money_value(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _chart(view: Overview, fmt: _Formatter, *, show_revenue: bool, lang: str) -> dict[str, Any]:
    """What overview.js draws: plain numbers and labels, no money when revenue is hidden."""

    def label(period: Period) -> str:
        if view.unit == "month":
            return fmt.month(period.start)
        if view.unit == "week":
            return fmt.period(period)
        return fmt.day(period.start, year=False)

    data: dict[str, Any] = {
        "locale": lang,
        "unit": view.unit,
        "labels": [label(b.period) for b in view.buckets],
        "previousLabels": [label(b.previous) for b in view.buckets],
        "text": {
            "orders": _("Orders"),
            "previous": _("Previous period"),
            "new": _("New customers"),
            "returning": _("Returning customers"),
        },
        "orders": {
            "current": [b.current.orders for b in view.buckets],
            "previous": [b.compared.orders for b in view.buckets],
        },
    }
    if show_revenue:
        data["currency"] = fmt.currency
        data["revenue"] = {
            "new": [_money_value(b.current.revenue_new) for b in view.buckets],
            "returning": [_money_value(b.current.revenue_returning) for b in view.buckets],
        }
        data["aov"] = {
            "new": [_money_value(b.current.aov_new) for b in view.buckets],
            "returning": [_money_value(b.current.aov_returning) for b in view.buckets],
        }
    return data


def _panels(request: HttpRequest, staff: Staff, view: Overview) -> list[dict[str, Any]]:
    """Cards other modules registered in the OVERVIEW slot (messages sent/opened/clicked,
    revenue attributed to flows, …), each rendered by its own template."""
    out = []
    for panel in slots.panels(slots.OVERVIEW):
        if panel.permission and not staff.can(panel.permission):
            continue
        context = dict(panel.context(store=staff.store, period=view.period, previous=view.previous))
        html = render_to_string(panel.template, {**context, "panel": panel}, request=request)
        out.append({"key": panel.key, "title": panel.title, "html": html})
    return out
