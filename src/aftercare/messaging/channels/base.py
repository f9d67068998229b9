"""What every channel backend implements, like Django's mail backends: chosen by settings,
opened once per batch (one SMTP connection for many mails), asked to deliver one outgoing item
at a time, and answering with a `Delivery` that says how the provider took it.

    with channels.open_channel(kind="email") as channel:
        delivery = channel.send(outgoing)
        if delivery.outcome is Outcome.TEMPORARY: …   # retry later (SMTP 4xx, HTTP 429/5xx)

A backend never raises for a provider's refusal: it classifies it. It raises only for a bug.
Nothing outside `messaging/channels/` opens a connection to a mail server, SMS provider or
webhook receiver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self


class Outcome(StrEnum):
    SENT = "sent"  # accepted by the provider
    TEMPORARY = "temporary"  # try again later (4xx SMTP, 421/454, HTTP 429/5xx, timeouts)
    PERMANENT = "permanent"  # refused for good (5xx SMTP on the recipient, HTTP 4xx but 429)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One item to deliver, as frozen in the outbox (messaging.models.Message)."""

    message_id: int
    channel: str  # "email" | "sms" | "webhook"
    recipient: str  # email address / E.164 phone / https URL
    sender: str = ""  # From header (email), sender number or messaging service (SMS)
    reply_to: str = ""
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # For webhooks: the JSON body is `body_text`; the signing secret travels here, never logged
    # (nor shown by repr(), which log lines and tracebacks print).
    secret: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    outcome: Outcome
    answer: str  # the provider's reply, for the attempt row ("250 2.0.0 Ok", "HTTP 201 …")
    provider_id: str = ""  # Message-ID, Twilio SID, …
    # A permanent refusal that says the *address* is bad (SMTP 550 user unknown): suppress it.
    bad_address: bool = False


class Channel(Protocol):
    """An open connection to one provider. Used as a context manager."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, item: Outgoing) -> Delivery: ...
