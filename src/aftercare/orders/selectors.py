"""Store-scoped reads of orders. Every function takes the store: there is no unscoped path."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from aftercare.core.errors import NotFound
from aftercare.orders.models import LineItem, Order, OrderStatusChange, Refund
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
