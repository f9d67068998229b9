"""Where a run goes next, and when: from a position in the steps, fold the waits into a due
time and stop at the first step that does something (a condition or an action).

    planned = scheduling.plan(definition=d, index=0, start=now, zone=zone, facts=facts)
    # Planned(step_key="ask", step_type="action", due_at=now + 14 days, note="after 'wait'")

Waits are not queue rows of their own: staff looking at the queue see "review request, due
7 Dec 10:00", not "wait, done". A wait that needs a date the customer does not have (no
birthday on file) ends the run, with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aftercare.flows.definition import FlowDefinition, WaitStep
from aftercare.flows.timing import wait_end


@dataclass(frozen=True, slots=True)
class Planned:
    step_key: str
    step_type: str
    due_at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str = ""  # "" for a run that reached its end; else why it stopped


def plan(
    *,
    definition: FlowDefinition,
    index: int,
    start: datetime,
    zone: ZoneInfo,
    facts: Mapping[str, Any],
) -> Planned | Finished:
    due = start
    waited: list[str] = []
    for step in definition.steps[index:]:
        if isinstance(step, WaitStep):
            dates = {step.until_date: _date(facts.get(step.until_date))} if step.until_date else {}
            end = wait_end(start=due, step=step, zone=zone, dates=dates)
            if end is None:
                return Finished(reason=f"wait {step.key!r}: no {step.until_date} on file")
            due = end
            waited.append(step.key)
            continue
        note = f"after {', '.join(repr(key) for key in waited)}" if waited else ""
        return Planned(step_key=step.key, step_type=step.type, due_at=due, note=note)
    return Finished()


def date_sources(definition: FlowDefinition) -> set[str]:
    """The fact sources the waits of `definition` read (birthday: customer; first order:
    history)."""
    from aftercare.flows.conditions import FACTS

    return {
        FACTS[step.until_date].source
        for step in definition.steps
        if isinstance(step, WaitStep) and step.until_date and step.until_date in FACTS
    }


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None
