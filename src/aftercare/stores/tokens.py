"""API token format and hashing. A token is `ac_<prefix>_<secret>`; we keep sha256(token).

token = new_token()            # shown once
token_hash(token)              # what is stored and looked up
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ac_"  # noqa: S105 - a public prefix


def new_token() -> str:
    return f"{TOKEN_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """The part shown in lists so staff can tell tokens apart (`ac_1a2b3c4d`)."""
    return token[: len(TOKEN_PREFIX) + 8]
