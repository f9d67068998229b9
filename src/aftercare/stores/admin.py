from django.contrib import admin

from aftercare.stores.models import ApiToken, StaffMembership, Store, WooConnection, WooWebhook


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("slug", "name", "currency", "time_zone", "created_at")
    search_fields = ("slug", "name")
    exclude = ("webhook_secret",)  # secrets are never shown


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "store", "role", "created_at")
    list_filter = ("role", "store")
    search_fields = ("user__username", "user__email", "store__slug")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "name", "store", "created_at", "last_used_at", "revoked_at")
    list_filter = ("store",)
    search_fields = ("prefix", "name")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")


@admin.register(WooConnection)
class WooConnectionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("store", "url", "wc_version", "connected_at", "last_checked_at")
    search_fields = ("url", "store__slug")
    exclude = ("consumer_key", "consumer_secret")


@admin.register(WooWebhook)
class WooWebhookAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("store", "woo_id", "topic", "status", "delivery_url")
    list_filter = ("status", "topic", "store")
    exclude = ("secret",)
