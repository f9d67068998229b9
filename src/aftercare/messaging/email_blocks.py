"""The blocks a template can drop into its Markdown, each with an HTML and a plain-text form:

    {{ button(links.order_url, "Track my order") }}
    {{ order_items() }}                         {# the order in context, with its totals #}
    {{ product_grid(recommended_products) }}
    {{ coupon_box(coupon) }}
    {{ score_scale(links.survey_url, "Not likely", "Very likely") }}   {# 0 to 10, ?score=N #}

In the template they are Jinja globals that return a `Block` (rendering.py turns it into a
token that passes through Markdown untouched); here, once the message's brand, language and
link wrapper are known, each becomes table-based HTML with inline styles, or text. Their data
are the plain dicts of the variable set (variables.py); anything missing renders as nothing —
a button without a URL, a coupon without a code, a grid without products are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape as _html_escape
from typing import Any

from jinja2 import Undefined

from aftercare.messaging.email_layout import INK, MUTED, RULE, Palette, Strings


@dataclass(frozen=True, eq=False)
class Block:
    kind: str  # "button" | "order_items" | "product_grid" | "coupon_box" | "score_scale"
    args: tuple[Any, ...]


@dataclass(frozen=True)
class BlockContext:
    palette: Palette
    strings: Strings
    fonts: str
    # A link target as it goes out (click-tracked when wrapped), or None when it is not a
    # link we send (javascript:, relative, empty).
    target: Callable[[str], str | None]
    # An image source as it goes out (never wrapped: an image is not a click), or None.
    image: Callable[[str], str | None]


# The variables are plain dicts, lists and strings (variables.py): concrete type checks here,
# not the ABCs — a block renders per message, and ABC checks were a third of its time.


def escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return _html_escape(text)
    return text


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None or isinstance(value, Undefined | dict):
        return ""
    return str(value).strip()


def _field(data: Any, key: str) -> str:
    return _text(data.get(key)) if type(data) is dict else ""


def _rows(data: Any) -> list[dict[str, Any]]:
    if type(data) is list or type(data) is tuple:
        return [row for row in data if type(row) is dict]
    return []


def _table(style: str) -> str:
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="{style}">\n'
    )


# --- button ---------------------------------------------------------------------------------


def _button(block: Block, ctx: BlockContext) -> tuple[str, str]:
    url = ctx.target(_text(block.args[0])) if block.args else None
    if url is None:
        return "", ""
    label = _text(block.args[1]) if len(block.args) > 1 else ""
    label = label or url
    colours = ctx.palette
    html = (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        'style="margin:8px 0 24px;">\n'
        f'<tr><td style="background:{colours.brand};border-radius:6px;">'
        f'<a class="ac-btn" href="{escape(url)}" style="display:inline-block;padding:12px 24px;'
        f"font-family:{ctx.fonts};font-size:16px;font-weight:600;line-height:1.3;"
        f'color:{colours.on_brand};text-decoration:none;border-radius:6px;">{escape(label)}</a>'
        "</td></tr>\n</table>"
    )
    return html, f"{label}: {url}"


# --- order items ------------------------------------------------------------------------------


def _order_items(block: Block, ctx: BlockContext) -> tuple[str, str]:
    order = block.args[0] if block.args else None
    items = _rows(order.get("items")) if type(order) is dict else []
    if not items:
        return "", ""
    words = ctx.strings
    with_images = any(_field(item, "image_url") for item in items)
    cell = f"border-bottom:1px solid {RULE};vertical-align:top;font-family:{ctx.fonts};"
    html = [_table("margin:0 0 24px;border-collapse:collapse;")]
    text: list[str] = []
    for item in items:
        name, quantity = _field(item, "name"), _field(item, "quantity")
        price, total = _field(item, "price"), _field(item, "total")
        detail = words.quantity % {"quantity": quantity} if quantity else ""
        if price:
            detail = f"{detail} · {price}" if detail else price
        html.append("<tr>")
        if with_images:
            image = ctx.image(_field(item, "image_url"))
            thumb = (
                f'<img src="{escape(image)}" alt="" width="56" height="56" style="display:block;'
                'width:56px;height:56px;border:0;border-radius:4px;object-fit:cover;">'
                if image
                else ""
            )
            html.append(f'<td width="68" style="{cell}padding:12px 12px 12px 0;">{thumb}</td>')
        html.append(
            f'<td style="{cell}padding:12px 0;font-size:15px;color:{INK};">'
            f'<strong style="font-weight:600;">{escape(name)}</strong>'
            + (
                f'<br><span style="font-size:14px;color:{MUTED};">{escape(detail)}</span>'
                if detail
                else ""
            )
            + "</td>"
            f'<td align="right" style="{cell}padding:12px 0 12px 12px;font-size:15px;'
            f'white-space:nowrap;color:{INK};">{escape(total)}</td></tr>\n'
        )
        line = f"{quantity} × {name}" if quantity else name  # noqa: RUF001 - the times sign
        text.append(f"{line}  {total}".rstrip())
    span = ' colspan="2"' if with_images else ""
    text.append("")
    for label, key in (
        (words.subtotal, "subtotal"),
        (words.discount, "discount"),
        (words.shipping, "shipping"),
        (words.total, "total"),
    ):
        amount = _field(order, key)
        if not amount:
            continue
        strong = key == "total"
        style = (
            f"padding:{'12px' if strong else '6px'} 0 0;font-family:{ctx.fonts};font-size:15px;"
            f"color:{INK if strong else MUTED};{'font-weight:700;' if strong else ''}"
        )
        html.append(
            f'<tr><td{span} style="{style}">{escape(label)}</td>'
            f'<td align="right" style="{style}white-space:nowrap;padding-left:12px;">'
            f"{escape(amount)}</td></tr>\n"
        )
        text.append(f"{label}: {amount}")
    html.append("</table>")
    return "".join(html), "\n".join(text)


# --- product grid -----------------------------------------------------------------------------


def _product_grid(block: Block, ctx: BlockContext) -> tuple[str, str]:
    products = _rows(block.args[0]) if block.args else []
    products = [p for p in products if _field(p, "name")]
    if not products:
        return "", ""
    columns = min(len(products), 3)
    width = f"{100 // columns}%"
    html = [_table("margin:0 0 24px;")]
    text: list[str] = []
    for start in range(0, len(products), columns):
        html.append("<tr>\n")
        for product in products[start : start + columns]:
            name, price = _field(product, "name"), _field(product, "price")
            url = ctx.target(_field(product, "url"))
            image = ctx.image(_field(product, "image_url"))
            picture = (
                f'<img src="{escape(image)}" alt="{escape(name)}" width="160" style="display:block;'
                "width:100%;max-width:160px;height:auto;border:0;border-radius:6px;"
                'margin:0 auto 8px;">'
                if image
                else ""
            )
            title = (
                f'<span style="font-size:15px;font-weight:600;color:{INK};">{escape(name)}</span>'
            )
            if url:
                picture = (
                    f'<a href="{escape(url)}" style="text-decoration:none;">{picture}</a>'
                    if picture
                    else ""
                )
                title = (
                    f'<a href="{escape(url)}" style="font-size:15px;font-weight:600;'
                    f'color:{ctx.palette.ink};text-decoration:none;">{escape(name)}</a>'
                )
            html.append(
                f'<td class="ac-col" width="{width}" valign="top" style="width:{width};'
                f"padding:0 8px 16px;text-align:center;vertical-align:top;"
                f'font-family:{ctx.fonts};">{picture}{title}'
                + (
                    f'<div style="font-size:14px;color:{MUTED};margin-top:2px;">'
                    f"{escape(price)}</div>"
                    if price
                    else ""
                )
                + "</td>\n"
            )
            line = f"- {name}" + (f" — {price}" if price else "")
            text.append(f"{line}: {url}" if url else line)
        html.append("</tr>\n")
    html.append("</table>")
    return "".join(html), "\n".join(text)


# --- coupon -----------------------------------------------------------------------------------


def _coupon_box(block: Block, ctx: BlockContext) -> tuple[str, str]:
    coupon = block.args[0] if block.args else None
    code = _field(coupon, "code")
    if not code:
        return "", ""
    words = ctx.strings
    value, expires = _field(coupon, "value"), _field(coupon, "expires_at")
    until = words.valid_until % {"date": expires} if expires else ""
    html = (
        _table("margin:0 0 24px;")
        + f'<tr><td align="center" style="padding:20px;border:2px dashed {ctx.palette.ink};'
        f'border-radius:8px;font-family:{ctx.fonts};color:{INK};">'
        f'<div style="font-size:13px;color:{MUTED};letter-spacing:0.04em;">'
        f"{escape(words.your_code)}</div>"
        '<div style="font-family:Menlo,Consolas,monospace;font-size:24px;font-weight:700;'
        f'letter-spacing:0.08em;margin:6px 0;">{escape(code)}</div>'
        + (f'<div style="font-size:15px;">{escape(value)}</div>' if value else "")
        + (
            f'<div style="font-size:13px;color:{MUTED};margin-top:4px;">{escape(until)}</div>'
            if until
            else ""
        )
        + "</td></tr>\n</table>"
    )
    text = f"{words.your_code}: {code}" + (f" ({value})" if value else "")
    if until:
        text += f"\n{until}"
    return html, text


# --- 0 to 10 score scale ------------------------------------------------------------------------


def _with_score(url: str, score: int) -> str:
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}score={score}{hash_mark}{fragment}"


def _score_scale(block: Block, ctx: BlockContext) -> tuple[str, str]:
    url = _text(block.args[0]) if block.args else ""
    low = _text(block.args[1]) if len(block.args) > 1 else ""
    high = _text(block.args[2]) if len(block.args) > 2 else ""
    targets = [ctx.target(_with_score(url, score)) if url else None for score in range(11)]
    if any(target is None for target in targets):
        return "", ""
    colours = ctx.palette
    cells = "".join(
        f'<td align="center" style="padding:2px;">'
        f'<a href="{escape(str(target))}" style="display:block;min-width:28px;padding:8px 0;'
        f"border:1px solid {colours.ink};border-radius:4px;color:{colours.ink};"
        f'font-family:{ctx.fonts};font-size:15px;font-weight:600;text-decoration:none;">'
        f"{score}</a></td>"
        for score, target in enumerate(targets)
    )
    html = (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="margin:0 0 24px;table-layout:fixed;">\n'
        f"<tr>{cells}</tr>\n"
    )
    if low or high:
        html += (
            f'<tr><td colspan="5" style="padding-top:6px;font-family:{ctx.fonts};font-size:13px;'
            f'color:{MUTED};">{escape(low)}</td><td></td>'
            f'<td colspan="5" align="right" style="padding-top:6px;font-family:{ctx.fonts};'
            f'font-size:13px;color:{MUTED};">{escape(high)}</td></tr>\n'
        )
    html += "</table>"
    text = "\n".join(f"{score}: {target}" for score, target in enumerate(targets))
    if low or high:
        text = f"0 = {low}, 10 = {high}\n{text}"
    return html, text


_RENDERERS: dict[str, Callable[[Block, BlockContext], tuple[str, str]]] = {
    "button": _button,
    "order_items": _order_items,
    "product_grid": _product_grid,
    "coupon_box": _coupon_box,
    "score_scale": _score_scale,
}


def render(block: Block, ctx: BlockContext) -> tuple[str, str]:
    """(html, text) of one block; ("", "") when it has nothing to show."""
    return _RENDERERS[block.kind](block, ctx)
