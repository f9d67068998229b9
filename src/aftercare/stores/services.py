"""Writes for stores, staff and API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from aftercare.core import clock
from aftercare.core.errors import Conflict, InvalidInput
from aftercare.stores import tokens
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.models import ApiToken, StaffMembership, StaffProfile, StaffRole, Store


def new_webhook_secret() -> str:
    # No '&' (WooCommerce entity-decodes the secret before signing) and no other HTML specials.
    return secrets.token_urlsafe(32)


@transaction.atomic
def create_store(
    *,
    slug: str,
    name: str,
    webhook_secret: str | None = None,
    currency: str = "USD",
    time_zone: str = "UTC",
    default_locale: str = "en",
) -> Store:
    if slugify(slug) != slug or not slug:
        raise InvalidInput(
            f"store slug {slug!r} must be lower-case letters, digits and hyphens",
            code=StoreErrorCode.INVALID_SLUG,
        )
    try:
        with transaction.atomic():
            return Store.objects.create(
                slug=slug,
                name=name,
                webhook_secret=webhook_secret or new_webhook_secret(),
                currency=currency.upper(),
                time_zone=time_zone,
                default_locale=default_locale,
            )
    except IntegrityError as exc:
        raise Conflict(
            f"a store with slug {slug!r} exists", code=StoreErrorCode.SLUG_TAKEN
        ) from exc


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


def create_api_token(*, store: Store, name: str = "") -> IssuedToken:
    token = tokens.new_token()
    record = ApiToken.objects.create(
        store=store,
        name=name,
        prefix=tokens.display_prefix(token),
        token_hash=tokens.token_hash(token),
    )
    return IssuedToken(token=token, record=record)


def revoke_api_token(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())


@transaction.atomic
def add_staff(*, store: Store, user: AbstractBaseUser, role: StaffRole) -> StaffMembership:
    membership, _ = StaffMembership.objects.update_or_create(
        store=store, user=user, defaults={"role": role}
    )
    return membership


@transaction.atomic
def create_staff_user(
    *, store: Store, username: str, password: str, role: StaffRole, email: str = ""
) -> StaffMembership:
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_user(username=username, email=email, password=password)
    return add_staff(store=store, user=user, role=role)


@transaction.atomic
def create_staff_member(
    *,
    store: Store,
    email: str,
    role: StaffRole,
    password: str | None = None,
    language: str = "",
) -> StaffMembership:
    """Give `email` a role in `store`, creating the user (username = the email) when needed.

    An existing user keeps their password unless `password` is given (an operator resetting it
    from the command line). Without a password a new user can only sign in after a reset by email.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address", code=StoreErrorCode.INVALID_EMAIL)
    user_model = get_user_model()
    user = (
        user_model.objects.filter(username=email).first()
        or user_model.objects.filter(email__iexact=email).first()
    )
    if user is None:
        user = user_model.objects.create_user(username=email, email=email, password=password)
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    if language:
        set_staff_language(user_id=int(user.pk), language=language)
    return add_staff(store=store, user=user, role=role)


def set_staff_language(*, user_id: int, language: str) -> None:
    """Remember the dashboard language of a staff member ("" = follow the browser)."""
    StaffProfile.objects.update_or_create(user_id=user_id, defaults={"language": language})
