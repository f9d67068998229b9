"""The store's customers as mirrored from the shop: registered accounts and guests (linked by
billing email), with marketing consent and its history."""

from __future__ import annotations

from django.db import models
from django.db.models import F, JSONField, Value
from django.db.models.functions import Lower

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
    # The customer's own choices on their preferences page, written only by customers.consent
    # (never by the mirror, whose inserts and updates name their columns: hence the database
    # defaults). `locale` stays the shop's value; `preferred_locale` wins over it for messages.
    preferred_locale = models.CharField(max_length=10, blank=True, default="", db_default="")
    # Marketing topics (customers.topics keys) they opted out of, sorted; [] = all topics.
    topic_opt_outs = models.JSONField(blank=True, default=list, db_default=Value([], JSONField()))
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
        indexes = [
            models.Index(fields=["store", "last_name"], name="customer_name_idx"),
            models.Index(fields=["store", "locale"], name="customer_locale_idx"),
            models.Index(fields=["store", "marketing_consent"], name="customer_consent_idx"),
        ]
        # Prefix search on email and lower-cased names, and the list's default order (newest
        # first, unknown dates last), have indexes created per database in migration 0002:
        # PostgreSQL needs pattern operator classes for LIKE 'abc%' and NULLS LAST spelled out.

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


class Tag(models.Model):
    """A label staff (or a flow) put on customers, e.g. "VIP" or "wholesale". Names are unique per
    store regardless of case; the spelling first used is kept for display."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="customer_tags")
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(F("store"), Lower("name"), name="tag_unique_store_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="links")
    added_at = models.DateTimeField()
    # Who put it there: "staff:<user id>", "flow:<id>", "api".
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customertag_unique"),
        ]
        indexes = [models.Index(fields=["tag", "customer"], name="customertag_tag_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.tag_id}"


class MergedCustomer(models.Model):
    """A customer id that no longer exists because the row was merged into `customer` (a guest
    who registered: customers.merging). Links already sent to the old id — preferences,
    one-click unsubscribe, order pages — still reach the person through it."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    merged_id = models.BigIntegerField()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merged_ids")
    merged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "merged_id"], name="mergedcustomer_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.customer_id}"
