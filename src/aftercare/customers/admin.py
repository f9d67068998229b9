from django.contrib import admin

from aftercare.customers.models import ConsentChange, Customer


class ConsentChangeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ConsentChange
    extra = 0
    can_delete = False
    readonly_fields = ("channel", "state", "source", "occurred_at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "email", "full_name", "store", "is_registered", "marketing_consent", "locale",
        "country", "first_seen_at",
    )  # fmt: skip
    list_filter = ("store", "is_registered", "marketing_consent", "locale", "country")
    search_fields = ("email", "first_name", "last_name", "phone", "external_id")
    list_select_related = ("store",)
    date_hierarchy = "first_seen_at"
    inlines = [ConsentChangeInline]
