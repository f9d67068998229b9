"""What came in, kept before anything acts on it: webhook deliveries (raw body + headers), REST
sync runs with their resumable checkpoints, and file imports with their bad rows."""

from __future__ import annotations

from django.db import models

from aftercare.stores.models import Store


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received, not processed yet"
    PROCESSED = "processed", "Applied to the mirror"
    IGNORED = "ignored", "Nothing to apply (unknown topic, stale, duplicate)"
    FAILED = "failed", "Failed; will be retried"
    DEAD = "dead", "Failed too often; needs a person"


class WebhookDelivery(models.Model):
    """The webhook inbox. A row is written before the delivery is acknowledged; the worker applies
    it later, idempotently. Never deduplicated on X-WC-Webhook-Delivery-ID (it is not unique)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_deliveries")
    received_at = models.DateTimeField()
    topic = models.CharField(max_length=100)
    woo_webhook_id = models.BigIntegerField(null=True, blank=True)
    delivery_id = models.CharField(max_length=64, blank=True)
    resource_id = models.BigIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)  # why it was ignored, or the last error

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["store", "topic", "resource_id"], name="delivery_resource_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.resource_id} ({self.status})"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (resumable)"


class SyncRun(models.Model):
    """One REST sync of a store. `checkpoint` records, per resource, the pages already applied,
    so a crashed run resumes where it stopped."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_runs")
    since = models.DateTimeField(null=True, blank=True)  # modified_after; null = everything
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    checkpoint = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"sync {self.store_id} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SyncWatermark(models.Model):
    """Per store and resource: everything modified up to `modified_before` has been pulled."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_watermarks")
    resource = models.CharField(max_length=32)
    synced_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "resource"], name="watermark_unique")
        ]

    def __str__(self) -> str:
        return f"{self.resource} until {self.synced_until}"


class ImportRun(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="imports")
    filename = models.CharField(max_length=500)
    file_format = models.CharField(max_length=16)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    orders_applied = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # The first rejected rows: [{"line": 12, "reason": "total: not an amount: 'abc'"}, …]
    rejections = models.JSONField(default=list)
    status = models.CharField(max_length=16, default="running")

    def __str__(self) -> str:
        return f"import {self.filename} ({self.status})"


class SuppressedIdentity(models.Model):
    """A person erased under the GDPR: what the shop sends about them again (a sync, a replayed
    webhook, a new order before the owner erased them in WooCommerce too) is mirrored without
    their personal data. Only a hash of the normalised email is kept, never the email."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    email_hash = models.CharField(max_length=64)  # sha256 hex of the normalised email
    # The anonymised customer row their orders stay linked to (figures keep adding up).
    customer_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()  # the (latest) erasure: what came before it stays hidden

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "email_hash"], name="suppressed_unique_hash")
        ]

    def __str__(self) -> str:
        return f"suppressed identity {self.email_hash[:12]}… of store {self.store_id}"
