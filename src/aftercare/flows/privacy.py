"""Flows' part of a GDPR erasure: nothing more is sent to an erased person — their waiting
steps are cancelled and their runs end. Runs hold ids, not personal data, so the export has
nothing of its own to add (messages are exported by messaging)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftercare.core import clock
from aftercare.flows import run_state
from aftercare.flows.models import FlowRun, RunStatus, ScheduledStep, StepStatus


def erase_flow_runs(*, store: Any, customer_ids: list[int], email: str) -> Mapping[str, int]:
    now = clock.now()
    steps = ScheduledStep.objects.filter(
        store=store, customer_id__in=customer_ids, status=StepStatus.PENDING
    ).update(status=StepStatus.CANCELLED, reason="customer erased", finished_at=now)
    run_ids = list(
        FlowRun.objects.filter(
            store=store, customer_id__in=customer_ids, status=RunStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    runs = run_state.cancel_runs(run_ids=run_ids, now=now, reason="customer erased")
    return {"steps_cancelled": steps, "runs_cancelled": runs}
