"""What the dashboard's settings pages change: the store's settings, its staff and roles, its API
tokens, and its WooCommerce connection (disconnect; connecting is `stores.connection`).

    settings_services.update_store_settings(store=store, time_zone="Europe/Berlin",
                                            marketing_cap_hours=24)
    settings_services.change_staff_role(store=store, membership_id=7, role=StaffRole.MANAGER)
    settings_services.revoke_api_token(store=store, token_id=3)

Every write validates what it is given (the dashboard's forms validate the same rules for a
friendly error next to the field; these checks hold for every other caller). Objects are looked
up by id *within the store*: another store's id raises NotFound, never touches the row.

The few reads the settings pages need (staff list, tokens, connection state) sit at the end,
next to the writes they serve.
"""

from __future__ import annotations

import datetime
import logging
import re
import smtplib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from aftercare.core.errors import Conflict, DomainError, InvalidInput, NotFound
from aftercare.jobs.models import Job, JobStatus
from aftercare.stores import connection
from aftercare.stores import selectors as store_selectors
from aftercare.stores import services as store_services
from aftercare.stores.models import (
    ApiToken,
    ConsentMode,
    StaffMembership,
    StaffRole,
    Store,
    WooConnection,
    WooWebhook,
)
from aftercare.stores.woo.errors import WooError

logger = logging.getLogger(__name__)

MAX_CAP_HOURS = 168  # one week; 0 means no cap
MAX_ATTRIBUTION_DAYS = 90
BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
SETTING_FIELDS = frozenset(
    {
        "name",
        "sender_name",
        "sender_email",
        "reply_to_email",
        "languages",
        "default_locale",
        "time_zone",
        "consent_mode",
        "marketing_cap_hours",
        "quiet_hours_start",
        "quiet_hours_end",
        "attribution_window_days",
        "attribution_counts_opens",
        "brand_color",
        "logo_url",
        "agents_see_revenue",
    }
)


class SettingsErrorCode:
    UNKNOWN_FIELD = "settings_unknown_field"
    INVALID_VALUE = "settings_invalid_value"
    LAST_OWNER = "staff_last_owner"
    UNKNOWN_MEMBER = "staff_unknown_member"
    UNKNOWN_TOKEN = "token_unknown"  # noqa: S105 - an error code


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def language_codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=SettingsErrorCode.INVALID_VALUE, field=field)


def _check(field: str, value: Any, merged: dict[str, Any]) -> None:
    if field == "name" and not str(value).strip():
        raise _invalid(field, "the store needs a name")
    if field in {"sender_email", "reply_to_email"} and value:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise _invalid(field, f"{value!r} is not an email address") from exc
    if field == "languages":
        if not isinstance(value, list) or not value:
            raise _invalid(field, "choose at least one language")
        unknown = sorted(set(value) - set(language_codes()))
        if unknown:
            raise _invalid(field, f"unsupported languages {', '.join(unknown)}")
    if field == "default_locale" and value not in merged["languages"]:
        raise _invalid(field, "the default language must be one of the store's languages")
    if field == "time_zone" and value not in time_zones():
        raise _invalid(field, f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)")
    if field == "consent_mode" and value not in ConsentMode.values:
        raise _invalid(field, f"choose one of {', '.join(ConsentMode.values)}")
    if field == "marketing_cap_hours" and (
        not isinstance(value, int) or not 0 <= value <= MAX_CAP_HOURS
    ):
        raise _invalid(field, f"hours between 0 (no cap) and {MAX_CAP_HOURS}")
    if field in {"quiet_hours_start", "quiet_hours_end"} and not isinstance(value, datetime.time):
        raise _invalid(field, "a time of day")
    if field == "brand_color" and not BRAND_COLOR.match(str(value)):
        raise _invalid(field, "a colour as #rrggbb")
    if field == "logo_url" and value:
        try:
            URLValidator(schemes=["https", "http"])(value)
        except ValidationError as exc:
            raise _invalid(field, "an http(s) address of an image") from exc
    if field == "attribution_window_days" and (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_ATTRIBUTION_DAYS
    ):
        raise _invalid(field, f"days between 1 and {MAX_ATTRIBUTION_DAYS}")
    if field in {"agents_see_revenue", "attribution_counts_opens"} and not isinstance(value, bool):
        raise _invalid(field, "true or false")


def update_store_settings(*, store: Store, **fields: Any) -> Store:
    """Change some of the store's settings (`SETTING_FIELDS`); the others stay as they are.

    Quiet hours may wrap midnight (21:00 → 08:00) but not be empty (start == end). The default
    language is kept among the store's languages. Raises InvalidInput naming the field."""
    unknown = sorted(set(fields) - SETTING_FIELDS)
    if unknown:
        raise InvalidInput(
            f"not a store setting: {', '.join(unknown)}", code=SettingsErrorCode.UNKNOWN_FIELD
        )
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        merged = {name: getattr(locked, name) for name in SETTING_FIELDS} | fields
        # Dropping the default language moves the default to the first one left.
        if (
            "languages" in fields
            and "default_locale" not in fields
            and merged["languages"]
            and merged["default_locale"] not in merged["languages"]
        ):
            merged["default_locale"] = fields["default_locale"] = merged["languages"][0]
        for name, value in fields.items():
            _check(name, value, merged)
        if merged["quiet_hours_start"] == merged["quiet_hours_end"]:
            raise _invalid("quiet_hours_end", "quiet hours need different start and end times")
        for name, value in fields.items():
            setattr(locked, name, value)
        if fields:
            locked.save(update_fields=sorted(fields))
    for name, value in fields.items():  # the caller's instance shows the new state too
        setattr(store, name, value)
    return locked


# Staff and roles -------------------------------------------------------------------------


def get_membership(*, store: Store, membership_id: int) -> StaffMembership:
    found = (
        StaffMembership.objects.select_related("user").filter(store=store, pk=membership_id).first()
    )
    if found is None:
        raise NotFound("no such staff member in this store", code=SettingsErrorCode.UNKNOWN_MEMBER)
    return found


def _would_leave_no_owner(*, store: Store, membership: StaffMembership) -> bool:
    """The caller holds a transaction; all owner rows of the store are locked so two owners
    demoting each other at once cannot both succeed."""
    owners = list(
        StaffMembership.objects.select_for_update()
        .filter(store=store, role=StaffRole.OWNER)
        .values_list("pk", flat=True)
    )
    return owners == [membership.pk]


def _last_owner() -> Conflict:
    return Conflict(
        "A store needs at least one owner: make someone else owner first.",
        code=SettingsErrorCode.LAST_OWNER,
    )


def change_staff_role(
    *, store: Store, membership_id: int, role: StaffRole | str
) -> StaffMembership:
    """Give a member another role; the last owner cannot be demoted."""
    if role not in StaffRole.values:
        raise _invalid("role", f"choose one of {', '.join(StaffRole.values)}")
    with transaction.atomic():
        membership = get_membership(store=store, membership_id=membership_id)
        if membership.role == role:
            return membership
        if membership.role == StaffRole.OWNER and _would_leave_no_owner(
            store=store, membership=membership
        ):
            raise _last_owner()
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def remove_staff_member(*, store: Store, membership_id: int) -> StaffMembership:
    """Take a member's access to this store (their account and other stores stay)."""
    with transaction.atomic():
        membership = get_membership(store=store, membership_id=membership_id)
        if membership.role == StaffRole.OWNER and _would_leave_no_owner(
            store=store, membership=membership
        ):
            raise _last_owner()
        membership.delete()
    return membership


@dataclass(frozen=True)
class Invitation:
    membership: StaffMembership
    new_user: bool  # the account was created now (no password yet: the email sets one)
    already_member: bool
    email_error: str  # "" when the email went out


LinkBuilder = Callable[[str, str], str]  # (uidb64, token) -> absolute set-password URL


def add_staff_member(
    *,
    store: Store,
    email: str,
    role: StaffRole | str,
    invited_by: str,
    set_password_link: LinkBuilder,
    sign_in_link: str,
) -> Invitation:
    """Give `email` a role in the store and tell them by email.

    A new account gets a one-time link to choose a password (Django's password-reset token:
    it expires after PASSWORD_RESET_TIMEOUT and once used). Adding someone who is already a
    member does not change their role (use `change_staff_role`). The email is sent after the
    membership is committed; if the mail server fails, the member stays added and
    `email_error` says why (the page offers to resend)."""
    if role not in StaffRole.values:
        raise _invalid("role", f"choose one of {', '.join(StaffRole.values)}")
    normalised = email.strip().lower()
    try:
        validate_email(normalised)
    except ValidationError as exc:
        raise _invalid("email", f"{email!r} is not an email address") from exc
    user_model = get_user_model()
    with transaction.atomic():
        existing = (
            user_model.objects.filter(username=normalised).first()
            or user_model.objects.filter(email__iexact=normalised).first()
        )
        if existing is not None:
            current = StaffMembership.objects.filter(store=store, user=existing).first()
            if current is not None:
                return Invitation(current, new_user=False, already_member=True, email_error="")
        membership = store_services.create_staff_member(
            store=store, email=normalised, role=StaffRole(role)
        )
    error = send_invitation(
        membership=membership,
        invited_by=invited_by,
        set_password_link=set_password_link,
        sign_in_link=sign_in_link,
    )
    return Invitation(
        membership, new_user=existing is None, already_member=False, email_error=error
    )


def send_invitation(
    *,
    membership: StaffMembership,
    invited_by: str,
    set_password_link: LinkBuilder,
    sign_in_link: str,
) -> str:
    """Email a member their access: a set-password link while they have no password, else a
    sign-in link. Returns "" when sent, else the reason it was not (for the page).

    Sent inline, in the request, like Django's own password-reset view: staff invitations are
    rare, the person adding them waits for the answer and can resend. (Customer email goes
    through jobs.)"""
    user: AbstractBaseUser = membership.user
    address = str(getattr(user, "email", "") or user.get_username())
    if user.has_usable_password():
        link = sign_in_link
    else:
        link = set_password_link(
            urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
        )
    context = {
        "store_name": membership.store.name,
        "role": StaffRole(membership.role).label,
        "invited_by": invited_by,
        "link": link,
        "needs_password": not user.has_usable_password(),
    }
    language = (
        store_selectors.staff_language(user_id=int(user.pk)) or membership.store.default_locale
    )
    with translation.override(language):
        subject = render_to_string("dashboard/settings/email/invitation_subject.txt", context)
        body = render_to_string("dashboard/settings/email/invitation.txt", context)
    message = EmailMessage(subject=" ".join(subject.split()), body=body, to=[address])
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("invitation to staff member %s not sent: %s", membership.pk, exc)
        return str(exc) or type(exc).__name__
    return ""


def staff_members(*, store: Store) -> QuerySet[StaffMembership]:
    return (
        StaffMembership.objects.filter(store=store)
        .select_related("user")
        .order_by("role", "user__username", "pk")
    )


# API tokens ------------------------------------------------------------------------------


def api_tokens(*, store: Store) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(store=store).order_by("revoked_at", "-created_at", "-pk")


def create_api_token(*, store: Store, name: str) -> store_services.IssuedToken:
    name = name.strip()
    if not name:
        raise _invalid("name", "give the token a name (what will use it)")
    if len(name) > 100:
        raise _invalid("name", "at most 100 characters")
    return store_services.create_api_token(store=store, name=name)


def revoke_api_token(*, store: Store, token_id: int) -> ApiToken:
    """Revoke one of the store's tokens (revoking twice keeps the first time)."""
    token = ApiToken.objects.filter(store=store, pk=token_id).first()
    if token is None:
        raise NotFound("no such API token in this store", code=SettingsErrorCode.UNKNOWN_TOKEN)
    store_services.revoke_api_token(token=token)
    token.refresh_from_db(fields=["revoked_at"])
    return token


# WooCommerce connection ------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionState:
    connection: WooConnection | None
    webhooks: list[WooWebhook]
    delivery_url: str


def connection_state(*, store: Store) -> ConnectionState:
    return ConnectionState(
        connection=WooConnection.objects.filter(store=store).first(),
        webhooks=list(WooWebhook.objects.filter(store=store).order_by("topic", "woo_id")),
        delivery_url=connection.webhook_delivery_url(store=store),
    )


def disconnect_woocommerce(*, store: Store) -> str:
    """Forget the store's keys and webhooks. First, best effort, delete our webhooks in the shop
    (so it stops delivering to us); returns "" or why that failed (the keys are forgotten
    anyway: the owner can delete the webhooks in WooCommerce → Settings → Advanced → Webhooks).

    Mirrored data stays: disconnecting is not erasing. Network I/O (a few DELETEs, with the
    configured timeout): called from the settings page, where the owner waits for it."""
    hooks = list(WooWebhook.objects.filter(store=store).values_list("woo_id", flat=True))
    problem = ""
    if hooks and WooConnection.objects.filter(store=store).exists():
        try:
            with connection.client_for_store(store=store, max_retries=0) as woo:
                woo.discover()
                for woo_id in hooks:
                    try:
                        woo.delete_webhook(woo_id)
                    except WooError as exc:
                        if exc.status != 404:  # 404: someone deleted it in the shop already
                            raise
        except DomainError as exc:
            problem = str(exc)
    with transaction.atomic():
        WooWebhook.objects.filter(store=store).delete()
        WooConnection.objects.filter(store=store).delete()
    return problem


def open_job(*, store: Store, kind: str) -> Job | None:
    """The store's pending or running job of `kind` (e.g. the sync the page started)."""
    return (
        Job.objects.filter(
            store_id=store.pk, kind=kind, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
        )
        .order_by("-pk")
        .first()
    )
