"""Job handlers of exports (found by the jobs registry's autodiscovery)."""

from __future__ import annotations

from aftercare.exports import services
from aftercare.jobs.registry import task


@task(kind="exports.build", max_attempts=3)
def build_export(*, store_id: int, export_id: int) -> None:
    services.build(export_id=export_id)
