"""Figures derived from the store mirror, kept up to date by the worker so dashboard pages read
a few rows instead of scanning a million orders. Everything here can be rebuilt from the
mirror (`aftercare analytics rebuild`): these tables are caches with rules, not facts."""

from __future__ import annotations

from django.db import models

from aftercare.customers.models import Customer
from aftercare.stores.models import Store


def _money() -> models.DecimalField[object, object]:
    return models.DecimalField(max_digits=14, decimal_places=2, default=0)


class CustomerStats(models.Model):
    """One row per customer who has any order: their purchase history in figures."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    orders_count = models.PositiveIntegerField(default=0)  # paid orders
    total_spent = _money()  # paid orders, net of refunds, in the store currency
    first_order_at = models.DateTimeField(null=True, blank=True)
    second_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    # RFM segment key (e.g. "champions", "at_risk"); "" until first computed.
    segment = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "customer stats"
        indexes = [
            models.Index(fields=["store", "last_order_at"], name="custstats_store_last_idx"),
            models.Index(fields=["store", "total_spent"], name="custstats_store_spent_idx"),
            models.Index(fields=["store", "segment"], name="custstats_store_segment_idx"),
        ]

    def __str__(self) -> str:
        return f"stats of customer {self.customer_id}"
