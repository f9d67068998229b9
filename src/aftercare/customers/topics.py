"""The marketing topics a customer can opt out of one by one on their preferences page.

    topics.TOPICS["offers"].label          # lazy: "Offers and coupons" in the active language
    topics.is_topic("offers")              # True; "" (general marketing) is not a topic
    topics.clean({"offers", "bogus"})      # {"offers"}: unknown keys are dropped

A marketing flow names one topic (`FlowDefinition.topic`, stored on `Flow` and on each
`Message`); a customer who opted out of that topic gets none of its messages, while every other
marketing message (and all transactional mail) still goes to them. The set is fixed and small on
purpose: a preferences page with a checkbox per flow would be a wall nobody reads, and a topic a
store invents today and renames tomorrow would silently resubscribe the people who left it.
Keys are data (stored in flows, messages and the customer's opt-outs): never rename one.

    offers           coupons, win-back, birthday and anniversary treats
    recommendations  products that go with a purchase, tips for what they bought
    feedback         review requests and surveys
    loyalty          points, tiers, the loyalty programme
    news             newsletters: new products, store news
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Topic:
    key: str
    label: str | Promise
    description: str | Promise


_ALL = (
    Topic("offers", _("Offers and coupons"), _("Coupons, birthday treats and we-miss-you deals.")),
    Topic(
        "recommendations",
        _("Recommendations"),
        _("Products that go with what you bought, and tips for using it."),
    ),
    Topic(
        "feedback",
        _("Reviews and surveys"),
        _("Requests to review a purchase or answer a short survey."),
    ),
    Topic("loyalty", _("Loyalty programme"), _("Your points, rewards and membership tier.")),
    Topic("news", _("Newsletter"), _("New products and news from the store.")),
)

TOPICS: dict[str, Topic] = {topic.key: topic for topic in _ALL}
KEYS: tuple[str, ...] = tuple(TOPICS)


def is_topic(key: str) -> bool:
    return key in TOPICS


def clean(keys: Iterable[str]) -> set[str]:
    """The known topic keys among `keys` (a stale or forged form value is ignored)."""
    return {str(key) for key in keys if str(key) in TOPICS}
