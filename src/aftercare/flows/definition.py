"""A flow's definition as data: what the dashboard editor writes, presets ship, YAML export and
import carry, and the runner reads. One schema (pydantic) checks all of them.

    definition = FlowDefinition.model_validate(yaml.safe_load(text))
    check_definition(definition)     # raises InvalidFlow with every problem, keyed by step

    name: Review request
    category: marketing
    topic: feedback                      # customers.topics; customers may opt out of one
    trigger: {type: order.completed}
    filters: [{fact: order.status, op: eq, value: completed}]   # re-checked at every step
    steps:
      - {key: wait, type: wait, days: 14}
      - {key: ask, type: action, action: send_email, params: {template: review-request}}

Steps run in list order. A condition step goes on to the next step when it holds, and
otherwise to `if_false` ("exit", or the key of a *later* step — flows never loop back, so a
run always ends). `if_true` may also jump forward.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aftercare.core.errors import DomainError
from aftercare.customers import topics

KEY = r"^[a-z0-9][a-z0-9_-]{0,49}$"
EXIT = "exit"


class InvalidFlow(DomainError):
    """A definition that cannot run; `problems` maps a location ("steps.2.params") to why."""

    code = "invalid_flow"

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        message = "; ".join(f"{where}: {why}" for where, why in problems.items())
        super().__init__(message, problems=problems)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    fact: str  # a key of conditions.FACTS: "order.status", "customer.orders_count", …
    op: Literal[
        "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "not_contains",
        "is_set", "is_not_set",
    ]  # fmt: skip
    value: Any = None


class TriggerSpec(_Model):
    type: str  # a key of triggers.registry
    config: dict[str, Any] = Field(default_factory=dict)


class WaitStep(_Model):
    """Wait a duration; then, optionally, until the next `at` time of day (customer's zone,
    else the store's) on one of `weekdays`; or until a date attribute (`until_date`: e.g.
    "customer.birthday", with `offset_days` before/after, at `at`)."""

    key: Annotated[str, Field(pattern=KEY)]
    type: Literal["wait"]
    days: int = Field(default=0, ge=0, le=3650)
    hours: int = Field(default=0, ge=0, le=24 * 365)
    minutes: int = Field(default=0, ge=0, le=60 * 24 * 365)
    at: time | None = None
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = None  # 0 = Monday
    until_date: str | None = None
    offset_days: int = Field(default=0, ge=-366, le=366)


class ConditionStep(_Model):
    key: Annotated[str, Field(pattern=KEY)]
    type: Literal["condition"]
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(min_length=1)
    if_true: str | None = None  # None: the next step
    if_false: str = EXIT


class ActionStep(_Model):
    key: Annotated[str, Field(pattern=KEY)]
    type: Literal["action"]
    action: str  # a key of actions.registry
    params: dict[str, Any] = Field(default_factory=dict)


Step = Annotated[WaitStep | ConditionStep | ActionStep, Field(discriminator="type")]


class FlowDefinition(_Model):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    category: Literal["transactional", "marketing"] = "marketing"
    # A marketing flow's topic (customers.topics: "offers", "feedback", …; "" = general): a
    # customer who opted out of it on their preferences page gets none of its messages.
    topic: str = ""
    trigger: TriggerSpec
    filters: list[Condition] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    reentry: Literal["per_subject", "once_per_customer", "once_per_days"] = "per_subject"
    reentry_days: int | None = Field(default=None, ge=1, le=3650)
    frequency_cap_hours: int | None = Field(default=None, ge=0, le=24 * 90)

    @model_validator(mode="after")
    def _keys_and_jumps(self) -> FlowDefinition:
        keys = [step.key for step in self.steps]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"step keys must be unique: {', '.join(duplicates)}")
        position = {key: index for index, key in enumerate(keys)}
        for index, step in enumerate(self.steps):
            if not isinstance(step, ConditionStep):
                continue
            for target in (step.if_true, step.if_false):
                if target is None or target == EXIT:
                    continue
                if target not in position:
                    raise ValueError(f"step {step.key!r} jumps to unknown step {target!r}")
                if position[target] <= index:
                    raise ValueError(f"step {step.key!r} may only jump forward, not to {target!r}")
        if self.reentry == "once_per_days" and not self.reentry_days:
            raise ValueError("reentry once_per_days needs reentry_days")
        if self.topic and not topics.is_topic(self.topic):
            raise ValueError(f"unknown topic {self.topic!r} (one of: {', '.join(topics.KEYS)})")
        return self


def parse(data: Any) -> FlowDefinition:
    """Validate plain data (from YAML, JSON or a form) into a definition, or raise InvalidFlow."""
    try:
        return FlowDefinition.model_validate(data)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "flow"
            problems.setdefault(where, _clean(error["msg"]))
        raise InvalidFlow(problems) from None


def _clean(message: str) -> str:
    return re.sub(r"^Value error, ", "", message)


def to_data(definition: FlowDefinition) -> dict[str, Any]:
    """Plain data for YAML/JSON, without defaults (a short, readable export)."""
    return definition.model_dump(mode="json", exclude_defaults=True)


def step_by_key(definition: FlowDefinition, key: str) -> tuple[int, Step] | None:
    for index, step in enumerate(definition.steps):
        if step.key == key:
            return index, step
    return None
