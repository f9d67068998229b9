"""The active flows of a store, with their definitions parsed once per version.

    for flow in active.flows_for(store_id=5, event_type="order.completed"): …

Parsing (validating) a definition costs far more than serialising it; the matcher and the
runner load the same few flows for every batch, so parsed definitions are cached by their data:
an edit changes the data and the next batch sees it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftercare.flows import definition as flow_definition
from aftercare.flows.definition import FlowDefinition
from aftercare.flows.models import Flow, FlowStatus


@dataclass(frozen=True)
class ActiveFlow:
    id: int
    store_id: int
    version: int
    category: str
    activated_at: datetime | None
    frequency_cap_hours: int | None
    definition: FlowDefinition
    topic: str = ""  # customers.topics key of a marketing flow; "" = general


_parsed: dict[str, FlowDefinition] = {}
_PARSED_MAX = 4096


def definition_of(flow: Flow) -> FlowDefinition:
    # Keyed by the data itself, not by (id, version): ids are reused by another database (a
    # test's, a restored backup's), and the serialisation costs microseconds, not a parse.
    data = to_definition_data(flow)
    key = json.dumps(data, sort_keys=True, default=str)
    parsed = _parsed.get(key)
    if parsed is None:
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        parsed = _parsed[key] = flow_definition.parse(data)
    return parsed


def to_definition_data(flow: Flow) -> dict[str, Any]:
    """The model's fields as definition data (what export writes and parse reads)."""
    data: dict[str, Any] = {
        "name": flow.name,
        "description": flow.description,
        "category": flow.category,
        "trigger": {"type": flow.trigger, "config": flow.trigger_config or {}},
        "filters": flow.filters or [],
        "steps": flow.steps or [],
        "reentry": flow.reentry,
    }
    if flow.topic:
        data["topic"] = flow.topic
    if flow.reentry_days:
        data["reentry_days"] = flow.reentry_days
    if flow.frequency_cap_hours is not None:
        data["frequency_cap_hours"] = flow.frequency_cap_hours
    return data


def load(*, store_id: int) -> list[ActiveFlow]:
    flows = Flow.objects.filter(store_id=store_id, status=FlowStatus.ACTIVE).only(
        "id", "store_id", "version", "category", "activated_at", "frequency_cap_hours", "name",
        "description", "trigger", "trigger_config", "filters", "steps", "reentry", "reentry_days",
        "topic",
    )  # fmt: skip
    return [
        ActiveFlow(
            id=flow.pk,
            store_id=flow.store_id,
            version=flow.version,
            category=flow.category,
            activated_at=flow.activated_at,
            frequency_cap_hours=flow.frequency_cap_hours,
            definition=definition_of(flow),
            topic=flow.topic,
        )
        for flow in flows
    ]
