"""The shipped presets' names and descriptions in every language Aftercare speaks.

    text = preset_text.of("win-back", presets.load("win-back"))
    text.title, text.description        # lazy: they read in the active language when rendered
    with translation.override("ko"):
        str(text.title)                 # "재방문 유도"

Why a table in code rather than `name: {en: …, ko: …}` in the YAML: a preset is a flow
definition in the export/import format, whose `name` is one string, and makemessages only finds
literals marked in code. So the YAML stays the English source (a test holds each entry here to
its YAML word for word) and this table makes it translatable. The gallery, the API's list of
presets and `presets.load(name, language=…)` (the name a flow made from a preset gets) read it;
a preset added without an entry here shows the English of its YAML everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class PresetText:
    title: str | Promise
    description: str | Promise


TEXT: dict[str, PresetText] = {
    "thank-you": PresetText(
        _("Thank you"),
        _(
            "A thank-you right after the order is paid, with the order summary and a link to "
            "follow it."
        ),
    ),
    "order-status": PresetText(
        _("Order status updates"),
        _(
            "Tells the customer when the order is being prepared, shipped (stores with a "
            '"shipped" status) and completed.'
        ),
    ),
    "delay-notice": PresetText(
        _("Sorry, there's a delay"),
        _(
            "Bad news first - when an order is put on hold, the customer hears it from you "
            "before they have to ask."
        ),
    ),
    "review-request": PresetText(
        _("Review request"),
        _(
            "Asks for a review 14 days after the order is completed, unless it was refunded or "
            "cancelled in the meantime."
        ),
    ),
    "survey": PresetText(
        _("Post-purchase survey"),
        _(
            "One question (how likely are you to recommend us?) a week after the order is "
            "completed."
        ),
    ),
    "cross-sell": PresetText(
        _("Cross-sell"),
        _("Products that go with what they bought, five days after the order is completed."),
    ),
    "next-purchase-coupon": PresetText(
        _("Next-purchase coupon"),
        _(
            "A reason to come back - a coupon for the second order, three days after the first "
            "one is completed."
        ),
    ),
    "loyalty-invite": PresetText(
        _("Loyalty invitation"),
        _("Invites customers to the loyalty program the day after their second paid order."),
    ),
    "win-back": PresetText(
        _("Win-back"),
        _("We miss you - 90 days without a paid order. Starts again after their next purchase."),
    ),
    "birthday": PresetText(
        _("Birthday"),
        _("Happy birthday on the day, at 10:00 in the customer's time zone."),
    ),
    "anniversary": PresetText(
        _("First-order anniversary"),
        _("A thank-you one year (and every year) after their first order."),
    ),
    "onboarding": PresetText(
        _("Onboarding tips"),
        _(
            "How to get the most out of what they bought, two days after the first order is "
            "completed. Add a filter on order.categories to send it for one category only."
        ),
    ),
}


def of(name: str, data: Mapping[str, Any]) -> PresetText:
    """The preset's words: translated when the table has them, else its YAML's (`data`)."""
    known = TEXT.get(name)
    if known is not None:
        return known
    return PresetText(str(data.get("name", name)), str(data.get("description", "")))
