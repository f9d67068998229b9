"""The audit trail of erasures: who erased whom, when, and how much — without the person.

The email is kept only as a SHA-256 of its normalised form, so the record proves an erasure
happened (and lets a later import recognise the person, see docs/subsystems/privacy.md) without
keeping the address the erasure was asked to remove."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aftercare.stores.models import Store


class ErasureRecord(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="erasures")
    email_sha256 = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # "dashboard" or "cli": where the request came from.
    channel = models.CharField(max_length=16)
    erased_at = models.DateTimeField()
    # {part: {what: rows changed}}, e.g. {"orders": {"orders": 3, "refunds": 1}}.
    counts = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["store", "email_sha256"], name="erasure_store_hash_idx"),
        ]

    def __str__(self) -> str:
        return f"erasure {self.email_sha256[:12]}… in {self.store_id}"
