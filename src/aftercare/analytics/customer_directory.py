"""The customer directory: search, filters, sort and pages over a store's customers, with their
purchase figures (CustomerStats). The dashboard list and the CSV export read it.

    filters, problems = customer_directory.parse_filters(request.GET)
    page = customer_directory.page(store=store, filters=filters, number=2)
    for row in page.rows: row.customer, row.stats   # stats is None for customers without orders

Built for 300,000 customers and a million orders per store (every query is per store):

- email: a prefix match on the stored lower-case email, `(store_id, email)` index;
- order number or WooCommerce order id: the exact number through orders' `(store, number)`
  index, the id through its `(store, external_id)` unique index;
- name: a prefix match on lower(first_name) / lower(last_name), expression indexes created in
  customers' migration 0002. Words are matched as first + last name in either order, so
  "jane do" finds Jane Doe and "doe jane" too. There is deliberately no `%infix%` match: it
  scans every row of the store on each keystroke.

How a prefix is asked so that both PostgreSQL and SQLite use those indexes:
`customers.selectors.prefix`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from aftercare.analytics import rfm
from aftercare.analytics.models import CustomerStats
from aftercare.customers import selectors as customer_selectors
from aftercare.customers.models import ConsentState, Customer, CustomerTag
from aftercare.orders.models import Order
from aftercare.stores.models import Store

PAGE_SIZE = 50

# Sort keys offered to the user -> (ORDER BY expression, nulls last). A tie-break on id keeps
# pages stable.
_SORTS: dict[str, Any] = {
    "name": (Lower("last_name").asc(), Lower("first_name").asc()),
    "email": (F("email").asc(),),
    "first_seen": (F("first_seen_at").asc(nulls_last=True),),
    "orders": (F("stats__orders_count").asc(nulls_first=True),),
    "spent": (F("stats__total_spent").asc(nulls_first=True),),
    "last_order": (F("stats__last_order_at").asc(nulls_first=True),),
}
DEFAULT_SORT = "-first_seen"
SORT_KEYS = frozenset({*_SORTS, *(f"-{key}" for key in _SORTS)})
NO_LOCALE = "none"  # the locale filter's value for "we do not know their language"


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    segment: str = ""
    tag: int | None = None
    locale: str = ""
    consent: str = ""
    last_order_from: date | None = None
    last_order_to: date | None = None  # inclusive
    spent_min: Decimal | None = None
    spent_max: Decimal | None = None
    sort: str = DEFAULT_SORT

    def to_params(self) -> dict[str, str]:
        """Query-string (and export job) form: only the values that are set, all strings."""
        params = {}
        for key, value in asdict(self).items():
            if value is None or value == "" or (key == "sort" and value == DEFAULT_SORT):
                continue
            params[key] = value.isoformat() if isinstance(value, date) else str(value)
        return params

    @property
    def active(self) -> bool:
        """True when anything narrows the list (the sort does not)."""
        return bool(replace(self, sort=DEFAULT_SORT).to_params())


@dataclass(frozen=True)
class DirectoryRow:
    customer: Customer
    stats: CustomerStats | None

    @property
    def segment_label(self) -> str:
        return segment_label(self.stats.segment) if self.stats and self.stats.segment else ""


@dataclass(frozen=True)
class DirectoryPage:
    rows: list[DirectoryRow]
    total: int
    number: int
    pages: int
    page_size: int = PAGE_SIZE
    # Set when the query is exactly one customer's email or one order's number/id.
    exact: DirectoryRow | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.page_size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.page_size)


def parse_filters(params: Mapping[str, Any]) -> tuple[DirectoryFilters, list[str]]:
    """Read filters from a query string (or an export's stored params). Unreadable values are
    left out and reported, never an error page."""
    problems: list[str] = []

    def text(key: str, limit: int = 200) -> str:
        value = params.get(key)
        return " ".join(str(value).split())[:limit] if value else ""

    def day(key: str, label: str) -> date | None:
        raw = text(key, 20)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append(_("%(field)s: not a date (YYYY-MM-DD).") % {"field": label})
            return None

    def amount(key: str, label: str) -> Decimal | None:
        raw = text(key, 30).replace(" ", "")
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value < 0:
            problems.append(_("%(field)s: not an amount.") % {"field": label})
            return None
        return value

    tag_raw = text("tag", 20)
    tag = int(tag_raw) if tag_raw.isdigit() else None
    segment = text("segment", 32)
    if segment and segment not in rfm.SEGMENTS:
        segment = ""
    consent = text("consent", 10)
    if consent and consent not in ConsentState.values:
        consent = ""
    sort = text("sort", 20) or DEFAULT_SORT
    if sort not in SORT_KEYS:
        sort = DEFAULT_SORT
    filters = DirectoryFilters(
        q=text("q"),
        segment=segment,
        tag=tag,
        locale=text("locale", 10),
        consent=consent,
        last_order_from=day("last_order_from", _("Last order from")),
        last_order_to=day("last_order_to", _("Last order to")),
        spent_min=amount("spent_min", _("Spent at least")),
        spent_max=amount("spent_max", _("Spent at most")),
        sort=sort,
    )
    return filters, problems


def customers(*, store: Store, filters: DirectoryFilters) -> QuerySet[Customer]:
    """The filtered, sorted customers of `store` (stats joined), not yet paged."""
    found = Customer.objects.filter(store=store, deleted_at__isnull=True)
    if filters.q:
        found = _search(found, store=store, q=filters.q)
    found = _filter(found, store=store, filters=filters)
    return found.select_related("stats").order_by(*_order(filters.sort))


def page(*, store: Store, filters: DirectoryFilters, number: int = 1) -> DirectoryPage:
    """One page of the directory: three queries (count, rows, and the exact-match probe when
    searching)."""
    found = customers(store=store, filters=filters)
    total = found.count()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(1, number), pages)
    start = (number - 1) * PAGE_SIZE
    rows = [_row(c) for c in found[start : start + PAGE_SIZE]]
    exact = _exact(store=store, q=filters.q) if filters.q else None
    return DirectoryPage(rows=rows, total=total, number=number, pages=pages, exact=exact)


def segment_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in rfm.SEGMENTS.items()]


def segment_label(key: str) -> str:
    label = rfm.SEGMENTS.get(key)
    return str(label) if label is not None else key


# --- search ---------------------------------------------------------------------------------


def _search(found: QuerySet[Customer], *, store: Store, q: str) -> QuerySet[Customer]:
    needle = q.strip().lower()
    # `store` inside every OR branch: without planner statistics (a fresh import) SQLite reads
    # `store_id = ? AND (a OR b)` through one index over the whole store; with the store in each
    # branch it combines the prefix indexes (MULTI-INDEX OR), as PostgreSQL does (BitmapOr).
    here = Q(store=store)
    match = here & _prefix("email", needle)
    words = needle.split()
    found = found.alias(fname=Lower("first_name"), lname=Lower("last_name"))
    match |= (here & _prefix("fname", needle)) | (here & _prefix("lname", needle))
    if len(words) >= 2:
        first, last = words[0], words[-1]
        match |= (here & _prefix("fname", first) & _prefix("lname", last)) | (
            here & _prefix("lname", first) & _prefix("fname", last)
        )
    orders = _orders_matching(store=store, q=q.strip())  # order numbers keep their case
    if orders is not None:
        # Resolved first (an index probe), so the OR below is of indexable terms only: a
        # subquery inside it would stop PostgreSQL from combining the prefix indexes.
        ids = list(orders.values_list("customer_id", flat=True)[:100])
        if ids:
            match |= here & Q(pk__in=ids)
    return found.filter(match)


_prefix = customer_selectors.prefix


def _orders_matching(*, store: Store, q: str) -> QuerySet[Order] | None:
    """Orders whose number (or WooCommerce id) is exactly `q` ("#1234" or "1234")."""
    number = q.removeprefix("#").strip()
    if not number or " " in number or len(number) > 64:
        return None
    match = Q(store=store, number=number)  # the store in each branch: see _search
    if number.isdigit() and len(number) <= 18:
        match |= Q(store=store, external_id=int(number))
    return Order.objects.filter(match, customer__isnull=False)


def _exact(*, store: Store, q: str) -> DirectoryRow | None:
    """The one customer `q` names exactly (their email, or one of their orders), even if the
    filters hide them: tools and people paste an email to get to the customer page."""
    needle = q.strip().lower()
    candidates = Customer.objects.filter(store=store).select_related("stats")
    if "@" in needle:
        hit = candidates.filter(email=needle).first()
        return _row(hit) if hit else None
    orders = _orders_matching(store=store, q=q.strip())
    if orders is None:
        return None
    ids = list(orders.values_list("customer_id", flat=True).distinct()[:2])
    if len(ids) != 1:
        return None
    hit = candidates.filter(pk=ids[0]).first()
    return _row(hit) if hit else None


# --- filters and order ----------------------------------------------------------------------


def _filter(
    found: QuerySet[Customer], *, store: Store, filters: DirectoryFilters
) -> QuerySet[Customer]:
    if filters.segment:
        found = found.filter(stats__segment=filters.segment)
    if filters.tag is not None:
        found = found.filter(
            Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=filters.tag))
        )
    if filters.locale == NO_LOCALE:
        found = found.filter(locale="")
    elif filters.locale:
        found = found.filter(Q(locale=filters.locale) | Q(locale__startswith=f"{filters.locale}-"))
    if filters.consent:
        found = found.filter(marketing_consent=filters.consent)
    zone = _zone(store)
    if filters.last_order_from is not None:
        found = found.filter(stats__last_order_at__gte=_start_of(filters.last_order_from, zone))
    if filters.last_order_to is not None:
        end = _start_of(filters.last_order_to + timedelta(days=1), zone)
        found = found.filter(stats__last_order_at__lt=end)
    if filters.spent_min is not None:
        found = found.filter(stats__total_spent__gte=filters.spent_min)
    if filters.spent_max is not None:
        found = found.filter(stats__total_spent__lte=filters.spent_max)
    return found


def _order(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    expressions = _SORTS.get(sort.lstrip("-"), _SORTS[DEFAULT_SORT.lstrip("-")])
    ordered = []
    for expression in expressions:
        if descending:
            # Customers with no figure (no orders, unknown first-seen) stay at the bottom.
            ordered.append(expression.expression.desc(nulls_last=True))
        else:
            ordered.append(expression)
    ordered.append(F("id").desc() if descending else F("id").asc())
    return ordered


def _zone(store: Store) -> ZoneInfo:
    try:
        return ZoneInfo(store.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of `day` in the store's time zone: "last order on 3 May" means the shop's day."""
    return datetime.combine(day, time.min, tzinfo=zone)


def _row(customer: Customer) -> DirectoryRow:
    try:
        stats: CustomerStats | None = customer.stats
    except CustomerStats.DoesNotExist:
        stats = None
    return DirectoryRow(customer=customer, stats=stats)
