"""The job queue in the admin: read-only rows, with "retry now" and "cancel" going through the
services (so the lease and dedupe rules hold for staff too)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from aftercare.jobs import services
from aftercare.jobs.errors import OpenDuplicate
from aftercare.jobs.models import Job, JobAttempt


class JobAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = JobAttempt
    extra = 0
    can_delete = False
    ordering = ("number",)
    fields = ("number", "outcome", "worker", "started_at", "finished_at", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "status", "run_at", "attempts", "store_id")
    list_filter = ("status", "kind")
    search_fields = ("kind", "dedupe_key")
    ordering = ("-run_at",)
    date_hierarchy = "run_at"
    inlines = (JobAttemptInline,)
    actions = ("retry_now", "cancel")
    readonly_fields = (
        "kind",
        "payload",
        "store_id",
        "status",
        "run_at",
        "attempts",
        "max_attempts",
        "dedupe_key",
        "last_error",
        "locked_by",
        "locked_until",
        "lease_id",
        "created_at",
        "finished_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are written by code, in the transaction that causes them

    @admin.action(description="Retry now (pending or failed jobs)", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        done, refused = 0, []
        for job in queryset:
            try:
                done += services.retry_now(job=job)
            except OpenDuplicate as error:
                refused.append(str(error))
        self.message_user(request, f"{done} job(s) will run now.", messages.SUCCESS)
        for text in refused:
            self.message_user(request, text, messages.WARNING)

    @admin.action(description="Cancel (pending or running jobs)", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        done = sum(services.cancel(job=job) for job in queryset)
        self.message_user(request, f"{done} job(s) cancelled.", messages.SUCCESS)
