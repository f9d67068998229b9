"""Flows' part of merging a guest into an account (customers.merging)."""

from __future__ import annotations

import re

from aftercare.core import clock
from aftercare.customers.models import Customer
from aftercare.flows import run_state
from aftercare.flows.models import FlowRun, ScheduledStep, StepStatus


def _key_for(subject_key: str, *, guest_id: int, account_id: int) -> str:
    """The subject key the run would have had for the account: a key naming the guest
    (`customer:<id>`, `threshold:…:customer:<id>`) names the account instead."""
    return re.sub(rf"(^|:)customer:{guest_id}($|:)", rf"\1customer:{account_id}\2", subject_key)


def merge_runs(*, guest: Customer, account: Customer) -> None:
    """FlowRun and ScheduledStep: every run and step of the guest becomes the account's, status
    and due time unchanged (a pending review request stays pending, now for the account; the
    history stays too). A run keyed on the guest (`customer:<guest id>`) is re-keyed on the
    account, so a later trigger of the account does not start the same flow twice for one
    person. When the account already has a run of that flow with that key, the account's run is
    kept and the guest's duplicate is *cancelled*, not deleted: its pending steps are cancelled
    and the run, if still active, ends as cancelled — it stays (on the account, under its old
    key) as history. So no subject ever has two live runs. Only the guest's store is touched."""
    now = clock.now()
    duplicates: list[int] = []
    for run in FlowRun.objects.filter(store_id=guest.store_id, customer=guest).only(
        "pk", "flow_id", "subject_key"
    ):
        key = _key_for(run.subject_key, guest_id=guest.pk, account_id=account.pk)
        if key == run.subject_key:
            continue  # not about the customer row (an order, a message): no clash possible
        if FlowRun.objects.filter(flow_id=run.flow_id, subject_key=key).exists():
            duplicates.append(run.pk)
        else:
            FlowRun.objects.filter(pk=run.pk).update(subject_key=key)
    if duplicates:
        reason = f"merged into customer {account.pk}: duplicate of its run"
        ScheduledStep.objects.filter(run_id__in=duplicates, status=StepStatus.PENDING).update(
            status=StepStatus.CANCELLED, reason=reason, finished_at=now
        )
        run_state.cancel_runs(run_ids=duplicates, now=now, reason=reason)
    FlowRun.objects.filter(store_id=guest.store_id, customer=guest).update(customer=account)
    ScheduledStep.objects.filter(store_id=guest.store_id, customer=guest).update(customer=account)
