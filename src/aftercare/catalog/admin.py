from django.contrib import admin

from aftercare.catalog.models import Category, Coupon, Product, ProductReview


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "sku", "store", "price", "stock_status", "status", "deleted_at")
    list_filter = ("store", "status", "stock_status", "type")
    search_fields = ("name", "sku", "external_id")
    list_select_related = ("store",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "store")
    list_filter = ("store",)
    search_fields = ("name", "slug")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "store", "discount_type", "amount", "usage_count", "date_expires")
    list_filter = ("store", "discount_type")
    search_fields = ("code",)


@admin.register(ProductReview)
class ProductReviewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("product_external_id", "rating", "reviewer", "status", "date_created_gmt")
    list_filter = ("store", "rating", "status", "verified")
    search_fields = ("reviewer", "reviewer_email", "review")
