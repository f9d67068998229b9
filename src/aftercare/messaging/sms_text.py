"""SMS text: what a segment costs, and keeping English texts in the cheap alphabet.

    sms_text.segments("Your order #1042 has shipped")   # -> 1
    sms_text.gsm_if_possible("We\u2019re on it\u2026")       # -> "We're on it..."

A segment holds 160 characters when every character is in the GSM 03.38 alphabet (153 each
when the text is split), else 70 in UCS-2 (67 each): Korean and Japanese always. One curly
apostrophe in an English text would switch the whole text to UCS-2 and more than double its
cost, so typographic punctuation is replaced by its plain form when that is all that stood in
the way; a text that is UCS-2 anyway keeps it.
"""

from __future__ import annotations

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each
_TO_GSM = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
    }
)


def _is_gsm(text: str) -> bool:
    return all(char in _GSM_BASIC or char in _GSM_EXTENDED for char in text)


def segments(text: str) -> int:
    """How many SMS segments `text` costs: GSM-7 (160, or 153 per part) when every character
    is in the GSM alphabet, else UCS-2 (70, or 67 per part; Korean and Japanese always)."""
    if _is_gsm(text):
        length = sum(2 if char in _GSM_EXTENDED else 1 for char in text)
        single, part = 160, 153
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    if length <= single:
        return 1
    return -(-length // part)


def gsm_if_possible(text: str) -> str:
    """`text` with typographic punctuation made plain, if that makes it GSM-7; else as is."""
    plain = text.translate(_TO_GSM)
    return plain if _is_gsm(plain) else text
