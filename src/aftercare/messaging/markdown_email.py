"""Markdown → an email body with inline styles, and → its plain-text twin, from one parse.

    compiled = markdown_email.compile_body("Hi \ue0000\ue001!\n\n**Thanks**")
    compiled.html   # '<p style="margin:0 0 16px;">Hi \ue0000\ue001!</p>…'  (tokens left in)
    compiled.text   # 'Hi \ue0000\ue001!\n\nThanks'

Used by rendering.py, which hands us the Jinja output of a template with every variable value
replaced by a *token* (private-use characters around a number) and fills the tokens in
afterwards. Values therefore never pass through the Markdown parser — a customer named
`**bold**` or `<script>` is text, whatever it contains — and the output here depends only on the
template's shape, so rendering.py caches it: two customers of one template share one parse.

Tokens in the output (all `OPEN number CLOSE`, see `TOKEN`):
- `V` a value in running text: escaped, and made a link when the value is a web address;
- `A` a value where no link may be (inside a link's label, code, alt text): escaped only;
- `B` a block (button, order items, …): replaced by its HTML or text form; a paragraph that
  holds only blocks loses its `<p>`;
- `L`/`E` the opening/closing tag of the k-th link, `T` the k-th link in the text part ("label:
  url"), `I` the k-th image: their targets may contain value tokens, and are checked and passed
  through the click-tracking wrapper only once the values are known.

Raw HTML in the Markdown is shown as text, never passed through. Styles are written on each
element (the layout's `<style>` holds only the phone media query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

import mistune

V_OPEN, V_CLOSE = "\ue000", "\ue001"
B_OPEN, B_CLOSE = "\ue002", "\ue003"
A_OPEN, A_CLOSE = "\ue004", "\ue005"
L_OPEN, L_CLOSE = "\ue006", "\ue007"
E_OPEN, E_CLOSE = "\ue008", "\ue009"
T_OPEN, T_CLOSE = "\ue00a", "\ue00b"
I_OPEN, I_CLOSE = "\ue00c", "\ue00d"
SENTINELS = "".join(chr(c) for c in range(0xE000, 0xE00E))

TOKEN = re.compile("([\ue000\ue002\ue004\ue006\ue008\ue00a\ue00c])([0-9]+)[\ue001-\ue00d]")
_BLOCK = re.compile(f"{B_OPEN}[0-9]+{B_CLOSE}")
_PARAGRAPH_FILLER = re.compile(r"^(?:\s|<br>)*$")
_BLANK_LINES = re.compile(r"\n{3,}")
# mistune percent-encodes link targets; our sentinels come back as their UTF-8 escapes.
_ENCODED_SENTINEL = re.compile("%EE%80%8([0-9A-D])")

P = "margin:0 0 16px;"
_HEADING = {
    1: "margin:0 0 16px;font-size:24px;line-height:1.3;font-weight:700;",
    2: "margin:24px 0 12px;font-size:20px;line-height:1.3;font-weight:700;",
    3: "margin:20px 0 8px;font-size:17px;line-height:1.4;font-weight:700;",
}
_LIST = "margin:0 0 16px;padding:0 0 0 24px;"
_LI = "margin:0 0 6px;"
_QUOTE = "margin:0 0 16px;padding:0 0 0 14px;border-left:3px solid #d0d7de;color:#525e6d;"
_CODE = "font-family:Menlo,Consolas,monospace;font-size:14px;background:#f1f3f5;padding:1px 4px;"
_PRE = (
    "margin:0 0 16px;padding:12px;background:#f1f3f5;font-family:Menlo,Consolas,monospace;"
    "font-size:14px;white-space:pre-wrap;"
)
_HR = "border:0;border-top:1px solid #e3e7eb;margin:24px 0;"


@dataclass(frozen=True)
class Link:
    href: str  # the target as written, value tokens included
    label: str  # its text form (for "label: url" in the text part), tokens included
    title: str


@dataclass(frozen=True)
class Image:
    src: str
    alt: str


@dataclass(frozen=True)
class CompiledBody:
    html: str
    text: str
    links: tuple[Link, ...]
    images: tuple[Image, ...]


_PARSER = mistune.create_markdown(
    renderer="ast",
    # A line break in the editor is a line break in the mail (store owners are not writing
    # CommonMark: "Thanks,\nThe Acme team" must stay two lines).
    hard_wrap=True,
    plugins=["strikethrough", "url"],
)


def _restore_sentinels(url: str) -> str:
    return _ENCODED_SENTINEL.sub(lambda m: chr(0xE000 + int(m.group(1), 16)), url)


def _plain_context(rendered: str) -> str:
    """Value tokens that must not become links (we are inside a link, code, alt text)."""
    return rendered.replace(V_OPEN, A_OPEN).replace(V_CLOSE, A_CLOSE)


def _flat(tokens: list[dict[str, Any]]) -> str:
    """The words of inline nodes, nothing else (labels, alt texts)."""
    out: list[str] = []
    for token in tokens:
        if token["type"] in {"linebreak", "softbreak"}:
            out.append(" ")
        elif "raw" in token:
            out.append(token["raw"])
        else:
            out.append(_flat(token.get("children", [])))
    return _plain_context("".join(out))


class _Compiler:
    def __init__(self) -> None:
        self.links: list[Link] = []
        self.images: list[Image] = []
        self._text_link_index = 0  # the text pass meets the links in the HTML pass's order

    # -- HTML ---------------------------------------------------------------------------------

    def html(self, tokens: list[dict[str, Any]]) -> str:
        return "".join(self.html_token(token) for token in tokens)

    def html_token(self, token: dict[str, Any]) -> str:  # noqa: PLR0911, PLR0912 - one case per node type
        kind = token["type"]
        children = token.get("children", [])
        attrs = token.get("attrs", {})
        match kind:
            case "text":
                return escape(str(token["raw"]), quote=False)
            case "paragraph":
                return self._paragraph(self.html(children))
            case "heading":
                level = min(int(attrs.get("level", 1)), 3)
                return f'<h{level} style="{_HEADING[level]}">{self.html(children)}</h{level}>\n'
            case "emphasis":
                return f"<em>{self.html(children)}</em>"
            case "strong":
                return f"<strong>{self.html(children)}</strong>"
            case "strikethrough":
                return f"<del>{self.html(children)}</del>"
            case "link":
                k = self._link(token)
                return (
                    f"{L_OPEN}{k}{L_CLOSE}{_plain_context(self.html(children))}{E_OPEN}{k}{E_CLOSE}"
                )
            case "image":
                self.images.append(
                    Image(src=_restore_sentinels(attrs.get("url", "")), alt=_flat(children))
                )
                return f"{I_OPEN}{len(self.images) - 1}{I_CLOSE}"
            case "codespan":
                code = _plain_context(escape(token["raw"], quote=False))
                return f'<code style="{_CODE}">{code}</code>'
            case "linebreak":
                return "<br>\n"
            case "softbreak":
                return "\n"
            case "inline_html":
                return escape(str(token["raw"]), quote=False)
            case "block_html":
                return f'<p style="{P}">{escape(token["raw"].strip(), quote=False)}</p>\n'
            case "block_text":
                return self.html(children)
            case "list":
                tag = "ol" if attrs.get("ordered") else "ul"
                start = attrs.get("start")
                start_attr = f' start="{int(start)}"' if tag == "ol" and start else ""
                return f'<{tag}{start_attr} style="{_LIST}">\n{self.html(children)}</{tag}>\n'
            case "list_item":
                return f'<li style="{_LI}">{self.html(children).strip()}</li>\n'
            case "block_quote":
                return f'<div style="{_QUOTE}">\n{self.html(children)}</div>\n'
            case "block_code":
                code = _plain_context(escape(token.get("raw", ""), quote=False))
                return f'<pre style="{_PRE}"><code>{code}</code></pre>\n'
            case "thematic_break":
                return f'<hr style="{_HR}">\n'
            case "blank_line":
                return ""
        if "raw" in token:  # a node type we do not style: its text, escaped
            return escape(str(token["raw"]), quote=False)
        return self.html(children)

    def _paragraph(self, inner: str) -> str:
        """Blocks are tables: they cannot sit in a `<p>`. Split the paragraph around them."""
        if B_OPEN not in inner:
            return f'<p style="{P}">{inner}</p>\n'
        parts: list[str] = []
        position = 0
        for match in _BLOCK.finditer(inner):
            before = inner[position : match.start()]
            if not _PARAGRAPH_FILLER.match(before):
                parts.append(f'<p style="{P}">{before.strip()}</p>\n')
            parts.append(match.group(0) + "\n")
            position = match.end()
        after = inner[position:]
        if not _PARAGRAPH_FILLER.match(after):
            parts.append(f'<p style="{P}">{after.strip()}</p>\n')
        return "".join(parts)

    def _link(self, token: dict[str, Any]) -> int:
        attrs = token.get("attrs", {})
        self.links.append(
            Link(
                href=_restore_sentinels(attrs.get("url", "")),
                label=_flat(token.get("children", [])),
                title=attrs.get("title") or "",
            )
        )
        return len(self.links) - 1

    # -- plain text -------------------------------------------------------------------------

    def text(self, tokens: list[dict[str, Any]]) -> str:
        """Inline nodes as plain text: emphasis markers dropped, links "label: url"."""
        out: list[str] = []
        for token in tokens:
            kind = token["type"]
            if kind == "link":
                out.append(f"{T_OPEN}{self._text_link_index}{T_CLOSE}")
                self._text_link_index += 1
            elif kind == "image":
                out.append(_flat(token.get("children", [])))
            elif kind in {"linebreak", "softbreak"}:
                out.append("\n")
            elif kind == "codespan":
                out.append(_plain_context(token["raw"]))
            elif "raw" in token:
                out.append(token["raw"])
            else:
                out.append(self.text(token.get("children", [])))
        return "".join(out)

    def text_blocks(self, tokens: list[dict[str, Any]], indent: str = "") -> str:
        """Block nodes as plain text: paragraphs separated by blank lines, lists with markers."""
        out: list[str] = []
        for token in tokens:
            kind = token["type"]
            children = token.get("children", [])
            if kind in {"paragraph", "heading", "block_text"}:
                out.append(self.text(children).strip() + "\n\n")
            elif kind == "list":
                out.append(self._text_list(token, indent) + "\n")
            elif kind == "block_quote":
                inner = self.text_blocks(children).strip()
                out.append("\n".join(f"> {line}" if line else ">" for line in inner.split("\n")))
                out.append("\n\n")
            elif kind == "block_code":
                out.append(_plain_context(token.get("raw", "")).rstrip() + "\n\n")
            elif kind == "block_html":
                out.append(token["raw"].strip() + "\n\n")
            elif kind == "thematic_break":
                out.append("----------\n\n")
        return "".join(out)

    def _text_list(self, token: dict[str, Any], indent: str) -> str:
        attrs = token.get("attrs", {})
        number = int(attrs.get("start") or 1)
        lines: list[str] = []
        for item in token.get("children", []):
            marker = f"{number}. " if attrs.get("ordered") else "- "
            number += 1
            body = self.text_blocks(item.get("children", []), indent + " " * len(marker))
            body = _BLANK_LINES.sub("\n\n", body).strip("\n")
            item_lines = body.split("\n")
            lines.append(indent + marker + item_lines[0].lstrip())
            lines.extend(
                line
                if not line or line.startswith(indent + " ")
                else indent + " " * len(marker) + line
                for line in item_lines[1:]
            )
        return "\n".join(line.rstrip() for line in lines if line.strip()) + "\n"


def compile_body(markdown: str) -> CompiledBody:
    """Parse once, render twice. The input holds value/block tokens, never values."""
    tokens = _PARSER(markdown)
    assert isinstance(tokens, list)
    compiler = _Compiler()
    html = compiler.html(tokens)
    text = compiler.text_blocks(tokens)
    text = _BLANK_LINES.sub("\n\n", text).strip() + "\n"
    return CompiledBody(
        html=html, text=text, links=tuple(compiler.links), images=tuple(compiler.images)
    )
