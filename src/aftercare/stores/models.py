"""The tenant (Store), who works on it (StaffMembership), how programs reach it (ApiToken), and
how it is connected to WooCommerce (WooConnection, WooWebhook)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftercare.core.encryption import EncryptedTextField


def default_languages() -> list[str]:
    return ["en"]


class ConsentMode(models.TextChoices):
    # opt-in: marketing only to customers who said yes (EU/UK, Korea, Japan; the default).
    # opt-out: soft opt-in, buyers get marketing until they unsubscribe (e.g. US CAN-SPAM).
    OPT_IN = "opt-in", "Opt-in"
    OPT_OUT = "opt-out", "Opt-out (soft opt-in)"


class Store(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="UTC")
    default_locale = models.CharField(max_length=10, default="en")
    # Fallback secret for verifying webhook signatures when the delivery's X-WC-Webhook-ID is not
    # one we registered (webhooks created by hand in WooCommerce with this secret).
    webhook_secret = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Settings staff edit on the dashboard's settings pages. Messaging reads the sender and the
    # marketing rules; the customer pages read the branding.
    sender_name = models.CharField(max_length=100, blank=True)
    sender_email = models.EmailField(blank=True)
    reply_to_email = models.EmailField(blank=True)
    # Languages the store writes to its customers in; a customer's own locale wins when listed.
    languages = models.JSONField(default=default_languages)
    consent_mode = models.CharField(
        max_length=8, choices=ConsentMode.choices, default=ConsentMode.OPT_IN
    )
    marketing_cap_hours = models.PositiveIntegerField(default=16)  # ≤ 1 marketing email per N h
    quiet_hours_start = models.TimeField(default=datetime.time(21, 0))  # customer's local time
    quiet_hours_end = models.TimeField(default=datetime.time(8, 0))
    # Revenue credit (messaging.attribution): an order within this many days of a tracked click
    # on a flow's message is that flow's; opens count too only when the store says so.
    attribution_window_days = models.PositiveSmallIntegerField(default=5, db_default=5)
    attribution_counts_opens = models.BooleanField(default=False, db_default=False)
    brand_color = models.CharField(max_length=7, default="#1d5fd1")  # #rrggbb
    logo_url = models.URLField(max_length=500, blank=True)
    # Whether agents see revenue figures (overview money, reports); owners and managers always do.
    agents_see_revenue = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.slug


class StaffRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    AGENT = "agent", _("Agent")


class StaffMembership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=StaffRole.choices, default=StaffRole.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="staff_unique_user_store")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.store_id} ({self.role})"


class ApiToken(models.Model):
    """Only a SHA-256 of the token is kept; the token itself is shown once, at creation."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.store_id})"


class WooConnection(models.Model):
    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="woo")
    url = models.URLField(max_length=500)
    consumer_key = EncryptedTextField()
    consumer_secret = EncryptedTextField()
    wc_version = models.CharField(max_length=32, blank=True)
    connected_at = models.DateTimeField()
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.url


class WooWebhook(models.Model):
    """A webhook we registered in the store (or the store told us about), with its own secret."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="woo_webhooks")
    woo_id = models.BigIntegerField()
    topic = models.CharField(max_length=100)
    delivery_url = models.URLField(max_length=500)
    secret = EncryptedTextField()
    status = models.CharField(max_length=16, default="active")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "woo_id"], name="woowebhook_unique_store_id")
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.woo_id}"


class StaffProfile(models.Model):
    """Per-user preferences of a staff member (the dashboard's language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    language = models.CharField(max_length=10, blank=True)  # "" = the browser's choice

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"
