"""The channels' settings, parsed from plain values that settings.py reads from the environment.

    EMAIL_URL=smtps://user:secret@mail.example.com:465          # → SmtpConfig (implicit TLS)
    EMAIL_URL=smtp://user:secret@mail.example.com:587?starttls=1  # → SmtpConfig (STARTTLS)
    config.email_config()      # from settings.EMAIL_URL; None = the local outbox (embedded mode)
    config.twilio_config()     # from settings.TWILIO_*; None = SMS go to the local outbox too

Why one URL for mail: it is the one thing a self-hoster copies from their provider, and one
value cannot half-configure a server (a host without its port, TLS without a host). settings.py
parses it once at startup, so a typo stops the process with the variable's name instead of
failing the first send hours later; the channels parse the (possibly overridden) setting again
when they open, which costs microseconds once per batch.

Accepted mail URLs: `smtp://` (plain; port 25, or 587 with `?starttls=1`), `smtps://` (implicit
TLS, port 465); aliases `smtp+tls://` (STARTTLS) and `smtp+ssl://` (implicit TLS). Query options:
`starttls=1`, `timeout=<seconds>` (default 30), `helo=<name>` (the EHLO name; default: this
machine's FQDN). User name and password are percent-decoded (`%40` for `@`). A password is never
sent without TLS except to a loopback server: that URL is refused at startup.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from aftercare.env import EnvError

Security = Literal["none", "starttls", "tls"]

_SCHEMES: dict[str, Security] = {
    "smtp": "none",
    "smtp+tls": "starttls",
    "smtps": "tls",
    "smtp+ssl": "tls",
}
_MAIL_OPTIONS = frozenset({"starttls", "timeout", "helo"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_TWILIO_SID = re.compile(r"[A-Za-z0-9]{2,64}")
DEFAULT_TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: Security = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    helo: str = ""  # empty: this machine's fully qualified name


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str = ""  # E.164 sender, or …
    messaging_service_sid: str = ""  # … a Messaging Service (MG…) that picks the sender
    api_base: str = DEFAULT_TWILIO_API
    timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    # Loopback, private, link-local… targets are refused unless this is on (SSRF guard).
    allow_private: bool = False
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class DjangoMail:
    """Django's own EMAIL_* settings (password resets, fresh customer links), derived from the
    same EMAIL_URL so every mail of the platform leaves through the same server."""

    backend: str
    host: str = "localhost"
    port: int = 25
    username: str = ""
    password: str = field(default="", repr=False)
    use_tls: bool = False  # STARTTLS
    use_ssl: bool = False  # implicit TLS
    timeout: float | None = None


def parse_email_url(url: str) -> SmtpConfig | None:
    """The SMTP server named by `url`; None when it is empty (the local outbox)."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    security = _SCHEMES.get(parts.scheme.lower())
    if security is None:
        raise EnvError(f"EMAIL_URL must start with smtp:// or smtps://, got {parts.scheme!r}")
    if not parts.hostname:
        raise EnvError("EMAIL_URL has no host name")
    options = _mail_options(parts.query)
    if _flag(options.get("starttls", ""), name="starttls"):
        if security == "tls":
            raise EnvError("EMAIL_URL: smtps:// is already TLS; drop ?starttls=1")
        security = "starttls"
    try:
        port = parts.port
    except ValueError as exc:
        raise EnvError(f"EMAIL_URL has an invalid port: {exc}") from None
    if port is None:
        port = {"none": 25, "starttls": 587, "tls": 465}[security]
    timeout = _seconds(options.get("timeout", "30"), name="EMAIL_URL timeout")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if (username or password) and security == "none" and not _is_loopback(parts.hostname):
        raise EnvError(
            "EMAIL_URL would send a password without TLS: use smtps:// or add ?starttls=1"
        )
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        security=security,
        username=username,
        password=password,
        timeout=timeout,
        helo=options.get("helo", ""),
    )


def django_mail(smtp: SmtpConfig | None) -> DjangoMail:
    """Django's mail settings for `smtp`; without a server, mails are written to the log."""
    if smtp is None:
        return DjangoMail(backend="django.core.mail.backends.console.EmailBackend")
    return DjangoMail(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        use_tls=smtp.security == "starttls",
        use_ssl=smtp.security == "tls",
        timeout=smtp.timeout,
    )


def twilio_from_values(
    *,
    account_sid: str,
    auth_token: str,
    from_number: str,
    messaging_service_sid: str,
    api_base: str,
    timeout: float = 15.0,
) -> TwilioConfig | None:
    """Twilio's settings; None when none is set. A partial set is an error, not the outbox:
    someone meant to send real SMS."""
    if not (account_sid or auth_token or from_number or messaging_service_sid):
        return None
    missing = [
        name
        for name, value in (("TWILIO_ACCOUNT_SID", account_sid), ("TWILIO_AUTH_TOKEN", auth_token))
        if not value
    ]
    if not (from_number or messaging_service_sid):
        missing.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        raise EnvError(f"Twilio is partly configured: set {', '.join(missing)}")
    if not _TWILIO_SID.fullmatch(account_sid):
        raise EnvError("TWILIO_ACCOUNT_SID must be letters and digits (AC…)")
    base = (api_base or DEFAULT_TWILIO_API).rstrip("/")
    if urlsplit(base).scheme not in {"http", "https"} or not urlsplit(base).hostname:
        raise EnvError(f"TWILIO_API_BASE must be an http(s) URL, got {api_base!r}")
    return TwilioConfig(
        account_sid=account_sid,
        auth_token=auth_token,
        from_number=from_number,
        messaging_service_sid=messaging_service_sid,
        api_base=base,
        timeout=timeout,
    )


def email_config() -> SmtpConfig | None:
    """The SMTP server of `settings.EMAIL_URL` (tests override the setting, not the env)."""
    from django.conf import settings

    return parse_email_url(getattr(settings, "EMAIL_URL", ""))


def twilio_config() -> TwilioConfig | None:
    from django.conf import settings

    return twilio_from_values(
        account_sid=getattr(settings, "TWILIO_ACCOUNT_SID", ""),
        auth_token=getattr(settings, "TWILIO_AUTH_TOKEN", ""),
        from_number=getattr(settings, "TWILIO_FROM", ""),
        messaging_service_sid=getattr(settings, "TWILIO_MESSAGING_SERVICE_SID", ""),
        api_base=getattr(settings, "TWILIO_API_BASE", ""),
        timeout=float(getattr(settings, "TWILIO_TIMEOUT", 15.0)),
    )


def webhook_config() -> WebhookConfig:
    from django.conf import settings

    return WebhookConfig(
        allow_private=bool(getattr(settings, "OUTGOING_WEBHOOKS_ALLOW_PRIVATE", False)),
        timeout=float(getattr(settings, "OUTGOING_WEBHOOKS_TIMEOUT", 10.0)),
    )


def _mail_options(query: str) -> dict[str, str]:
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - _MAIL_OPTIONS)
    if unknown:
        raise EnvError(
            f"EMAIL_URL has unknown option(s) {', '.join(unknown)};"
            f" known: {', '.join(sorted(_MAIL_OPTIONS))}"
        )
    return options


def _flag(raw: str, *, name: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"EMAIL_URL option {name} must be 1 or 0, got {raw!r}")


def _seconds(raw: str, *, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise EnvError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise EnvError(f"{name} must be positive, got {raw!r}")
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
