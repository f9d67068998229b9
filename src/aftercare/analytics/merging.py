"""Analytics' part of merging a guest into an account (customers.merging)."""

from __future__ import annotations

from aftercare.analytics.models import CustomerStats
from aftercare.customers.models import Customer


def merge_stats(*, guest: Customer, account: Customer) -> None:
    """CustomerStats: the guest's row is deleted; the account's is not patched here. Its
    figures are a cache recomputed from the orders, and the account now has the guest's: the
    refresh recomputes it from the customer event the mirror publishes for the merge (a
    `customer.*` event recomputes that customer and the store days of all their orders —
    analytics/refresh.py), exactly as after any order change; the nightly rebuild is the
    safety net. Recomputing here would take the store's analytics lock inside the mirror's
    transaction."""
    CustomerStats.objects.filter(store_id=guest.store_id, customer=guest).delete()
