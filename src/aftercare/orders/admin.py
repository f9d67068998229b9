from django.contrib import admin

from aftercare.orders.models import LineItem, Order, OrderStatusChange, Refund


class LineItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LineItem
    extra = 0
    can_delete = False
    readonly_fields = ("external_id", "name", "sku", "quantity", "unit_price", "subtotal", "total")
    fields = readonly_fields


class RefundInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ("external_id", "amount", "reason", "created_at")


class StatusChangeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "changed_at", "inferred", "source")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "number", "store", "status", "total", "currency", "billing_email", "date_created", "source"
    )  # fmt: skip
    list_filter = ("store", "status", "source", "currency", "created_via")
    search_fields = ("number", "external_id", "billing_email", "customer__email")
    list_select_related = ("store",)
    raw_id_fields = ("customer",)
    date_hierarchy = "date_created"
    inlines = [LineItemInline, RefundInline, StatusChangeInline]
