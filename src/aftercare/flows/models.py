"""Flows: a trigger, then steps (wait, condition, action); runs of a flow; the visible queue.

- `Flow` holds its definition as data (`trigger`, `trigger_config`, `steps`): the same shape as
  the YAML of presets and of export/import (definition.py validates it).
- `FlowRun`: one customer going through one flow for one trigger subject (an order, a birthday
  of a year, …). Unique per (flow, subject_key): a replayed event never starts a second run.
- `ScheduledStep`: the queue. One row per step a run reaches, with its due time; the runner
  claims due rows under a lease, re-checks the flow's filters on fresh data and acts. Staff see,
  cancel and "run now" these rows. Unique per (run, step_key): a step is done at most once.
- `FlowCursor`: per store, the last event id the matcher has read (matcher.py).

Choice labels are lazy translations (flows/locale), read in the active language.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftercare.customers.models import Customer
from aftercare.stores.models import Store


class FlowStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")  # no new runs; waiting steps stay in the queue until resumed
    ARCHIVED = "archived", _("Archived")


class FlowCategory(models.TextChoices):
    TRANSACTIONAL = "transactional", _("Transactional")
    MARKETING = "marketing", _("Marketing")


class Reentry(models.TextChoices):
    PER_SUBJECT = "per_subject", _("Once per trigger subject (e.g. per order)")
    ONCE_PER_CUSTOMER = "once_per_customer", _("At most once per customer")
    ONCE_PER_DAYS = "once_per_days", _("At most once per customer per N days")


class Flow(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="flows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    preset = models.CharField(max_length=50, blank=True)  # the preset it was made from
    trigger = models.CharField(max_length=64)  # a key of triggers.registry
    trigger_config = models.JSONField(default=dict, blank=True)  # the trigger's own options
    filters = models.JSONField(default=list, blank=True)  # conditions re-checked at every step
    steps = models.JSONField(default=list, blank=True)  # [{key, type, …}] (definition.py)
    category = models.CharField(
        max_length=16, choices=FlowCategory.choices, default=FlowCategory.MARKETING
    )
    # Marketing only: the topic (customers.topics key) customers may opt out of; "" = general.
    topic = models.CharField(max_length=32, blank=True, default="", db_default="")
    status = models.CharField(max_length=12, choices=FlowStatus.choices, default=FlowStatus.DRAFT)
    reentry = models.CharField(max_length=20, choices=Reentry.choices, default=Reentry.PER_SUBJECT)
    reentry_days = models.PositiveIntegerField(null=True, blank=True)
    # Marketing only: overrides the store's cap (hours between two marketing messages); 0 = none.
    frequency_cap_hours = models.PositiveIntegerField(null=True, blank=True)
    # Events recorded before this moment never start a run (enabling a flow is not a backfill).
    activated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # bumped on every edit
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["store", "status"], name="flow_store_status_idx")]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    FINISHED = "finished", _("Finished")
    EXITED = "exited", _("Stopped by a condition")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


class FlowRun(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="flow_runs"
    )
    subject_key = models.CharField(max_length=100)  # "order:123", "birthday:2026", …
    trigger_event_id = models.BigIntegerField(null=True, blank=True)
    # What the steps act on: {"order_id": …, "event_type": …, "event": {payload}, …}
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    exit_reason = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "subject_key"], name="flowrun_unique_subject")
        ]
        indexes = [
            models.Index(fields=["flow", "customer", "started_at"], name="flowrun_customer_idx"),
            models.Index(fields=["store", "customer"], name="flowrun_store_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.flow_id} · {self.subject_key}"


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ScheduledStep(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="scheduled_steps")
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="steps")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    step_key = models.CharField(max_length=50)
    step_type = models.CharField(max_length=20)  # wait / condition / action (for the queue)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=StepStatus.choices, default=StepStatus.PENDING)
    # Why it was skipped / how it failed / what it did ("sent message 12", "waited until …").
    reason = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    lease_id = models.CharField(max_length=32, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "step_key"], name="scheduledstep_unique_step")
        ]
        indexes = [
            # The runner's claim.
            models.Index(fields=["status", "due_at"], name="scheduledstep_due_idx"),
            # The queue page: a store's steps by status and due time; bulk cancel by flow.
            models.Index(fields=["store", "status", "due_at"], name="scheduledstep_queue_idx"),
            models.Index(fields=["flow", "status"], name="scheduledstep_flow_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.step_key} of run {self.run_id} due {self.due_at:%Y-%m-%d %H:%M}"


class FlowCursor(models.Model):
    """How far the matcher has read a store's event log."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="+")
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"flows of store {self.store_id} at event {self.last_event_id}"
