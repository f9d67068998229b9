"""Brand colours: only real colours reach the CSS, and text on them stays readable (WCAG AA)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aftercare.portal import branding

hex_colours = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda n: f"#{n:06x}")


def test_malicious_values_are_rejected() -> None:
    for value in (
        "red;}</style><script>alert(1)</script>",
        "#fff;}body{x",
        "red",
        "#ggg",
        "expression(alert(1))",
        "#1d5fd1 ",
        "\n#1d5fd1",
        None,
        "",
    ):
        assert branding.palette(value).brand in {branding.DEFAULT_BRAND, "#1d5fd1"}
    assert branding.valid_hex("red;}</style><script>") is None
    assert branding.valid_hex("#ABC") == "#aabbcc"


def test_known_contrasts() -> None:
    assert round(branding.contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert branding.palette("#ffdd00").on_brand == branding.BLACK
    assert branding.palette("#1d5fd1").on_brand == branding.WHITE
    assert branding.palette("#1d5fd1").ink == "#1d5fd1"  # already dark enough on white


@given(hex_colours)
def test_text_on_the_brand_and_ink_on_white_reach_aa(colour: str) -> None:
    palette = branding.palette(colour)
    assert palette.brand == colour
    assert branding.contrast_ratio(palette.brand, palette.on_brand) >= 4.5
    assert branding.contrast_ratio(palette.ink, branding.WHITE) >= 4.5
