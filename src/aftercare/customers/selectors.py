"""Store-scoped reads of customers."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from aftercare.core.errors import NotFound
from aftercare.customers.models import Customer
from aftercare.stores.models import Store


def customers_for_store(
    *,
    store: Store,
    email: str | None = None,
    search: str | None = None,
    external_id: int | None = None,
) -> QuerySet[Customer]:
    customers = Customer.objects.filter(store=store)
    if email:
        customers = customers.filter(email=email.strip().lower())
    if external_id is not None:
        customers = customers.filter(external_id=external_id)
    if search:
        customers = customers.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return customers.order_by("-first_seen_at", "-id")


def with_order_stats(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    paid = Q(orders__status__in=["processing", "completed"], orders__deleted_at__isnull=True)
    return customers.annotate(
        order_count=Count("orders", filter=paid),
        total_spent=Sum("orders__total", filter=paid),
    )


def get_customer(*, store: Store, customer_id: int) -> Customer:
    customer = with_order_stats(Customer.objects.filter(store=store, pk=customer_id)).first()
    if customer is None:
        raise NotFound(f"no customer {customer_id} in this store")
    return customer
