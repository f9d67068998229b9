"""The store's customers as mirrored from the shop: registered accounts and guests (linked by
billing email), with marketing consent and its history."""

from __future__ import annotations

from django.db import models

from aftercare.stores.models import Store


class ConsentState(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"


class Customer(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="customers")
    # Lower-cased and stripped: the identity that links guest orders to one customer.
    email = models.CharField(max_length=254)
    # WooCommerce user id for registered customers; null for guests.
    external_id = models.BigIntegerField(null=True, blank=True)
    is_registered = models.BooleanField(default=False)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)  # E.164 when it could be parsed
    locale = models.CharField(max_length=10, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    birthday = models.DateField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)
    marketing_consent = models.CharField(
        max_length=10, choices=ConsentState.choices, default=ConsentState.UNKNOWN
    )
    consent_source = models.CharField(max_length=100, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    # When the shop says the customer came to be (first order for guests), and last changed.
    first_seen_at = models.DateTimeField(null=True, blank=True)
    date_modified_gmt = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "email"], name="customer_unique_store_email"),
            models.UniqueConstraint(
                fields=["store", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="customer_unique_store_external_id",
            ),
        ]
        indexes = [models.Index(fields=["store", "last_name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ConsentChange(models.Model):
    """Append-only history of marketing consent: who said what, where, when."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_history")
    channel = models.CharField(max_length=10, default="email")
    state = models.CharField(max_length=10, choices=ConsentState.choices)
    source = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}={self.state} ({self.source})"
