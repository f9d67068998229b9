"""Presets: ready-made flows a store owner switches on in one click. They are data — one YAML
file each in `flows/presets/`, in the same format as flow export/import — never code paths.

    presets.names()              # ["anniversary", "birthday", …]
    presets.load("win-back")     # the definition data, validated by services.create_flow
    presets.load("win-back", language="ko")   # … named and described in Korean

The YAML is in English; `preset_text` translates its name and description. A flow made from a
preset is named in the store's default language (`language=store.default_locale`): its name is
data the store then owns and edits, not a label that follows whoever looks at it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.utils import translation

from aftercare.core.errors import NotFound
from aftercare.flows import preset_text

DIRECTORY = Path(__file__).parent / "presets"
ORDER = (
    "thank-you", "order-status", "delay-notice", "review-request", "survey", "cross-sell",
    "next-purchase-coupon", "loyalty-invite", "win-back", "birthday", "anniversary",
    "onboarding",
)  # fmt: skip


def names() -> list[str]:
    found = {path.stem for path in DIRECTORY.glob("*.yaml")}
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


@cache
def _read(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DIRECTORY / f"{name}.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"preset {name} is not a mapping")
    return data


def load(name: str, *, language: str | None = None) -> dict[str, Any]:
    """The preset's definition data; with `language`, its name and description in it (else
    the YAML's English)."""
    if name not in names():
        raise NotFound(f"There is no preset {name!r}.", code="unknown_preset")
    data = dict(_read(name))
    if language is not None:
        text = preset_text.of(name, data)
        with translation.override(language):
            data["name"] = str(text.title)
            if "description" in data:
                data["description"] = str(text.description)
    return data
