"""The DomainError tree. Services raise these; `aftercare.api.errors` maps them to the HTTP
error envelope in one place, management commands print `str(error)`.

Each error carries a stable machine-readable `code` (an Enum value of its app) and a message
written for the person who has to fix the problem."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    code: StrEnum | str = "error"
    http_status = 400

    def __init__(self, message: str, *, code: StrEnum | str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The object does not exist *for this store* (tenant isolation answers 404, never 403)."""

    code = "not_found"
    http_status = 404


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 400


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class ExternalServiceError(DomainError):
    """A remote system (WooCommerce, an SMTP server…) failed.

    `retryable` says whether trying again later can help."""

    code = "external_service_error"
    http_status = 502

    def __init__(self, message: str, *, retryable: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retryable = retryable
