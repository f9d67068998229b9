"""The job admin: list, detail with attempts, and the staff actions through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from aftercare.jobs import services
from aftercare.jobs.models import Job, JobStatus
from tests.jobs import handlers


@pytest.mark.django_db
def test_the_job_list_and_detail_render(admin_client: Client) -> None:
    job = handlers.boom.enqueue(store_id=3, dedupe_key="boom:3")
    services.run_due(worker_id="w1", limit=10)

    listing = admin_client.get(reverse("admin:jobs_job_changelist"), {"q": "boom:3"})
    detail = admin_client.get(reverse("admin:jobs_job_change", args=[job.pk]))

    assert listing.status_code == 200
    assert "tests.boom" in listing.content.decode()
    assert detail.status_code == 200
    assert "RuntimeError: boom" in detail.content.decode()  # the attempt inline
    assert admin_client.get(reverse("admin:jobs_job_add")).status_code == 403


@pytest.mark.django_db
def test_retry_now_and_cancel_actions(admin_client: Client) -> None:
    failed = handlers.boom.enqueue()
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)
    scheduled = handlers.record.enqueue(order=1, delay=3600)
    url = reverse("admin:jobs_job_changelist")

    admin_client.post(url, {"action": "retry_now", "_selected_action": [failed.pk]})
    admin_client.post(url, {"action": "cancel", "_selected_action": [scheduled.pk]})

    failed.refresh_from_db()
    scheduled.refresh_from_db()
    assert failed.status == JobStatus.PENDING
    assert scheduled.status == JobStatus.CANCELLED
