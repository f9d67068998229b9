"""The store's colours on customer pages, made safe and readable.

`Store.brand_color` is free text as far as the database goes (an admin, an import or the API may
put anything there), and it is injected into CSS: only `#rgb`/`#rrggbb` gets through, anything
else falls back to the default. On the brand colour we pick black or white text, whichever
contrasts more (one of them always reaches WCAG AA's 4.5:1); for links and outlines on the
white page we darken the brand colour until it reaches 4.5:1 against white.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_BRAND = "#1d5fd1"
WHITE = "#ffffff"
BLACK = "#000000"
AA_NORMAL_TEXT = 4.5

_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})", re.IGNORECASE)


@dataclass(frozen=True)
class Palette:
    brand: str  # the store's colour (header, primary button)
    on_brand: str  # text on `brand`
    ink: str  # the brand colour as text/lines on white (links, focus rings)


def valid_hex(value: str | None) -> str | None:
    """`#rrggbb` in lower case for a valid colour, None for anything else."""
    if not value or not _HEX.fullmatch(value.strip()):
        return None
    digits = value.strip()[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _channels(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a `#rrggbb` colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _darken(color: str, factor: float) -> str:
    r, g, b = (round(c * factor) for c in _channels(color))
    return f"#{r:02x}{g:02x}{b:02x}"


def palette(brand_color: str | None) -> Palette:
    brand = valid_hex(brand_color) or DEFAULT_BRAND
    on_brand = max((WHITE, BLACK), key=lambda text: contrast_ratio(brand, text))
    ink = brand
    factor = 1.0
    while contrast_ratio(ink, WHITE) < AA_NORMAL_TEXT:  # ends: black on white is 21:1
        factor -= 0.05
        ink = _darken(brand, max(factor, 0.0))
    return Palette(brand=brand, on_brand=on_brand, ink=ink)
