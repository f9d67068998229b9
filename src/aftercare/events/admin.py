from django.contrib import admin

from aftercare.events.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("type", "store", "subject_type", "subject_id", "customer_id", "occurred_at")
    list_filter = ("type", "subject_type", "store")
    search_fields = ("type", "dedupe_key")
    date_hierarchy = "occurred_at"

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the log is append-only

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
