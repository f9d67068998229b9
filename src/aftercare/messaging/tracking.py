"""Opens and clicks: signed tracking URLs, and what a hit records.

    wrapper = tracking.LinkWrapper(token=message.tracking_token, skip=(unsubscribe_url,))
    html = render(..., link_wrapper=wrapper)      # links become /m/c/<token>/<n>/<sig>
    message.links = wrapper.targets               # the real targets, stored with the message

A click URL names the message (by its random token) and the *position* of the link, never the
target: the redirect goes only to the URL stored with the message, so the endpoint cannot be
used as an open redirect, and a tampered URL (wrong signature, unknown token, position out of
range) is simply not found. Hits are events (`message.opened`, `message.clicked`) with the
customer, so flows can trigger on them and the timeline shows them. A click within a couple of
seconds of delivery, or from a known link scanner, is recorded but flagged `bot: true`, and a
flagged hit neither counts as the first open/click nor earns attribution. Opens are recorded
the same way (Apple Mail Privacy Protection prefetches every image: opens are shown, never
trusted for credit unless the store opts in).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from aftercare.core import clock
from aftercare.events import bus
from aftercare.events.bus import EventDraft
from aftercare.messaging.models import Message

BOT_WINDOW = timedelta(seconds=2)
SCANNER_AGENTS = (
    "barracuda", "mimecast", "proofpoint", "symantec", "safelinks", "microsoft office",
    "bingpreview", "googleimageproxy", "yahoomailproxy", "headlesschrome", "python-requests",
    "curl/", "wget/", "go-http-client", "okhttp", "slackbot", "facebookexternalhit",
)  # fmt: skip


def new_token() -> str:
    return secrets.token_urlsafe(12)


def _signature(*parts: str) -> str:
    key = f"aftercare.messaging.tracking:{settings.SECRET_KEY}".encode()
    digest = hmac.new(key, ":".join(parts).encode(), hashlib.sha256).hexdigest()
    return digest[:16]


def _valid(signature: str, *parts: str) -> bool:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for secret in keys:
        key = f"aftercare.messaging.tracking:{secret}".encode()
        expected = hmac.new(key, ":".join(parts).encode(), hashlib.sha256).hexdigest()[:16]
        if hmac.compare_digest(expected, signature):
            return True
    return False


def click_url(*, token: str, index: int) -> str:
    return f"{settings.PUBLIC_URL}/m/c/{token}/{index}/{_signature('c', token, str(index))}"


def open_pixel_url(*, token: str) -> str:
    return f"{settings.PUBLIC_URL}/m/o/{token}/{_signature('o', token)}.gif"


@dataclass
class LinkWrapper:
    """Called by the renderer for every link: returns the tracked URL, remembers the target."""

    token: str
    skip: tuple[str, ...] = ()
    targets: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> str:
        if url in self.skip or not url.startswith(("https://", "http://")):
            return url
        if url in self.targets:
            index = self.targets.index(url)
        else:
            self.targets.append(url)
            index = len(self.targets) - 1
        return click_url(token=self.token, index=index)


BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def untracked_html(message: Message) -> str:
    """The message's HTML with its tracking taken out, for staff reading it in the dashboard:
    reading must not record an open (the pixel) or a click (and with it a flow's attribution).
    Tracked links point at their real targets again; the pixel becomes a blank inline image."""
    html = message.body_html
    token = message.tracking_token
    if not token:
        return html
    html = html.replace(open_pixel_url(token=token), BLANK_GIF)
    for index, target in enumerate(message.links or []):
        html = html.replace(click_url(token=token, index=index), str(target))
    return html


def is_bot(*, user_agent: str, sent_at: datetime | None, now: datetime) -> bool:
    agent = user_agent.lower()
    if not agent or any(marker in agent for marker in SCANNER_AGENTS):
        return True
    return sent_at is not None and now - sent_at < BOT_WINDOW


def resolve_click(*, token: str, index: int, signature: str) -> Message | None:
    if not _valid(signature, "c", token, str(index)):
        return None
    message = Message.objects.filter(tracking_token=token).first()
    if message is None or not 0 <= index < len(message.links or []):
        return None
    return message


def resolve_open(*, token: str, signature: str) -> Message | None:
    if not _valid(signature, "o", token):
        return None
    return Message.objects.filter(tracking_token=token).first()


@transaction.atomic
def record_click(*, message: Message, index: int, user_agent: str) -> str:
    """Record the click and return the target to redirect to."""
    now = clock.now()
    target = str(message.links[index])
    bot = is_bot(user_agent=user_agent, sent_at=message.sent_at, now=now)
    if not bot and message.first_clicked_at is None:
        Message.objects.filter(pk=message.pk, first_clicked_at__isnull=True).update(
            first_clicked_at=now
        )
    _publish(message=message, type_="message.clicked", now=now, extra={"url": target, "bot": bot})
    return target


@transaction.atomic
def record_open(*, message: Message, user_agent: str) -> None:
    now = clock.now()
    bot = is_bot(user_agent=user_agent, sent_at=message.sent_at, now=now)
    if not bot and message.first_opened_at is None:
        Message.objects.filter(pk=message.pk, first_opened_at__isnull=True).update(
            first_opened_at=now
        )
    _publish(message=message, type_="message.opened", now=now, extra={"bot": bot})


def _publish(*, message: Message, type_: str, now: datetime, extra: dict[str, object]) -> None:
    bus.publish_many(
        [
            EventDraft(
                store_id=message.store_id,
                type=type_,
                subject_type="message",
                subject_id=message.pk,
                customer_id=message.customer_id,
                occurred_at=now,
                payload={"flow_id": message.flow_id, "template": message.template_key, **extra},
            )
        ]
    )
