"""The channel for a kind of message, chosen by settings (like Django's EMAIL_BACKEND).

    from aftercare.messaging import channels
    with channels.open_channel("email") as channel:     # one SMTP connection for the batch
        for item in batch:
            delivery = channel.send(item)

- "email": SMTP to `EMAIL_URL` (smtp.py); unset → the local outbox (outbox.py);
- "sms": Twilio (sms_twilio.py) when `TWILIO_*` are set; unset → the local outbox;
- "webhook": signed HTTP POSTs (webhook.py), always real.

Settings are read when a channel opens, so a test's `settings.EMAIL_URL = …` applies at once.
The backends are imported here only when first used: settings.py imports `channels.config` at
startup, which must not pull in smtplib or httpx.
"""

from __future__ import annotations

from django.conf import settings

from aftercare.messaging.channels import config
from aftercare.messaging.channels.base import Channel

KINDS = ("email", "sms", "webhook")


def open_channel(kind: str) -> Channel:
    """A channel for `kind`, not yet opened: use it as a context manager."""
    if kind == "email":
        smtp = config.email_config()
        if smtp is None:
            return _outbox("EMAIL_URL is not set, so mail stays on this machine")
        from aftercare.messaging.channels.smtp import SmtpChannel

        return SmtpChannel(smtp, default_sender=settings.DEFAULT_FROM_EMAIL)
    if kind == "sms":
        twilio = config.twilio_config()
        if twilio is None:
            return _outbox("Twilio is not configured (TWILIO_ACCOUNT_SID …)")
        from aftercare.messaging.channels.sms_twilio import TwilioChannel

        return TwilioChannel(twilio)
    if kind == "webhook":
        from aftercare.messaging.channels.webhook import WebhookChannel

        return WebhookChannel(config.webhook_config())
    raise ValueError(f"unknown channel kind {kind!r}; known: {', '.join(KINDS)}")


def _outbox(reason: str) -> Channel:
    from aftercare.messaging.channels.outbox import OutboxChannel

    return OutboxChannel(reason=reason, default_sender=settings.DEFAULT_FROM_EMAIL)
