from __future__ import annotations

import pytest

from aftercare.portal.masking import mask_email, mask_phone


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("jane.doe@example.com", "ja•••e@example.com"),
        ("bob@example.com", "b•••b@example.com"),
        ("jo@example.com", "j•••@example.com"),
        ("a@example.com", "a•••@example.com"),
        ("no-at-sign", "•••"),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_mask_phone() -> None:
    assert mask_phone("+82 10-1234-5678") == "••• 5678"
    assert mask_phone("123") == "•••"
