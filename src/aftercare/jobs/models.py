"""Durable background work: a Job row is written in the same transaction as the change that
causes it, claimed by workers under a lease, retried with capped backoff; every attempt is a row."""

from __future__ import annotations

from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Job(models.Model):
    kind = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict)
    # Which store the work is for (queue views are per store); null for platform work.
    store_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    run_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    # The lease: a worker owns a running job until `locked_until`; after that any worker may take
    # it over (the previous one crashed). `lease_id` changes on every claim so a late finish from
    # a worker that lost its lease matches nothing.
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True)
    lease_id = models.CharField(max_length=32, blank=True)
    # At most one *unfinished* job per dedupe key (a partial unique constraint below).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "run_at"], name="job_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(status__in=["pending", "running"]),
                name="job_unique_open_dedupe_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} ({self.status})"


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    LOST = "lost", "Lost (worker stopped reporting)"


class JobAttempt(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="job_attempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} attempt {self.number}: {self.outcome}"
