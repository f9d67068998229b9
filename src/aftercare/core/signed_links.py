"""Signed, expiring links to customer pages (`/c/<token>/…`): the token *is* the customer's
credential there, so it is short, URL-safe, bound to one purpose, store, subject and customer,
and it expires.

    signed_links.register_purpose(name="order", url_name="portal:order", ttl=timedelta(days=90))
    url = signed_links.make_link(purpose="order", store_id=s.pk, subject_id=o.pk, customer_id=c.pk)
    claims = signed_links.read_token(purpose="order", token=token)   # InvalidLink / ExpiredLink

How: `store_id.subject_id.customer_id.expires_at` in base 36 (short: links go into mails and
text messages), signed by `django.core.signing.TimestampSigner` (HMAC-SHA256 with SECRET_KEY)
with a salt per purpose: "1f.mk.25.tvxq3k:1uXyZa:<43 characters of signature>". The ids are
readable, not secret; what matters is that nobody can make one. A token of one purpose never
verifies as another (the salt differs), a changed character never verifies, and rotating
SECRET_KEY keeps old links working while the old key is listed in SECRET_KEY_FALLBACKS
(Django's signer tries each fallback).

Expiry is written into the token when it is made (each purpose has a default lifetime; a caller
may choose another), so changing a purpose's default later does not shorten links already in
people's inboxes. `ExpiredLink` still carries the claims of an *authentic* expired token: the
portal uses them to offer a fresh link by mail, and to honour an unsubscribe, which must keep
working however old the mail is.

Tokens are credentials: nothing here logs them or puts them in an error message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.urls import get_script_prefix, reverse

from aftercare.core import clock
from aftercare.core.errors import DomainError

# A real token is ~80 characters; anything much longer is not ours (and is not worth verifying).
MAX_TOKEN_LENGTH = 300
_CLAIMS = re.compile(r"[0-9a-z]{1,13}(?:\.[0-9a-z]{1,13}){3}")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class LinkErrorCode(StrEnum):
    INVALID = "invalid_link"
    EXPIRED = "expired_link"


@dataclass(frozen=True)
class LinkClaims:
    """What an authentic token says: who it is for and until when."""

    purpose: str
    store_id: int
    subject_id: int
    customer_id: int
    expires_at: datetime


class InvalidLink(DomainError):
    """Not a token we issued for this purpose (tampered, truncated, another purpose or store)."""

    code = LinkErrorCode.INVALID
    http_status = 404

    def __init__(self) -> None:
        super().__init__("this link is not valid")


class ExpiredLink(DomainError):
    """An authentic token past its expiry; `claims` says whom it was for."""

    code = LinkErrorCode.EXPIRED
    http_status = 410

    def __init__(self, *, claims: LinkClaims) -> None:
        super().__init__("this link has expired")
        self.claims = claims


@dataclass(frozen=True)
class Purpose:
    name: str
    url_name: str  # a URL pattern taking one `token` argument
    ttl: timedelta  # default lifetime of new links


_purposes: dict[str, Purpose] = {}


def register_purpose(*, name: str, url_name: str, ttl: timedelta) -> Purpose:
    """Declare a kind of link (call from AppConfig.ready()). Registering the same purpose again
    with the same values is a no-op; with other values it is a configuration error."""
    if not name or not name.replace("_", "").isalnum():
        raise ImproperlyConfigured(f"link purpose {name!r}: use letters, digits and _")
    if ttl <= timedelta(0):
        raise ImproperlyConfigured(f"link purpose {name!r}: ttl must be positive")
    purpose = Purpose(name=name, url_name=url_name, ttl=ttl)
    existing = _purposes.get(name)
    if existing is not None and existing != purpose:
        raise ImproperlyConfigured(f"link purpose {name!r} is already registered as {existing}")
    _purposes[name] = purpose
    return purpose


def get_purpose(name: str) -> Purpose:
    try:
        return _purposes[name]
    except KeyError:
        raise ImproperlyConfigured(f"unknown link purpose {name!r}") from None


def is_purpose(name: str) -> bool:
    return name in _purposes


def purposes() -> list[str]:
    return sorted(_purposes)


def _salt(purpose: str) -> str:
    return f"aftercare.signed_links.{purpose}"


def _signer(purpose: str) -> signing.TimestampSigner:
    # Default key SECRET_KEY, fallback keys SECRET_KEY_FALLBACKS, both read at each call.
    return signing.TimestampSigner(salt=_salt(purpose))


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("ids and times are not negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


def make_token(
    *,
    purpose: str,
    store_id: int,
    subject_id: int,
    customer_id: int,
    ttl: timedelta | None = None,
) -> str:
    """A URL-safe token for `purpose`, valid for `ttl` (default: the purpose's own)."""
    lifetime = get_purpose(purpose).ttl if ttl is None else ttl
    if lifetime <= timedelta(0):
        raise ValueError("ttl must be positive")
    # Rounded up to the second: a token is never shorter-lived than asked.
    expires = math.ceil((clock.now() + lifetime).timestamp())
    claims = (int(store_id), int(subject_id), int(customer_id), expires)
    return _signer(purpose).sign(".".join(_base36(value) for value in claims))


def read_token(
    *,
    purpose: str,
    token: str,
    max_age: timedelta | None = None,
    store_id: int | None = None,
) -> LinkClaims:
    """Verify `token` for `purpose` and return its claims.

    Raises `InvalidLink` for anything we did not issue for this purpose (and, when `store_id` is
    given, for this store), and `ExpiredLink` (with the claims) for an authentic token past its
    expiry — or older than `max_age`, a stricter limit a caller may set."""
    get_purpose(purpose)  # an unknown purpose is a programming error, not a bad link
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLink
    signer = _signer(purpose)
    too_old = False
    try:
        raw = signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        too_old = True
        raw = signer.unsign(token)  # authentic (that was checked first), just old
    except (signing.BadSignature, ValueError):  # ValueError: a timestamp that is not base 62
        raise InvalidLink from None
    claims = _claims(purpose=purpose, raw=raw)
    if store_id is not None and claims.store_id != store_id:
        raise InvalidLink
    if too_old or claims.expires_at <= clock.now():
        raise ExpiredLink(claims=claims)
    return claims


def _claims(*, purpose: str, raw: str) -> LinkClaims:
    if not _CLAIMS.fullmatch(raw):  # signed by us, but not a claim list (another use of the salt)
        raise InvalidLink
    store_id, subject_id, customer_id, expires = (int(part, 36) for part in raw.split("."))
    try:
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidLink from None
    return LinkClaims(
        purpose=purpose,
        store_id=store_id,
        subject_id=subject_id,
        customer_id=customer_id,
        expires_at=expires_at,
    )


def build_url(*, purpose: str, token: str) -> str:
    """The absolute URL of `token`'s page (settings.PUBLIC_URL), for mails and the CLI."""
    path = _path_pattern(get_purpose(purpose).url_name, get_script_prefix())
    return f"{settings.PUBLIC_URL}{path.replace(_PLACEHOLDER, quote(token, safe=_SAFE))}"


_PLACEHOLDER = "TOKEN0PLACEHOLDER"
_SAFE = "/~:@!$&'()*+,;="  # what reverse() leaves unquoted in a path argument


@lru_cache(maxsize=64)
def _path_pattern(url_name: str, script_prefix: str) -> str:
    """reverse() costs ~0.3 ms; every mail carries two or three links: resolved once per name."""
    return reverse(url_name, kwargs={"token": _PLACEHOLDER})


def make_link(
    *,
    purpose: str,
    store_id: int,
    subject_id: int,
    customer_id: int,
    ttl: timedelta | None = None,
) -> str:
    """`make_token` + `build_url`: an absolute, signed link to the purpose's page."""
    token = make_token(
        purpose=purpose,
        store_id=store_id,
        subject_id=subject_id,
        customer_id=customer_id,
        ttl=ttl,
    )
    return build_url(purpose=purpose, token=token)
