"""Showing who a link is for without showing the whole address: a forwarded mail or a shoulder
must not reveal a customer's email in full ("ja•••e@example.com")."""

from __future__ import annotations

MASK = "•••"


def mask_email(email: str) -> str:
    local, at, domain = email.partition("@")
    if not at:
        return MASK
    if len(local) <= 2:
        shown = local[:1] + MASK
    elif len(local) <= 5:
        shown = local[:1] + MASK + local[-1]
    else:
        shown = local[:2] + MASK + local[-1]
    return f"{shown}@{domain}"


def mask_phone(phone: str) -> str:
    """Only the last digits: "•••• 4567"."""
    digits = [c for c in phone if c.isdigit()]
    return f"{MASK} {''.join(digits[-4:])}" if len(digits) > 4 else MASK
