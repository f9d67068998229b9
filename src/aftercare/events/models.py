"""The append-only event log: one row per fact. Rows are inserted, never updated or deleted."""

from __future__ import annotations

from django.db import models

from aftercare.stores.models import Store


class Event(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)  # "order", "customer", "product", …
    subject_id = models.BigIntegerField()
    # The customer the fact is about, for the customer timeline (no FK: events sit below customers).
    customer_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(default=dict)
    # Publishing the same fact twice (a replayed delivery) is a no-op per (store, dedupe_key).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["store", "type", "occurred_at"], name="event_store_type_idx"),
            models.Index(fields=["store", "subject_type", "subject_id"], name="event_subject_idx"),
            models.Index(fields=["store", "customer_id", "occurred_at"], name="event_customer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["store", "dedupe_key"], name="event_unique_dedupe_key")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}:{self.subject_id}"


class EventHighWater(models.Model):
    """The one row (pk=1) saying up to which event id the log may be read without skipping a
    row a still-open transaction is about to commit (high_water.py explains the gaps)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    high_water = models.BigIntegerField(default=0)
    # Missing id ranges above high_water and when each was first seen: [[lo, hi, iso], …].
    gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"event high water {self.high_water}"
