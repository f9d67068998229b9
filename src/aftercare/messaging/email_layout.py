"""The branded frame around every email: header with the logo, the body card, the footer.

    brand = Brand(store_name="Acme", color="#1d5fd1", logo_url="https://…/logo.png")
    html = email_layout.html_document(body_html=…, subject=…, preheader=…, brand=brand,
                                      locale="ko", footer=Footer(marketing=True, …))
    text = body_text + email_layout.text_footer(brand=brand, locale="ko", footer=…)

Why it looks like 2005: email clients. Outlook for Windows renders with Word (tables and
inline styles only, no max-width), Gmail strips `<style>` in some of its apps, so the frame is
tables with every style inline, 600 px wide at most (a "ghost table" for Outlook), and one
`<style>` media query that makes it full-width on phones where it is supported — progressive
enhancement, the mail reads fine without it. The body's own elements get their inline styles
from the Markdown renderer (markdown_email.py), so no CSS inliner runs per message.

Everything that does not depend on the message (head, header, footer text per store, locale
and kind of mail) is built once and cached: a message costs a few string joins here.

The logo is not a link: every link of a message must go through its click-tracking wrapper, and
the frame is shared by all messages of a store.

The brand colour is free text in the database: only `#rgb`/`#rrggbb` is used, else the
default; text on it is black or white, whichever contrasts more, and links use the colour
darkened until it reaches WCAG AA (4.5:1) on white. (Same rules as the customer pages'
portal/branding.py, which sits above messaging and cannot be imported from here.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from django.utils import translation
from django.utils.translation import pgettext

DEFAULT_BRAND = "#1d5fd1"
PAGE_BACKGROUND = "#f4f6f8"
INK = "#17202b"  # body text
MUTED = "#5b6572"  # footer, secondary text (5.9:1 on white, 5.5:1 on the page background)
RULE = "#e3e7eb"

_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})", re.IGNORECASE)

# Korean and Japanese first: Latin-only stacks fall back to fonts with poor CJK glyphs on
# Windows (and Meiryo/Malgun read better than the defaults at 16 px).
_FONTS = {
    "ko": "-apple-system,BlinkMacSystemFont,'Apple SD Gothic Neo','Malgun Gothic',"
    "'Noto Sans KR','Segoe UI',Roboto,Arial,sans-serif",
    "ja": "-apple-system,BlinkMacSystemFont,'Hiragino Sans','Hiragino Kaku Gothic ProN',"
    "'Yu Gothic',Meiryo,'Noto Sans JP','Segoe UI',Roboto,Arial,sans-serif",
}
_LATIN_FONTS = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Brand:
    """The store as its mails show it. Plain values (hashable: the frame is cached per brand)."""

    store_name: str
    color: str = DEFAULT_BRAND
    logo_url: str = ""
    footer_lines: tuple[str, ...] = ()  # e.g. the postal address, a support line


@dataclass(frozen=True)
class Footer:
    """What the footer needs from one message. Marketing mail must carry `unsubscribe_url`."""

    marketing: bool
    unsubscribe_url: str = ""
    preferences_url: str = ""


@dataclass(frozen=True)
class Palette:
    brand: str  # header band, buttons
    on_brand: str  # text on `brand`
    ink: str  # the brand colour as text on white (links)


# --- colours ---------------------------------------------------------------------------------


def _valid_hex(value: str | None) -> str | None:
    if not value or not _HEX.fullmatch(value.strip()):
        return None
    digits = value.strip()[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _luminance(color: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(first: str, second: str) -> float:
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@lru_cache(maxsize=256)
def palette(color: str | None) -> Palette:
    brand = _valid_hex(color) or DEFAULT_BRAND
    on_brand = max(("#ffffff", "#000000"), key=lambda text: _contrast(brand, text))
    ink, factor = brand, 1.0
    while _contrast(ink, "#ffffff") < 4.5:  # ends: black on white is 21:1
        factor = max(factor - 0.05, 0.0)
        ink = "#" + "".join(f"{round(int(brand[i : i + 2], 16) * factor):02x}" for i in (1, 3, 5))
    return Palette(brand=brand, on_brand=on_brand, ink=ink)


def _language(locale: str) -> str:
    return locale.replace("_", "-").partition("-")[0].lower()


def text_style(locale: str) -> str:
    """Font and line breaking for running text: Korean breaks between words (keep-all), not
    inside them as browsers do by default; Japanese has no spaces and must not get it."""
    style = f"font-family:{font_stack(locale)};"
    return style + "word-break:keep-all;" if _language(locale) == "ko" else style


def font_stack(locale: str) -> str:
    return _FONTS.get(_language(locale), _LATIN_FONTS)


def is_web_url(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


# --- the strings of the frame ------------------------------------------------------------------


@dataclass(frozen=True)
class Strings:
    """The frame's and the blocks' words in one language (messaging/locale)."""

    customer_of: str  # "%(store)s" placeholder
    unsubscribe: str
    preferences: str
    subtotal: str
    discount: str
    shipping: str
    total: str
    quantity: str  # "%(quantity)s" placeholder
    your_code: str
    valid_until: str  # "%(date)s" placeholder


@lru_cache(maxsize=16)
def strings(locale: str) -> Strings:
    with translation.override(locale):
        return Strings(
            customer_of=pgettext(
                "email footer",
                "You are receiving this email because you are a customer of %(store)s.",
            ),
            unsubscribe=pgettext("email footer", "Unsubscribe"),
            preferences=pgettext("email footer", "Email preferences"),
            subtotal=pgettext("email order summary", "Subtotal"),
            discount=pgettext("email order summary", "Discount"),
            shipping=pgettext("email order summary", "Shipping"),
            total=pgettext("email order summary", "Total"),
            quantity=pgettext("email order summary", "Qty %(quantity)s"),
            your_code=pgettext("email coupon", "Your code"),
            valid_until=pgettext("email coupon", "Valid until %(date)s"),
        )


# --- the frame ------------------------------------------------------------------------------

_HEAD = """<!doctype html>
<html lang="{lang}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>"""

_STYLE = """</title>
<style>
@media only screen and (max-width:620px){{
.ac-card{{border-radius:0!important}}
.ac-outer{{padding:0!important}}
.ac-pad{{padding:24px 18px!important}}
.ac-col{{display:block!important;width:100%!important;max-width:100%!important}}
.ac-btn{{display:block!important;text-align:center!important}}
}}
</style>
</head>
<body style="margin:0;padding:0;background:{page};-webkit-text-size-adjust:100%;">
"""

# Hidden preview text; the trailing zero-width joiners keep clients from pulling body text
# into the inbox preview after it.
_PREHEADER = (
    '<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;'
    'mso-hide:all;font-size:1px;line-height:1px;color:{page};">{text}'
    + "&#847;&zwnj;&nbsp;" * 40
    + "</div>\n"
)


@dataclass(frozen=True)
class _Frame:
    before_subject: str
    after_subject: str  # style, body start — then the preheader
    card_start: str  # outer tables, header band, body cell start
    card_end: str  # body cell end, footer start (the per-message links follow)
    footer_static: str  # the footer text that is the same for every message
    end: str


@lru_cache(maxsize=512)
def _frame(brand: Brand, locale: str, marketing: bool) -> _Frame:
    colours = palette(brand.color)
    fonts = font_stack(locale)
    name = escape(brand.store_name)
    if brand.logo_url and is_web_url(brand.logo_url):
        masthead = (
            f'<img src="{escape(brand.logo_url)}" alt="{name}" height="40" '
            'style="display:block;border:0;outline:none;height:40px;max-height:40px;'
            f'width:auto;max-width:240px;color:{colours.on_brand};font-size:18px;">'
        )
    else:
        masthead = (
            f'<span style="font-family:{fonts};font-size:20px;font-weight:700;'
            f'color:{colours.on_brand};">{name}</span>'
        )
    card_start = (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="background:{PAGE_BACKGROUND};">\n'
        '<tr><td class="ac-outer" align="center" style="padding:24px 12px;">\n'
        '<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" '
        'border="0" align="center"><tr><td><![endif]-->\n'
        '<table role="presentation" class="ac-card" width="100%" cellpadding="0" '
        'cellspacing="0" border="0" style="max-width:600px;background:#ffffff;'
        'border-radius:8px;border-collapse:separate;">\n'
        f'<tr><td class="ac-pad" style="background:{colours.brand};padding:20px 32px;'
        f'border-radius:8px 8px 0 0;">{masthead}</td></tr>\n'
        f'<tr><td class="ac-pad" style="padding:32px;{text_style(locale)}font-size:16px;'
        f'line-height:1.6;color:{INK};">\n'
    )
    card_end = (
        "</td></tr>\n</table>\n"
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:600px;">\n'
        f'<tr><td class="ac-pad" align="center" style="padding:20px 32px;font-family:{fonts};'
        f'font-size:13px;line-height:1.5;color:{MUTED};">\n'
    )
    lines = [f'<p style="margin:0 0 6px;font-weight:600;">{name}</p>']
    lines += [f'<p style="margin:0 0 6px;">{escape(line)}</p>' for line in brand.footer_lines]
    if marketing:
        notice = strings(locale).customer_of % {"store": brand.store_name}
        lines.append(f'<p style="margin:12px 0 6px;">{escape(notice)}</p>')
    end = (
        "</td></tr>\n</table>\n<!--[if mso]></td></tr></table><![endif]-->\n</td></tr>\n</table>\n"
    )
    return _Frame(
        before_subject=_HEAD.format(lang=escape(locale)),
        after_subject=_STYLE.format(page=PAGE_BACKGROUND),
        card_start=card_start,
        card_end=card_end,
        footer_static="\n".join(lines) + "\n",
        end=end,
    )


def _footer_links_html(*, brand: Brand, locale: str, footer: Footer) -> str:
    if not footer.marketing:
        return ""
    words = strings(locale)
    style = f"color:{MUTED};text-decoration:underline;"
    links = []
    if footer.unsubscribe_url:
        links.append(
            f'<a href="{escape(footer.unsubscribe_url)}" style="{style}">'
            f"{escape(words.unsubscribe)}</a>"
        )
    if footer.preferences_url:
        links.append(
            f'<a href="{escape(footer.preferences_url)}" style="{style}">'
            f"{escape(words.preferences)}</a>"
        )
    return f'<p style="margin:0;">{" &nbsp;·&nbsp; ".join(links)}</p>\n' if links else ""


def html_document(
    *,
    body_html: str,
    subject: str,
    preheader: str,
    brand: Brand,
    locale: str,
    footer: Footer,
    open_pixel_url: str | None = None,
) -> str:
    """The whole HTML part around an already rendered (and escaped) body."""
    frame = _frame(brand, locale, footer.marketing)
    parts = [frame.before_subject, escape(subject), frame.after_subject]
    if preheader:
        parts.append(_PREHEADER.format(page=PAGE_BACKGROUND, text=escape(preheader)))
    parts += [
        frame.card_start,
        body_html,
        frame.card_end,
        frame.footer_static,
        _footer_links_html(brand=brand, locale=locale, footer=footer),
        frame.end,
    ]
    if open_pixel_url:
        parts.append(
            f'<img src="{escape(open_pixel_url)}" width="1" height="1" alt="" '
            'style="display:block;border:0;width:1px;height:1px;overflow:hidden;">\n'
        )
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def text_footer(*, brand: Brand, locale: str, footer: Footer) -> str:
    """The plain-text part's footer (starts with the conventional "-- " signature line)."""
    lines = ["", "-- ", brand.store_name, *brand.footer_lines]
    if footer.marketing:
        words = strings(locale)
        lines.append(words.customer_of % {"store": brand.store_name})
        if footer.unsubscribe_url:
            lines.append(f"{words.unsubscribe}: {footer.unsubscribe_url}")
        if footer.preferences_url:
            lines.append(f"{words.preferences}: {footer.preferences_url}")
    return "\n".join(lines) + "\n"
