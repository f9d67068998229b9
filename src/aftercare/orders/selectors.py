"""Store-scoped reads of orders. Every function takes the store: there is no unscoped path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from aftercare.core.errors import NotFound
from aftercare.customers import selectors as customer_selectors
from aftercare.customers.models import Customer
from aftercare.orders.models import LineItem, Order, OrderStatusChange, Refund, RefundLine
from aftercare.stores.models import Store


def orders_for_store(
    *,
    store: Store,
    external_id: int | None = None,
    number: str | None = None,
    status: str | None = None,
    customer_id: int | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    include_deleted: bool = False,
) -> QuerySet[Order]:
    orders = Order.objects.filter(store=store)
    if not include_deleted:
        orders = orders.filter(deleted_at__isnull=True)
    if external_id is not None:
        orders = orders.filter(external_id=external_id)
    if number:
        orders = orders.filter(number=number)
    if status:
        orders = orders.filter(status=status)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if created_after is not None:
        orders = orders.filter(date_created__gte=created_after)
    if created_before is not None:
        orders = orders.filter(date_created__lt=created_before)
    return orders.order_by("-date_created", "-id")


def with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Lines, refunds and status history in four queries, whatever the page size."""
    return orders.prefetch_related(
        Prefetch("lines", queryset=LineItem.objects.order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.order_by("id")),
        Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("changed_at", "id")),
    )


def get_order(*, store: Store, order_id: int) -> Order:
    order = with_details(Order.objects.filter(store=store, pk=order_id)).first()
    if order is None:
        raise NotFound(f"no order {order_id} in this store")
    return order


@dataclass(frozen=True)
class OrderListFilters:
    q: str = ""  # an order number / WooCommerce id, or the start of the customer's email
    status: str = ""
    created_from: datetime | None = None
    created_before: datetime | None = None  # exclusive
    customer_id: int | None = None


@dataclass(frozen=True)
class OrderListPage:
    orders: list[Order]
    number: int
    has_next: bool
    # Exact up to COUNT_CAP; past it the page says "more than" (counting a million rows per
    # page view costs more than the page itself).
    total: int
    total_capped: bool
    page_size: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def first_index(self) -> int:
        return 0 if not self.orders else (self.number - 1) * self.page_size + 1

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.orders)


COUNT_CAP = 10_000


def order_list(*, store: Store, filters: OrderListFilters) -> QuerySet[Order]:
    """The store's orders for the dashboard list, newest first, customer joined.

    A number or id goes through the (store, number) and (store, external_id) indexes; an email
    prefix through the customers' (store, email) index and then orders' (customer, date) one."""
    orders = orders_for_store(
        store=store,
        status=filters.status or None,
        customer_id=filters.customer_id,
        created_after=filters.created_from,
        created_before=filters.created_before,
        include_deleted=filters.status == "trash",
    )
    needle = filters.q.strip()
    if needle:
        number = needle.removeprefix("#").strip()
        if "@" in needle:
            emails = Customer.objects.filter(
                customer_selectors.prefix("email", needle.lower()), store=store
            )
            orders = orders.filter(customer__in=emails.values("pk"))
        else:
            match = Q(number=number)
            if number.isdigit() and len(number) <= 18:
                match |= Q(external_id=int(number))
            orders = orders.filter(match)
    return orders.select_related("customer")


def order_list_page(
    *, store: Store, filters: OrderListFilters, number: int = 1, page_size: int = 50
) -> OrderListPage:
    found = order_list(store=store, filters=filters)
    number = max(1, number)
    start = (number - 1) * page_size
    rows = list(found[start : start + page_size + 1])
    counted = found.order_by()[: COUNT_CAP + 1].count()
    return OrderListPage(
        orders=rows[:page_size],
        number=number,
        has_next=len(rows) > page_size,
        total=min(counted, COUNT_CAP),
        total_capped=counted > COUNT_CAP,
        page_size=page_size,
    )


def orders_of_customer(*, store: Store, customer_id: int, limit: int = 20) -> list[Order]:
    """The customer's latest orders with lines, refunds and status history (four queries)."""
    orders = orders_for_store(store=store, customer_id=customer_id, include_deleted=True)
    return list(with_details(orders)[:limit])


def order_page(*, store: Store, order_id: int) -> Order:
    """One order of the store for its page, deleted (trashed) ones included, with details."""
    order = (
        with_details(Order.objects.filter(store=store, pk=order_id))
        .select_related("customer")
        .prefetch_related(Prefetch("refunds__lines", queryset=RefundLine.objects.order_by("id")))
        .first()
    )
    if order is None:
        raise NotFound(f"no order {order_id} in this store")
    return order
