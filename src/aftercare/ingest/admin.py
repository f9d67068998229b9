from django.contrib import admin

from aftercare.ingest.models import ImportRun, SyncRun, WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "store", "topic", "resource_id", "status", "attempts", "received_at")
    list_filter = ("store", "status", "topic")
    search_fields = ("resource_id", "delivery_id", "outcome")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.get_fields()]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("store", "started_at", "finished_at", "status", "since")
    list_filter = ("store", "status")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("store", "filename", "status", "rows_read", "orders_applied", "rows_rejected")
    list_filter = ("store", "status")
    search_fields = ("filename",)
