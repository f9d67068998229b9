"""Files staff asked for (a CSV of the customer list, later others), built by the worker.

A row is written when staff ask; the job fills the file and counts its progress on the row, so
the page can show a progress bar; the file expires 24 hours after it was finished."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aftercare.stores.models import Store


class ExportKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class Export(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField(max_length=32, choices=ExportKind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The list's filters as query-string values (customer_directory.parse_filters reads them).
    filters = models.JSONField(default=dict, blank=True)
    # Money columns only for staff who may see revenue when they asked.
    include_money = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # known once started
    # Relative to settings.DATA_DIR / "exports"; never a path the user chose.
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["store", "-created_at"], name="export_store_created_idx"),
            models.Index(fields=["status", "expires_at"], name="export_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rows_total__isnull=True)
                | models.Q(rows_done__lte=models.F("rows_total")),
                name="export_progress_within_total",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} export {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def in_progress(self) -> bool:
        return self.status in {ExportStatus.PENDING, ExportStatus.RUNNING}
