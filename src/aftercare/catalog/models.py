"""The store's catalogue as mirrored from the shop: products, categories, coupons and product
reviews. Ids from the shop are `external_id`; ours are the primary keys."""

from __future__ import annotations

from django.db import models

from aftercare.stores.models import Store


class Category(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="categories")
    external_id = models.BigIntegerField()
    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="category_unique_ext")
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    external_id = models.BigIntegerField()
    parent_external_id = models.BigIntegerField(null=True, blank=True)  # variations
    type = models.CharField(max_length=32, default="simple")
    status = models.CharField(max_length=32, default="publish")
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=300)
    slug = models.CharField(max_length=300, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    regular_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    sale_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="products")
    images = models.JSONField(default=list, blank=True)  # [{"src": …, "alt": …}]
    upsell_ids = models.JSONField(default=list, blank=True)  # shop product ids
    cross_sell_ids = models.JSONField(default=list, blank=True)
    stock_status = models.CharField(max_length=32, blank=True)
    date_modified_gmt = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="product_unique_ext")
        ]
        indexes = [models.Index(fields=["store", "sku"], name="product_sku_idx")]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    """A coupon as it exists in the shop (ours, issued by Aftercare, are mirrored back here too)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="coupons")
    external_id = models.BigIntegerField()
    code = models.CharField(max_length=100)
    discount_type = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    date_expires = models.DateTimeField(null=True, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    email_restrictions = models.JSONField(default=list, blank=True)
    date_modified_gmt = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="coupon_unique_ext")
        ]
        indexes = [models.Index(fields=["store", "code"], name="coupon_code_idx")]

    def __str__(self) -> str:
        return self.code


class ProductReview(models.Model):
    """A review as it exists in the shop (WooCommerce has no webhook for reviews: polled)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="shop_reviews")
    external_id = models.BigIntegerField()
    product_external_id = models.BigIntegerField()
    reviewer = models.CharField(max_length=200, blank=True)
    reviewer_email = models.CharField(max_length=254, blank=True)
    rating = models.PositiveSmallIntegerField(default=0)
    review = models.TextField(blank=True)  # HTML as the shop renders it: escape on output
    status = models.CharField(max_length=16, default="approved")
    verified = models.BooleanField(default=False)
    date_created_gmt = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="review_unique_ext")
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.product_external_id}"
