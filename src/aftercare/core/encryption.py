"""Secrets at rest (WooCommerce consumer secrets, webhook secrets) are Fernet tokens.

    EncryptedTextField()   # a model field: plaintext in Python, ciphertext in the database

The key is derived from settings.FIELD_ENCRYPTION_KEY; values never appear in logs or reprs."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@cache
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(("aftercare-fields:" + key_material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "cannot decrypt a stored secret: AFTERCARE_ENCRYPTION_KEY (or SECRET_KEY) changed"
        ) from exc


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Stores `encrypt(value)`; empty string stays empty (means "not set")."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
