"""Figures derived from the store mirror, kept up to date by the worker so dashboard pages read
a few rows instead of scanning a million orders. Everything here can be rebuilt from the
mirror (`aftercare analytics rebuild`): these tables are caches with rules, not facts.

The metric definitions (what a paid order is, new vs returning, the 90-day cohort) are in
`analytics/metrics.py` and docs/subsystems/analytics.md."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from aftercare.customers.models import Customer
from aftercare.stores.models import Store


def _money() -> models.DecimalField[Decimal | int | str, Decimal]:
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
    # The order that made them a customer: that order counts as "new", every later one as
    # "returning" (ties on the timestamp are broken by id).
    first_order_id = models.BigIntegerField(null=True, blank=True)
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
            models.Index(fields=["store", "first_order_at"], name="custstats_store_first_idx"),
        ]

    def __str__(self) -> str:
        return f"stats of customer {self.customer_id}"


class DailyStoreStats(models.Model):
    """One store's paid orders of one day (in the store's time zone), by the day they were
    placed. Every column is a sum, so any range of days adds up (metrics.py)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    orders_new = models.PositiveIntegerField(default=0)  # first paid orders of their customer
    orders_returning = models.PositiveIntegerField(default=0)
    revenue_new = _money()  # net: total - refunded, of orders_new
    revenue_returning = _money()
    gross_revenue = _money()  # order totals before refunds, new + returning
    refunded = _money()  # refunded amount of the day's paid orders (whenever refunded)
    refunded_orders = models.PositiveIntegerField(default=0)  # paid orders with any refund
    # The day's first-order cohort: customers whose first paid order was placed that day, and
    # how many of them placed a second paid order within 90 days of the first.
    new_customers = models.PositiveIntegerField(default=0)
    cohort_repeat_90 = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "daily store stats"
        constraints = [
            models.UniqueConstraint(fields=["store", "day"], name="dailystats_unique_store_day"),
            models.CheckConstraint(
                condition=models.Q(cohort_repeat_90__lte=models.F("new_customers")),
                name="dailystats_cohort_within_size",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}"


class StoreAnalyticsState(models.Model):
    """Where the incremental refresh of one store stands: every event of the store with an id
    up to `last_event_id` is reflected in its CustomerStats and DailyStoreStats rows."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)  # figures as of
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    rebuild_seconds = models.FloatField(null=True, blank=True)
    segmented_at = models.DateTimeField(null=True, blank=True)
    # Quintile edges of the last RFM pass (rfm.Thresholds as JSON), so a customer whose
    # figures change between passes gets a segment at once.
    rfm_thresholds = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "store analytics states"

    def __str__(self) -> str:
        return f"analytics of store {self.store_id} at event {self.last_event_id}"
