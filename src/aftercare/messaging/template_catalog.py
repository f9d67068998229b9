"""Which template a message uses: the store's own version, else the one we ship.

    source = template_catalog.get(store=store, key="thank-you", locale="ko-KR")
    source.origin        # "store" or "default"
    template_catalog.template_keys()                         # [TemplateKey("thank-you", …), …]
    template_catalog.shipped(key="thank-you", locale="ja")   # the default ("reset" in the editor)

Shipped templates live in `default_templates/<key>/<locale>.<channel>.md`: a few front-matter
lines (`subject:`, `preheader:`), a `---` line, then the Markdown body. They are read once per
process. A store's edits are `MessageTemplate` rows (one per key, locale and channel).

Language: the asked locale ("ko-KR" counts as "ko"), then the store's default language, then
English. Within a language the store's row beats the shipped default; a language the customer
reads beats a store edit in another one (a Korean customer gets the shipped Korean text rather
than the store's English rewrite).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from aftercare.core.errors import NotFound
from aftercare.messaging.models import MessageTemplate
from aftercare.messaging.rendering import TemplateSource
from aftercare.stores.models import Store

DEFAULTS_DIR = Path(__file__).resolve().parent / "default_templates"
FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class TemplateKey:
    key: str
    label: Promise | str  # translated lazily: the dashboard shows it in the staff's language
    marketing: bool  # the category a flow sending it normally has
    channels: tuple[str, ...]


# The order is the dashboard's: the customer's journey, then staff.
_KEYS: tuple[tuple[str, Promise, bool], ...] = (
    ("thank-you", pgettext_lazy("message template", "Thank you for your order"), False),
    ("order-processing", pgettext_lazy("message template", "Order being prepared"), False),
    ("order-shipped", pgettext_lazy("message template", "Order shipped"), False),
    ("order-completed", pgettext_lazy("message template", "Order completed"), False),
    ("delay-notice", pgettext_lazy("message template", "Sorry, there's a delay"), False),
    ("review-request", pgettext_lazy("message template", "Review request"), True),
    ("survey", pgettext_lazy("message template", "Post-purchase survey"), True),
    ("cross-sell", pgettext_lazy("message template", "Related products"), True),
    ("next-purchase-coupon", pgettext_lazy("message template", "Next-purchase coupon"), True),
    ("loyalty-invite", pgettext_lazy("message template", "Loyalty program invitation"), True),
    ("win-back", pgettext_lazy("message template", "We miss you (win-back)"), True),
    ("birthday", pgettext_lazy("message template", "Happy birthday"), True),
    ("anniversary", pgettext_lazy("message template", "First-order anniversary"), True),
    ("onboarding", pgettext_lazy("message template", "Getting started with your purchase"), True),
    ("staff-notification", pgettext_lazy("message template", "Staff notification"), False),
)


def normalise_locale(locale: str | None) -> str:
    """ "ko-KR", "ko_KR", "KO" → "ko"; "" → ""."""
    return (locale or "").strip().replace("_", "-").split("-")[0].lower()


def _parse(path: Path, *, key: str, locale: str, channel: str) -> TemplateSource:
    lines = path.read_text(encoding="utf-8").split("\n")
    if "---" not in lines:
        raise ValueError(f"{path}: no '---' line after the front matter")
    end = lines.index("---")
    body = "\n".join(lines[end + 1 :])
    fields: dict[str, str] = {}
    for line in lines[:end]:
        if line.strip():
            name, colon, value = line.partition(":")
            if not colon or name.strip() not in {"subject", "preheader"}:
                raise ValueError(f"{path}: unexpected front-matter line {line!r}")
            fields[name.strip()] = value.strip()
    return TemplateSource(
        key=key,
        locale=locale,
        channel=channel,
        subject=fields.get("subject", ""),
        preheader=fields.get("preheader", ""),
        body=body.lstrip("\n"),
        origin="default",
    )


@cache
def _shipped_all() -> dict[tuple[str, str, str], TemplateSource]:
    found: dict[tuple[str, str, str], TemplateSource] = {}
    for path in sorted(DEFAULTS_DIR.glob("*/*.md")):
        locale, _, channel = path.name.removesuffix(".md").partition(".")
        key = path.parent.name
        found[(key, locale, channel)] = _parse(path, key=key, locale=locale, channel=channel)
    return found


def shipped(*, key: str, locale: str, channel: str = "email") -> TemplateSource | None:
    """The default we ship for exactly this key, language and channel, if any."""
    return _shipped_all().get((key, normalise_locale(locale), channel))


def template_keys() -> list[TemplateKey]:
    """The shipped template keys with a human label, in the dashboard's order."""
    shipped_all = _shipped_all()
    return [
        TemplateKey(
            key=key,
            label=label,
            marketing=marketing,
            channels=tuple(
                channel
                for channel in ("email", "sms")
                if (key, FALLBACK_LOCALE, channel) in shipped_all
            ),
        )
        for key, label, marketing in _KEYS
    ]


def locale_chain(*, store: Store, locale: str | None) -> list[str]:
    chain: list[str] = []
    for candidate in (locale, store.default_locale, FALLBACK_LOCALE):
        code = normalise_locale(candidate)
        if code and code not in chain:
            chain.append(code)
    return chain


def _from_row(row: MessageTemplate) -> TemplateSource:
    return TemplateSource(
        key=row.key,
        locale=row.locale,
        channel=row.channel,
        subject=row.subject,
        preheader=row.preheader,
        body=row.body,
        origin="store",
    )


def get(*, store: Store, key: str, locale: str | None, channel: str = "email") -> TemplateSource:
    """The template to render (one query). NotFound when neither the store nor we have one
    for this key and channel in any language of the chain."""
    chain = locale_chain(store=store, locale=locale)
    rows = {
        row.locale: row
        for row in MessageTemplate.objects.filter(
            store=store, key=key, channel=channel, locale__in=chain
        )
    }
    for code in chain:
        if code in rows:
            return _from_row(rows[code])
        default = shipped(key=key, locale=code, channel=channel)
        if default is not None:
            return default
    raise NotFound(f"no {channel} template {key!r} for this store")
