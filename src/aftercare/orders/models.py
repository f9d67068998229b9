"""Orders as mirrored from the shop. Line items snapshot name/SKU/price at purchase time (the
shop may rename or delete the product later); status moves are kept as rows."""

from __future__ import annotations

from typing import Any

from django.db import models

from aftercare.customers.models import Customer
from aftercare.stores.models import Store


def _money(**kwargs: Any) -> models.DecimalField:  # type: ignore[type-arg]
    """Money columns: 12 digits before the point, cents after."""
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class OrderStatus(models.TextChoices):
    """WooCommerce's core statuses. Plugins add their own: the column accepts any slug."""

    PENDING = "pending", "Pending payment"
    PROCESSING = "processing", "Processing"
    ON_HOLD = "on-hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    FAILED = "failed", "Failed"
    CHECKOUT_DRAFT = "checkout-draft", "Draft"
    TRASH = "trash", "Trash"


PAID_STATUSES = frozenset({OrderStatus.PROCESSING, OrderStatus.COMPLETED})


class OrderSource(models.TextChoices):
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    IMPORT = "import", "File import"
    API = "api", "API"
    DEMO = "demo", "Demo data"


class Order(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    external_id = models.BigIntegerField()
    number = models.CharField(max_length=64)
    status = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    billing_email = models.CharField(max_length=254, blank=True)
    subtotal = _money(default=0)
    discount_total = _money(default=0)
    shipping_total = _money(default=0)
    total_tax = _money(default=0)
    total = _money(default=0)
    refunded_total = _money(default=0)
    billing_country = models.CharField(max_length=2, blank=True)
    billing_postcode = models.CharField(max_length=20, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    shipping_postcode = models.CharField(max_length=20, blank=True)
    customer_note = models.TextField(blank=True)
    created_via = models.CharField(max_length=32, blank=True)
    payment_method = models.CharField(max_length=64, blank=True)
    coupon_codes = models.JSONField(default=list, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=OrderSource.choices)
    date_created = models.DateTimeField()
    date_paid = models.DateTimeField(null=True, blank=True)
    date_completed = models.DateTimeField(null=True, blank=True)
    # The shop's last-modified time: a delivery older than this never rolls the order back.
    date_modified = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)  # trashed in the shop
    # Digest of the shop's payload: a delivery with the same date_modified but other content
    # (two changes within one second) is still applied; the same content is a no-op.
    content_hash = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_ext")
        ]
        indexes = [
            models.Index(fields=["store", "date_created"], name="order_store_created_idx"),
            models.Index(fields=["store", "number"], name="order_store_number_idx"),
            models.Index(fields=["customer", "date_created"], name="order_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"


class LineItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_id = models.BigIntegerField()
    product_external_id = models.BigIntegerField(null=True, blank=True)
    variation_external_id = models.BigIntegerField(null=True, blank=True)
    # Snapshots at purchase time:
    name = models.CharField(max_length=300)
    sku = models.CharField(max_length=100, blank=True)
    quantity = models.IntegerField()
    unit_price = _money()
    subtotal = _money()  # before discounts
    total = _money()  # after discounts, before tax
    total_tax = _money(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="line_unique_ext")
        ]
        indexes = [models.Index(fields=["product_external_id"], name="line_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    external_id = models.BigIntegerField()
    amount = _money()  # positive
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="refund_unique_ext")
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.order_id}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line_external_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.IntegerField(default=0)  # positive = items returned
    amount = _money()

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.line_external_id}"


class OrderStatusChange(models.Model):
    """One row per status move. `inferred` marks moves we deduced from a jump (the shop coalesced
    several changes into one delivery)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    changed_at = models.DateTimeField()
    inferred = models.BooleanField(default=False)
    source = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["order", "changed_at"], name="statuschange_order_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"
