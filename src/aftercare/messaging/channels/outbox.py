"""The local outbox: the embedded mode's "delivery" when no SMTP server or SMS provider is set.

    with OutboxChannel(reason="EMAIL_URL is not set") as channel:
        channel.send(outgoing)   # Delivery(SENT, "kept in the local outbox, not delivered: …")
    outbox.kept                  # the last items kept by this process, newest last

Like Mailpit, or Django's locmem backend: a new user sees flows work end to end without an
SMTP server. Nothing leaves the machine; the message row itself (rendered subject and bodies)
is what the dashboard's outbox shows, and the attempt's answer says plainly that it was not
delivered. Mails are still composed exactly as SMTP would send them, so a mail that SMTP would
refuse (a header with a line break, an invalid address) is refused here too — switching
EMAIL_URL on later brings no surprise.
"""

from __future__ import annotations

import logging
from collections import deque
from types import TracebackType
from typing import Self

from aftercare.messaging.channels import mime
from aftercare.messaging.channels.base import Delivery, Outcome, Outgoing

logger = logging.getLogger(__name__)

# A bounded memory of what this process kept (tests and the shell look here; the dashboard
# reads the message rows). Appends are thread-safe.
kept: deque[Outgoing] = deque(maxlen=1000)


class OutboxChannel:
    def __init__(self, *, reason: str, default_sender: str = "aftercare@localhost") -> None:
        self._answer = f"kept in the local outbox, not delivered: {reason}"
        self._default_sender = default_sender

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def send(self, item: Outgoing) -> Delivery:
        if item.channel == "email":
            reply_to = item.reply_to
            try:
                mime.compose(
                    item,
                    sender=mime.mailbox(item.sender or self._default_sender, role="sender"),
                    recipient=mime.mailbox(item.recipient),
                    reply_to=mime.mailbox(reply_to, role="reply-to") if reply_to else None,
                    date=mime.date_header(),
                    eight_bit=True,
                )
            except mime.Refused as refusal:
                return Delivery(Outcome.PERMANENT, f"not sent: {refusal}", "", refusal.bad_address)
        kept.append(item)
        logger.debug("outbox: kept %s message %s (not delivered)", item.channel, item.message_id)
        return Delivery(Outcome.SENT, self._answer, f"outbox-{item.message_id}")
