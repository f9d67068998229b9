"""The tenant (Store), who works on it (StaffMembership), how programs reach it (ApiToken), and
how it is connected to WooCommerce (WooConnection, WooWebhook)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aftercare.core.encryption import EncryptedTextField


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

    def __str__(self) -> str:
        return self.slug


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"


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
