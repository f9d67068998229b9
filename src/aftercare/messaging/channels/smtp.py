"""Email over SMTP: one connection per `with` block, reused for every mail of the batch.

    with SmtpChannel(config.parse_email_url("smtp://127.0.0.1:2525"),
                     default_sender="Shop <shop@example.com>") as channel:
        delivery = channel.send(outgoing)     # Delivery(SENT, "250 2.0.0 Ok: queued as …", "<id>")

One transaction per mail (MAIL FROM = the From address, one RCPT, DATA), so the answer is
per recipient:

- 2xx after DATA → SENT; the answer is the server's reply, provider_id our Message-ID;
- 4xx (421, 450, 451, 452, 454 …), timeouts, dropped connections → TEMPORARY;
- 5xx → PERMANENT, with `bad_address` when the refusal is about the recipient: RCPT refused
  with an enhanced code 5.1.x (bad mailbox, bad domain…), or — when the server gives no
  enhanced code — 550, 551 or 553. A 550 5.7.1 (policy, spam) is *not* a bad address: marking
  a real customer's address because our IP was blocklisted would silence them for good.
- Trouble that is the platform's, not the message's (cannot connect, TLS or login failed,
  530 authentication required) → TEMPORARY, so fixing EMAIL_URL lets the queue drain.

Connections: a server that dropped an idle connection (a disconnect, or a 421 on the next
command) is reconnected once and the same mail goes again; after a timeout the connection is
abandoned (its state is unknown) and the next mail opens a new one. When connecting fails, the
following mails of the batch answer TEMPORARY at once for `RECONNECT_AFTER` seconds rather
than each waiting for its own connect timeout.

A connection lost after the mail's data went out but before the server's reply may mean the
mail arrived: going again can duplicate that one mail (the issue allows the one in flight), and
its Message-ID is stable across tries so mail clients fold the copy.

Speed (bench/smtp_ceiling.py): the commands are written directly — the addresses were checked
by mime.mailbox(), so smtplib's parseaddr-based quoting is skipped, and dot-stuffing is one
bytes.replace instead of smtplib's regex — so composing a distinct mail and sending it costs
about as much client CPU as smtplib.sendmail of a pre-built one.

TLS: `smtps://` (implicit) or STARTTLS (`?starttls=1`), certificates verified against the
system store (`SSL_CERT_FILE` points elsewhere, as for Django's own mails); STARTTLS that the
server does not offer is an error, never a silent fall-back to plain text.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from types import TracebackType
from typing import Self

from django.core.mail.utils import DNS_NAME

from aftercare.messaging.channels import mime
from aftercare.messaging.channels.base import Delivery, Outcome, Outgoing
from aftercare.messaging.channels.config import SmtpConfig

logger = logging.getLogger(__name__)

RECONNECT_AFTER = 5.0  # seconds between connection attempts once one failed
_MAX_ANSWER = 1000


class SmtpChannel:
    def __init__(
        self,
        config: SmtpConfig,
        *,
        default_sender: str,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self._default_sender = default_sender
        self._ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None
        self._eight_bit = True  # until the server says otherwise
        self._smtputf8 = False
        self._down: tuple[float, str] | None = None  # (when, why) the last connect failed
        self._senders: dict[str, mime.Mailbox] = {}

    def __enter__(self) -> Self:
        self._connect()  # a failure is remembered and answered per mail, never raised
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close(polite=True)

    def send(self, item: Outgoing) -> Delivery:
        try:
            sender = self._sender(item.sender or self._default_sender)
            recipient = mime.mailbox(item.recipient)
            reply_to = mime.mailbox(item.reply_to, role="reply-to") if item.reply_to else None
            date = mime.date_header()
            mail = mime.compose(
                item,
                sender=sender,
                recipient=recipient,
                date=date,
                eight_bit=self._eight_bit,
                reply_to=reply_to,
            )
        except mime.Refused as refusal:
            return Delivery(Outcome.PERMANENT, f"not sent: {refusal}", "", refusal.bad_address)
        for attempt in (1, 2):
            fresh = self._conn is None
            if fresh and not self._connect():
                assert self._down is not None
                return Delivery(Outcome.TEMPORARY, f"not sent: {self._down[1]}")
            if (sender.smtputf8 or recipient.smtputf8) and not self._smtputf8:
                return Delivery(
                    Outcome.PERMANENT,
                    "not sent: the address has non-ASCII characters before the @ and the"
                    " server does not support SMTPUTF8",
                )
            if mail.eight_bit and not self._eight_bit:  # this server has no 8BITMIME
                mail = mime.compose(
                    item,
                    sender=sender,
                    recipient=recipient,
                    date=date,
                    eight_bit=False,
                    reply_to=reply_to,
                )
            delivery, again = self._transaction(
                sender=sender, recipient=recipient, mail=mail, reused=not fresh
            )
            if not (again and attempt == 1):
                break
            logger.info("SMTP: the server dropped an idle connection; reconnecting")
        if delivery.outcome is Outcome.SENT:
            return Delivery(Outcome.SENT, delivery.answer, mail.message_id)
        return delivery

    # -- one mail --------------------------------------------------------------------------------

    def _transaction(
        self, *, sender: mime.Mailbox, recipient: mime.Mailbox, mail: mime.Composed, reused: bool
    ) -> tuple[Delivery, bool]:
        """(the outcome, whether to reconnect and send again: the server had dropped the idle
        connection we reused — a disconnect, or a 421 to MAIL FROM)."""
        conn = self._conn
        assert conn is not None
        progress = ["MAIL FROM"]
        try:
            code, reply = _exchange(
                conn, sender=sender, recipient=recipient, mail=mail, progress=progress
            )
        except smtplib.SMTPServerDisconnected as exc:
            self._close(polite=False)
            timed_out = isinstance(exc.__context__, TimeoutError)
            what = "timed out" if timed_out else "connection lost"
            return Delivery(Outcome.TEMPORARY, f"{progress[-1]}: {what} ({exc})"), (
                reused and not timed_out
            )
        except (OSError, smtplib.SMTPException) as exc:
            self._close(polite=False)
            return Delivery(
                Outcome.TEMPORARY, f"{progress[-1]}: {type(exc).__name__}: {exc}"
            ), False
        if 200 <= code < 300:
            return Delivery(Outcome.SENT, _answer(code, reply)), False
        step = progress[-1]
        return self._refused(step, code, reply), code == 421 and reused and step == "MAIL FROM"

    def _refused(self, step: str, code: int, reply: bytes | str) -> Delivery:
        """Classify a refusal, and leave the connection ready for the next mail."""
        if code == 421:  # the server is closing this connection
            self._close(polite=False)
        elif self._conn is not None:
            try:
                self._conn.rset()
            except (OSError, smtplib.SMTPException):
                self._close(polite=False)
        return classify(step=step, code=code, reply=reply)

    # -- connection ------------------------------------------------------------------------------

    def _connect(self) -> bool:
        if self._down is not None and time.monotonic() - self._down[0] < RECONNECT_AFTER:
            return False
        config = self._config
        helo = config.helo or str(DNS_NAME)
        conn: smtplib.SMTP
        try:
            # Host and port go to the constructor, which connects: smtplib takes the TLS server
            # name (SNI, certificate check) from there, not from connect().
            if config.security == "tls":
                conn = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=helo,
                    timeout=config.timeout,
                    context=self._tls(),
                )
            else:
                conn = smtplib.SMTP(
                    config.host, config.port, local_hostname=helo, timeout=config.timeout
                )
            self._conn = conn  # closed by _failed() if anything below fails
            conn.ehlo()
            if config.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
                code, reply = conn.starttls(context=self._tls())
                if code != 220:  # smtplib returns the refusal: never go on in plain text
                    raise smtplib.SMTPResponseException(code, reply)
                conn.ehlo()
            if config.username:
                conn.login(config.username, config.password)
        except smtplib.SMTPAuthenticationError as exc:
            why = f"login refused: {_answer(exc.smtp_code, exc.smtp_error)}"
        except smtplib.SMTPResponseException as exc:
            why = f"{config.host}:{config.port} refused: {_answer(exc.smtp_code, exc.smtp_error)}"
        except ssl.SSLError as exc:
            why = f"TLS with {config.host}:{config.port} failed: {exc}"
        except OSError as exc:
            why = f"cannot connect to {config.host}:{config.port}: {type(exc).__name__}: {exc}"
        except smtplib.SMTPException as exc:  # STARTTLS or AUTH not offered, no greeting…
            why = f"{config.host}:{config.port}: {type(exc).__name__}: {exc}"
        else:
            why = ""
        if why:
            return self._failed(why)
        self._down = None
        self._eight_bit = conn.has_extn("8bitmime")
        self._smtputf8 = conn.has_extn("smtputf8")
        return True

    def _failed(self, why: str) -> bool:
        self._close(polite=False)
        self._down = (time.monotonic(), why)
        logger.warning("SMTP: %s", why)
        return False

    def _close(self, *, polite: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if polite and conn.sock is not None:
                conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            conn.close()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _sender(self, value: str) -> mime.Mailbox:
        box = self._senders.get(value)
        if box is None:
            box = self._senders[value] = mime.mailbox(value, role="sender")
        return box


def classify(*, step: str, code: int, reply: bytes | str) -> Delivery:
    """An SMTP reply that is not a success, as an outcome (see the module docstring)."""
    answer = f"{step}: {_answer(code, reply)}"
    if code == 530 and step == "MAIL FROM":  # authentication required: our configuration
        return Delivery(Outcome.TEMPORARY, answer)
    if 500 <= code < 600:
        return Delivery(
            Outcome.PERMANENT,
            answer,
            bad_address=step == "RCPT TO" and _about_recipient(code, _text(reply)),
        )
    return Delivery(Outcome.TEMPORARY, answer)


def _about_recipient(code: int, text: str) -> bool:
    enhanced = text.split(None, 1)[0] if text else ""
    if enhanced.count(".") == 2 and enhanced.replace(".", "").isdigit():
        return enhanced.startswith("5.1.")
    return code in (550, 551, 553)


def _exchange(
    conn: smtplib.SMTP,
    *,
    sender: mime.Mailbox,
    recipient: mime.Mailbox,
    mail: mime.Composed,
    progress: list[str],
) -> tuple[int, bytes | str]:
    """MAIL FROM, RCPT TO, DATA: the first refusal, or DATA's final reply. The addresses were
    checked by mime.mailbox(); smtplib's own quoting (email.utils.parseaddr) is skipped."""
    utf8 = sender.smtputf8 or recipient.smtputf8
    options = (" BODY=8BITMIME" if mail.eight_bit else "") + (" SMTPUTF8" if utf8 else "")
    conn.command_encoding = "utf-8" if utf8 else "ascii"
    conn.putcmd("mail", f"FROM:<{sender.address}>{options}")
    code, reply = conn.getreply()
    if code != 250:
        return code, reply
    progress.append("RCPT TO")
    conn.putcmd("rcpt", f"TO:<{recipient.address}>")
    code, reply = conn.getreply()
    if code not in (250, 251):
        return code, reply
    progress.append("DATA")
    conn.putcmd("data")
    code, reply = conn.getreply()
    if code != 354:
        return code, reply
    # smtplib's data() dot-stuffs with a multi-line regex (~40 µs for 9 KB); our bytes only have
    # CRLF line ends, so one replace does the same (RFC 5321 4.5.2).
    stuffed = mail.raw.replace(b"\r\n.", b"\r\n..")
    if stuffed[:1] == b".":
        stuffed = b"." + stuffed
    conn.send(stuffed + b".\r\n")
    return conn.getreply()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _answer(code: int, reply: bytes | str) -> str:
    return f"{code} {_text(reply)}".replace("\n", " / ")[:_MAX_ANSWER]
