"""The one place DomainErrors become HTTP responses. Envelope:

{"error": {"code": "not_found", "message": "no order 12 in this store", "details": {}}}
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from aftercare.core.errors import DomainError


def envelope(*, code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(
            request,
            envelope(code=str(exc.code), message=exc.message, details=exc.details),
            status=exc.http_status,
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return api.create_response(
            request,
            envelope(code="invalid_input", message="the request is not valid", details=exc.errors),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request,
            envelope(
                code="unauthorized",
                message="send a valid API token as 'Authorization: Bearer <token>'",
            ),
            status=401,
        )
