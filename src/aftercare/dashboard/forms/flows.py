"""The flow editor's forms: a definition as YAML text, and a YAML file to import.

    form = FlowTextForm(request.POST)
    if form.is_valid():
        flows_services.update_flow(flow=flow, data=form.cleaned_data["data"])

The text editor is the first version of the editor (a form per step can come later): staff
paste or type the same YAML that export downloads, so what they write in the dashboard, keep
in version control and import is one format. This form only turns text into data; whether
the data is a flow that can run is `flows.services` to say (every problem, keyed by where).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from django import forms
from django.utils.translation import gettext_lazy as _

from aftercare.flows import actions, triggers
from aftercare.flows.services import MAX_YAML_BYTES

# The marker an export starts with; it is not part of the definition.
EXPORT_MARKER = "aftercare_flow"


def parse_yaml(text: str) -> tuple[dict[str, Any] | None, str]:
    """The mapping a text holds, or None and why not (shown above the editor)."""
    if len(text.encode()) > MAX_YAML_BYTES:
        return None, str(_("That is too large for a flow (256 KB at most)."))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            return None, str(
                _("That is not valid YAML (line %(line)s, column %(column)s): %(problem)s")
                % {
                    "line": mark.line + 1,
                    "column": mark.column + 1,
                    "problem": getattr(exc, "problem", "") or "",
                }
            )
        return None, str(_("That is not valid YAML."))
    if not isinstance(data, dict):
        return None, str(_("A flow is a mapping: name, trigger, steps, …"))
    data.pop(EXPORT_MARKER, None)
    return data, ""


class FlowTextForm(forms.Form):
    text = forms.CharField(
        label=_("Definition (YAML)"),
        widget=forms.Textarea(attrs={"rows": 28, "spellcheck": "false", "class": "code"}),
        strip=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        text = cleaned.get("text")
        if text is not None:
            data, problem = parse_yaml(text)
            if data is None:
                self.add_error("text", problem)
            else:
                cleaned["data"] = data
        return cleaned


class FlowImportForm(forms.Form):
    file = forms.FileField(
        label=_("YAML file"),
        help_text=_("A file exported from Aftercare. It becomes a draft flow to review."),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_YAML_BYTES:
            raise forms.ValidationError(_("That is too large for a flow (256 KB at most)."))
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("That file is not UTF-8 text.")) from None


# --- the form editor ------------------------------------------------------------------------
#
# The form editor posts flat fields (`name`, `trigger_type`, `tc-<config>`, `f-<j>-fact`,
# `s-<i>-type`, `s-<i>-days`, `s-<i>-c-<j>-op`, `s-<i>-p-<param>`, …) and one `op`: "save", or a
# change of shape ("add_step:wait", "up:2", "remove_filter:0", …) answered by re-rendering the
# form with the change made and nothing saved. No JavaScript is needed, and what is typed is
# never lost: every round trip carries the whole definition.

STEP_TYPES = ("wait", "condition", "action")
WAIT_NUMBERS = ("days", "hours", "minutes")
WEEKDAY_VALUES = frozenset("0123456")


def value_text(value: Any) -> str:
    """A condition's value as staff type it: `completed`, `true`, `3`, `[a, b]`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return dumped.removesuffix("...").strip()


def parse_value(text: str) -> Any:
    """The inverse of `value_text`: YAML scalars and flow lists; anything else stays text."""
    text = text.strip()
    if not text:
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool | int | float | str | list):
        return value
    return text


def _number(raw: str | None) -> int | str | None:
    """An int, or the text as typed (so the definition's check names the field), or None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


def _count(post: Mapping[str, Any], name: str) -> int:
    raw = str(post.get(name, "") or "")
    return min(int(raw), 200) if raw.isdigit() else 0


def _conditions(post: Any, prefix: str) -> list[dict[str, Any]]:
    rows = []
    for j in range(_count(post, f"{prefix}-count")):
        row: dict[str, Any] = {
            "fact": post.get(f"{prefix}-{j}-fact", "").strip(),
            "op": post.get(f"{prefix}-{j}-op", "eq"),
        }
        value = parse_value(post.get(f"{prefix}-{j}-value", ""))
        if value is not None:
            row["value"] = value
        rows.append(row)
    return rows


def _trigger_config(post: Any, trigger_type: str) -> dict[str, Any]:
    if not triggers.exists(trigger_type):
        return {}
    config: dict[str, Any] = {}
    for field in triggers.get(trigger_type).config_fields:
        if field.type == "multichoice":
            # Values outside the listed choices are kept (a shop's own status, "shipped").
            chosen = [v for v in post.getlist(f"tc-{field.name}") if v.strip()]
            if chosen:
                config[field.name] = chosen
            continue
        raw = post.get(f"tc-{field.name}", "").strip()
        if raw:
            config[field.name] = _number(raw) if field.type == "number" else raw
    return config


def _step(post: Any, i: int) -> dict[str, Any]:
    p = f"s-{i}-"
    kind = post.get(p + "type", "")
    step: dict[str, Any] = {"key": post.get(p + "key", "").strip(), "type": kind}
    if kind == "wait":
        for name in WAIT_NUMBERS:
            number = _number(post.get(p + name))
            if number:
                step[name] = number
        if post.get(p + "at", "").strip():
            step["at"] = post.get(p + "at").strip()
        weekdays = sorted({int(d) for d in post.getlist(p + "weekdays") if d in WEEKDAY_VALUES})
        if weekdays:
            step["weekdays"] = weekdays
        if post.get(p + "until_date", "").strip():
            step["until_date"] = post.get(p + "until_date").strip()
            offset = _number(post.get(p + "offset_days"))
            if offset:
                step["offset_days"] = offset
    elif kind == "condition":
        step["match"] = "any" if post.get(p + "match") == "any" else "all"
        step["conditions"] = _conditions(post, prefix=p + "c")
        if post.get(p + "if_true", "").strip():
            step["if_true"] = post.get(p + "if_true").strip()
        step["if_false"] = post.get(p + "if_false", "").strip() or "exit"
    elif kind == "action":
        key = post.get(p + "action", "").strip()
        step["action"] = key
        params: dict[str, Any] = {}
        try:
            extra = json.loads(post.get(p + "extra", "") or "{}")
        except ValueError:
            extra = {}
        if isinstance(extra, dict):
            params.update(extra)  # parameters this form has no field for, kept as they were
        if actions.exists(key):
            for param in actions.get(key).params:
                raw = post.get(f"{p}p-{param.name}", "").strip()
                params.pop(param.name, None)
                if raw:
                    params[param.name] = _number(raw) if param.type == "number" else raw
        if params:
            step["params"] = params
    return step


def data_from_post(post: Any) -> dict[str, Any]:
    """The definition the form editor's fields describe (checked later by flows.services)."""
    data: dict[str, Any] = {
        "name": post.get("name", "").strip(),
        "category": post.get("category", "marketing"),
    }
    if post.get("description", "").strip():
        data["description"] = post.get("description").strip()
    trigger_type = post.get("trigger_type", "").strip()
    config = _trigger_config(post, trigger_type)
    data["trigger"] = {"type": trigger_type, **({"config": config} if config else {})}
    data["filters"] = _conditions(post, prefix="f")
    data["steps"] = [_step(post, i) for i in range(_count(post, "s-count"))]
    data["reentry"] = post.get("reentry", "per_subject")
    if post.get("topic", "").strip():
        data["topic"] = post.get("topic").strip()
    for name in ("reentry_days", "frequency_cap_hours"):
        number = _number(post.get(name))
        if number is not None:
            data[name] = number
    return data


def _new_key(steps: list[dict[str, Any]], kind: str) -> str:
    taken = {str(step.get("key")) for step in steps}
    n = 1
    while f"{kind}-{n}" in taken:
        n += 1
    return f"{kind}-{n}"


def apply_op(data: dict[str, Any], op: str) -> dict[str, Any]:
    """The definition after a change of shape; unknown or out-of-range ops change nothing."""
    steps: list[dict[str, Any]] = list(data.get("steps") or [])
    filters: list[dict[str, Any]] = list(data.get("filters") or [])
    name, _, arg = op.partition(":")
    index = int(arg.split(":")[0]) if arg.split(":")[0].isdigit() else -1
    if name == "add_step" and arg in STEP_TYPES:
        step: dict[str, Any] = {"key": _new_key(steps, arg), "type": arg}
        if arg == "wait":
            step["days"] = 1
        elif arg == "condition":
            step["conditions"] = [{"fact": "", "op": "eq"}]
        else:
            step["action"] = "send_email"
        steps.append(step)
    elif name == "remove_step" and 0 <= index < len(steps):
        steps.pop(index)
    elif name == "up" and 0 < index < len(steps):
        steps[index - 1], steps[index] = steps[index], steps[index - 1]
    elif name == "down" and 0 <= index < len(steps) - 1:
        steps[index + 1], steps[index] = steps[index], steps[index + 1]
    elif name == "add_filter":
        filters.append({"fact": "", "op": "eq"})
    elif name == "remove_filter" and 0 <= index < len(filters):
        filters.pop(index)
    elif name in {"add_cond", "remove_cond"} and 0 <= index < len(steps):
        step = dict(steps[index])
        conds = list(step.get("conditions") or [])
        if name == "add_cond":
            conds.append({"fact": "", "op": "eq"})
        else:
            parts = arg.split(":")
            j = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
            if 0 <= j < len(conds):
                conds.pop(j)
        step["conditions"] = conds
        steps[index] = step
    return {**data, "steps": steps, "filters": filters}
