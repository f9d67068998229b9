"""WooCommerce webhook signatures: base64(HMAC-SHA256(key=secret, msg=raw body)).

    is_valid_signature(body=request.body, signature=header, secrets=["whsec-…"])

WooCommerce signs with the secret *after* `wp_specialchars_decode(…, ENT_QUOTES)` (SPEC §3), so a
secret typed with HTML entities (`&amp;`) is tried decoded too. Comparison is constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

# The entities wp_specialchars_decode(…, ENT_QUOTES) turns back into characters.
_ENTITIES = {
    "&amp;": "&", "&#038;": "&", "&#x26;": "&",
    "&lt;": "<", "&#060;": "<",
    "&gt;": ">", "&#062;": ">",
    "&quot;": '"', "&#034;": '"', "&#x22;": '"',
    "&#039;": "'", "&#x27;": "'",
}  # fmt: skip
_ENTITY_RE = re.compile("|".join(re.escape(e) for e in _ENTITIES), re.IGNORECASE)


def wp_specialchars_decode(secret: str) -> str:
    return _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(0).lower()], secret)


def sign(*, body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_valid_signature(*, body: bytes, signature: str, secrets: Iterable[str]) -> bool:
    if not signature:
        return False
    given = signature.strip().encode()
    valid = False
    for secret in secrets:
        for key in {secret, wp_specialchars_decode(secret)}:
            # No early exit: every candidate is checked, so timing does not tell which matched.
            valid |= hmac.compare_digest(sign(body=body, secret=key).encode(), given)
    return valid
