"""Turning a template and a customer's variables into the message that goes out. No database.

    source = template_catalog.get(store=store, key="thank-you", locale="ko")
    email = rendering.render_email(source=source, variables=variables.build(…), brand=brand,
                                   marketing=False, link_wrapper=track, open_pixel_url=pixel)
    email.subject, email.html, email.text
    rendering.render_sms(source=sms_source, variables=…)           # -> "…" plain text
    rendering.check_template(subject=…, body=…)                    # the editor: TemplateError

Templates are written by store owners in the dashboard, so they are **untrusted code**: they run
in Jinja2's immutable sandbox with caps on loops and sizes (template_sandbox.py), and the
variables are plain dicts, lists and strings — never model instances. An unknown variable
renders as nothing and never raises.

The body is Markdown with Jinja in it. Every value a `{{ … }}` prints is replaced by a token
(see markdown_email.py) and only filled in after Markdown has run, escaped for HTML: a customer
named `<script>`, `**bold**` or `{{x}}` comes out as exactly those characters, in both parts,
and cannot add markup of either language. (Template text captured by a macro or `{% set %}`
block is template text, so it keeps its Markdown.) A value that is a web address becomes a
link, an email address a mailto: link. Because the Markdown then depends only on the template's
shape, its parse is cached: a store's template is compiled and parsed once for all its
recipients, and a message costs the Jinja renders of its subject, preheader and body and one
substitution pass over the cached HTML and text (bench/render_emails.py).

Links: every http(s) target in both parts — links written in the body, addresses printed as
values, buttons, products — goes through `link_wrapper(url)` when one is given (click
tracking), except mailto:/tel: and the unsubscribe and preferences links of the variables.
Targets other than http(s), mailto: and tel: (`javascript:`, relative paths) are dropped, the
label stays.

The plain-text part comes from the same parse (links as "label: url", emphasis dropped, lists
with markers), never from a second template. Subjects and preheaders are Jinja only, one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any, Literal
from urllib.parse import quote

from jinja2 import meta, nodes

from aftercare.messaging import (
    email_blocks,
    email_layout,
    markdown_email,
    sms_text,
    template_sandbox,
)
from aftercare.messaging.email_layout import Brand, Footer, Palette, is_web_url
from aftercare.messaging.markdown_email import CompiledBody
from aftercare.messaging.template_sandbox import Table, TemplateError, display
from aftercare.messaging.template_sandbox import compile_template as _compile
from aftercare.messaging.template_sandbox import render_line as _render_plain
from aftercare.messaging.variables import OPTIONAL_LINK_KEYS
from aftercare.messaging.variables import sample as sample_variables

__all__ = [
    "Brand",
    "RenderedEmail",
    "TemplateError",
    "TemplateSource",
    "check_template",
    "render_email",
    "render_sms",
    "sms_segments",
    "unknown_variables",
]

Origin = Literal["default", "store"]


@dataclass(frozen=True)
class TemplateSource:
    key: str  # "thank-you"
    locale: str  # "ko"
    channel: str  # "email" | "sms"
    subject: str
    preheader: str
    body: str
    origin: Origin  # a shipped default or the store's own version


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@lru_cache(maxsize=4096)
def _compile_markdown(tokenized: str) -> CompiledBody:
    return markdown_email.compile_body(tokenized)


def _render_body(source: str, variables: Mapping[str, Any]) -> tuple[CompiledBody, Table]:
    tokenized, table = template_sandbox.render_tokenized(source, variables)
    return _compile_markdown(tokenized), table


# --- filling the tokens in --------------------------------------------------------------------

_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"
_NEEDS_QUOTE = re.compile(r"[^A-Za-z0-9/:?#\[\]@!$&'()*+,;=%~\-._]")


def _encoded(url: str) -> str:
    """Spaces, quotes, non-ASCII percent-encoded; an existing %xx left alone."""
    return quote(url, safe=_URL_SAFE) if _NEEDS_QUOTE.search(url) else url


# An address in the text part runs into the next word when that word is not ASCII
# ("…/order에서"): mail clients would take it as part of the link. Targets are ASCII (encoded).
_URL_THEN_WORD = re.compile(r"(https?://[\x21-\x7e]+)(?=[^\s\x21-\x7e])")
_NO_SPACE = re.compile(r"\S+")
_EMAIL = re.compile(r"[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+\.[^@\s<>()\[\]\\,;:\".]+")


def _html_text(text: str) -> str:
    """A value as HTML text: escaped, its line breaks kept (a staff note, an address)."""
    return escape(text).replace("\n", "<br>\n")


def _no_wrap(variables: Mapping[str, Any]) -> frozenset[str]:
    links = variables.get("links")
    if not isinstance(links, Mapping):
        return frozenset()
    return frozenset(
        str(links[key]).strip()
        for key in ("unsubscribe_url", "preferences_url")
        if isinstance(links.get(key), str) and links[key].strip()
    )


class _Filler:
    """Fills one message's tokens into a compiled body (HTML and text)."""

    def __init__(
        self,
        *,
        compiled: CompiledBody,
        table: Table,
        palette: Palette,
        locale: str,
        link_wrapper: Callable[[str], str] | None,
        no_wrap: frozenset[str],
    ) -> None:
        self.compiled = compiled
        self.values = table.values
        self.palette = palette
        self.link_wrapper = link_wrapper
        self.no_wrap = no_wrap
        self._targets: dict[str, str | None] = {}
        self._hrefs: dict[int, str | None] = {}
        self._blocks: dict[int, tuple[str, str]] = {}
        self._block_list = table.blocks
        self._block_context = email_blocks.BlockContext(
            palette=palette,
            strings=email_layout.strings(locale),
            fonts=email_layout.font_stack(locale),
            target=self.target,
            image=self.image,
        )
        self._link_style = f"color:{palette.ink};text-decoration:underline;"

    # -- targets --

    def target(self, url: str) -> str | None:
        """A link target as it goes out: checked, encoded, wrapped (once per distinct URL)."""
        url = url.strip()
        if url in self._targets:
            return self._targets[url]
        lowered = url.lower()
        result: str | None
        if lowered.startswith(("mailto:", "tel:")):
            result = url
        elif not is_web_url(url) or len(url) <= len("https://"):
            result = None
        else:
            encoded = _encoded(url)
            if self.link_wrapper is None or url in self.no_wrap:
                result = encoded
            else:
                result = self.link_wrapper(encoded)
        self._targets[url] = result
        return result

    @staticmethod
    def image(url: str) -> str | None:
        url = url.strip()
        return _encoded(url) if is_web_url(url) else None

    def value(self, index: int) -> str:
        return self.values[index] if index < len(self.values) else ""

    def _raw(self, template: str) -> str:
        """A link/label template with its values in, unescaped."""
        return markdown_email.TOKEN.sub(lambda m: self.value(int(m.group(2))), template)

    def href(self, index: int) -> str | None:
        if index not in self._hrefs:
            links = self.compiled.links
            self._hrefs[index] = (
                self.target(self._raw(links[index].href)) if index < len(links) else None
            )
        return self._hrefs[index]

    def block(self, index: int) -> tuple[str, str]:
        if index not in self._blocks:
            self._blocks[index] = (
                email_blocks.render(self._block_list[index], self._block_context)
                if index < len(self._block_list)
                else ("", "")
            )
        return self._blocks[index]

    def _is_address(self, text: str) -> bool:
        return is_web_url(text) and _NO_SPACE.fullmatch(text) is not None

    # -- the two parts --

    def html(self, match: re.Match[str]) -> str:  # noqa: PLR0911 - one case per token kind
        kind, index = match.group(1), int(match.group(2))
        if kind == markdown_email.V_OPEN:
            text = self.value(index)
            stripped = text.strip()
            url = None
            if self._is_address(stripped):
                url = self.target(stripped)
            elif _EMAIL.fullmatch(stripped):
                url = f"mailto:{stripped}"
            if url is not None:
                return f'<a href="{escape(url)}" style="{self._link_style}">{escape(text)}</a>'
            return _html_text(text)
        if kind == markdown_email.A_OPEN:
            return _html_text(self.value(index))
        if kind == markdown_email.B_OPEN:
            return self.block(index)[0]
        if kind == markdown_email.L_OPEN:
            url = self.href(index)
            if url is None:
                return ""
            title = self._raw(self.compiled.links[index].title)
            title_attr = f' title="{escape(title)}"' if title else ""
            return f'<a href="{escape(url)}"{title_attr} style="{self._link_style}">'
        if kind == markdown_email.E_OPEN:
            return "</a>" if self.href(index) is not None else ""
        if kind == markdown_email.I_OPEN and index < len(self.compiled.images):
            image = self.compiled.images[index]
            src = self.image(self._raw(image.src))
            if src is None:
                return ""
            return (
                f'<img src="{escape(src)}" alt="{escape(self._raw(image.alt))}" '
                'style="display:block;max-width:100%;height:auto;border:0;margin:0 0 16px;">'
            )
        return ""

    def text(self, match: re.Match[str]) -> str:  # noqa: PLR0911 - one case per token kind
        kind, index = match.group(1), int(match.group(2))
        if kind in {markdown_email.V_OPEN, markdown_email.A_OPEN}:
            text = self.value(index)
            if kind == markdown_email.V_OPEN and self._is_address(text.strip()):
                return self.target(text) or text
            return text
        if kind == markdown_email.B_OPEN:
            return self.block(index)[1]
        if kind == markdown_email.T_OPEN and index < len(self.compiled.links):
            link = self.compiled.links[index]
            label = self._raw(link.label).strip()
            url = self.href(index)
            if url is None:
                return label
            shown = url.split(":", 1)[1] if url.lower().startswith(("mailto:", "tel:")) else url
            raw = self._raw(link.href).strip()
            if not label or label in {raw, url, shown}:
                return shown
            return f"{label}: {shown}"
        return ""


_BLANK_LINES = re.compile(r"\n{3,}")


def _fill_text(filler: _Filler) -> str:
    text = markdown_email.TOKEN.sub(filler.text, filler.compiled.text)
    text = _URL_THEN_WORD.sub(r"\1 ", text)
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


# --- public -----------------------------------------------------------------------------------


def render_email(
    *,
    source: TemplateSource,
    variables: Mapping[str, Any],
    brand: Brand,
    marketing: bool,
    link_wrapper: Callable[[str], str] | None = None,
    open_pixel_url: str | None = None,
) -> RenderedEmail:
    """Subject, HTML and text of one email. Raises TemplateError when the template fails,
    ValueError for marketing mail without `links.unsubscribe_url`."""
    links = variables.get("links")
    links = links if isinstance(links, Mapping) else {}
    footer = Footer(
        marketing=marketing,
        unsubscribe_url=display(links.get("unsubscribe_url")).strip(),
        preferences_url=display(links.get("preferences_url")).strip(),
    )
    if marketing and not footer.unsubscribe_url:
        raise ValueError("marketing mail needs variables['links']['unsubscribe_url']")
    subject = _render_plain(source.subject, variables, field="subject")
    preheader = _render_plain(source.preheader, variables, field="preheader")
    compiled, table = _render_body(source.body, variables)
    filler = _Filler(
        compiled=compiled,
        table=table,
        palette=email_layout.palette(brand.color),
        locale=source.locale,
        link_wrapper=link_wrapper,
        no_wrap=_no_wrap(variables),
    )
    body_html = markdown_email.TOKEN.sub(filler.html, compiled.html)
    html = email_layout.html_document(
        body_html=body_html,
        subject=subject,
        preheader=preheader,
        brand=brand,
        locale=source.locale,
        footer=footer,
        open_pixel_url=open_pixel_url,
    )
    text = _fill_text(filler) + email_layout.text_footer(
        brand=brand, locale=source.locale, footer=footer
    )
    return RenderedEmail(subject=subject, html=html, text=text)


# --- SMS --------------------------------------------------------------------------------------

sms_segments = sms_text.segments


def render_sms(
    *,
    source: TemplateSource,
    variables: Mapping[str, Any],
    link_wrapper: Callable[[str], str] | None = None,
) -> str:
    """The plain text of one SMS: the body's text form, paragraphs on their own lines, in
    GSM-7 when plain punctuation is all it takes (sms_text.py)."""
    compiled, table = _render_body(source.body, variables)
    filler = _Filler(
        compiled=compiled,
        table=table,
        palette=email_layout.palette(None),
        locale=source.locale,
        link_wrapper=link_wrapper,
        no_wrap=_no_wrap(variables),
    )
    text = _fill_text(filler)
    text = "\n".join(line.strip() for line in text.split("\n") if line.strip())
    return sms_text.gsm_if_possible(text)


# --- the editor -------------------------------------------------------------------------------


def check_template(*, subject: str, body: str, preheader: str = "", locale: str = "en") -> None:
    """Raise TemplateError if the template does not compile, or fails to render with a full
    sample variable set or with no variables at all (what the editor shows its user)."""
    sources = {"subject": subject, "preheader": preheader}
    for field, text in sources.items():
        _compile(text, field=field, body=False)
    _compile(body, field="body", body=True)
    source = TemplateSource(
        key="check",
        locale=locale,
        channel="email",
        subject=subject,
        preheader=preheader,
        body=body,
        origin="store",
    )
    brand = Brand(store_name="Check")
    for variables in (sample_variables(locale=locale), {}):
        render_email(source=source, variables=variables, brand=brand, marketing=False)


def unknown_variables(*, subject: str, body: str, preheader: str = "") -> list[str]:
    """Variables the template uses that the documented set does not have (`custmer`,
    `customer.frist_name`): they would print nothing, so the editor shows them as warnings.
    Only names and their first key are checked (loop variables are the template's own)."""
    known = sample_variables(locale="en")
    allowed = set(known) | template_sandbox.GLOBAL_NAMES | set(OPTIONAL_LINK_KEYS)
    found: set[str] = set()
    for field, text in (("subject", subject), ("preheader", preheader), ("body", body)):
        _compile(text, field=field, body=field == "body")  # syntax errors first, with lines
        tree = template_sandbox.parse(text, body=field == "body")
        found |= meta.find_undeclared_variables(tree) - allowed
        for node in tree.find_all(nodes.Getattr):
            section = node.node
            if isinstance(section, nodes.Name) and isinstance(known.get(section.name), dict):
                keys = known[section.name]
                if node.attr not in keys and not (section.name == "links" and node.attr in allowed):
                    found.add(f"{section.name}.{node.attr}")
    return sorted(found)
