"""The SMTP channel against real aiosmtpd servers (tests/messaging/smtp_faults.py): connection
reuse and reconnects, per-recipient classification, TLS and login, and the mails' bytes parsed
back with the stdlib's strict parser."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from aftercare.env import EnvError
from aftercare.messaging.channels import mime, open_channel
from aftercare.messaging.channels.base import Outcome, Outgoing
from aftercare.messaging.channels.config import SmtpConfig, parse_email_url
from aftercare.messaging.channels.smtp import SmtpChannel
from tests.messaging.smtp_faults import FaultySmtpServer

SENDER = "Acme Outfitters <shop@acme.test>"
REPO = Path(__file__).resolve().parents[2]


def mail(number: int = 1, **changes: Any) -> Outgoing:
    base = Outgoing(
        message_id=number,
        channel="email",
        recipient=f"customer{number}@example.com",
        sender=SENDER,
        subject=f"Thank you for order #{number}",
        body_text=f"Hi there,\n\nthank you for order #{number}.\n",
        body_html=f"<p>Hi there,</p>\n<p>thank you for order <b>#{number}</b>.</p>\n",
    )
    return replace(base, **changes)


def channel_for(server: FaultySmtpServer, query: str = "") -> SmtpChannel:
    url = server.url + (("&" if "?" in server.url else "?") + query if query else "")
    config = parse_email_url(url)
    assert config is not None
    return SmtpChannel(config, default_sender=SENDER, ssl_context=server.client_context)


def text_of(message: email.message.EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


# -- connections ---------------------------------------------------------------------------------


def test_one_connection_carries_every_mail_of_the_batch() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        deliveries = [channel.send(mail(n)) for n in range(1, 31)]

    assert {d.outcome for d in deliveries} == {Outcome.SENT}
    assert server.connections() == 1
    assert deliveries[0].answer == "250 2.0.0 Ok: queued as Q1"
    first = server.received[0]
    assert first.mail_from == "shop@acme.test"  # envelope sender = the From address
    assert first.rcpt_tos == ["customer1@example.com"]
    assert deliveries[0].provider_id == first.message["Message-ID"]
    assert len({d.provider_id for d in deliveries}) == 30


@pytest.mark.parametrize("idle_reply", [None, "421 4.4.2 Error: timeout exceeded"])
def test_a_connection_the_server_dropped_is_reopened_once_and_the_mail_goes(
    idle_reply: str | None,
) -> None:
    with (
        FaultySmtpServer(idle_limit=3, idle_reply=idle_reply) as server,
        channel_for(server) as channel,
    ):
        deliveries = [channel.send(mail(n)) for n in range(1, 8)]

    assert [d.outcome for d in deliveries] == [Outcome.SENT] * 7
    assert server.connections() == 3  # 3 + 3 + 1 mails
    assert sorted(m.rcpt_tos[0] for m in server.received) == sorted(
        f"customer{n}@example.com" for n in range(1, 8)
    )


def test_a_connection_lost_in_the_middle_of_a_mail_is_retried_once_then_temporary() -> None:
    with (
        FaultySmtpServer(drop_at_rcpt={"crash@example.com"}) as server,
        channel_for(server) as channel,
    ):
        first = channel.send(mail(1))
        crashed = channel.send(mail(2, recipient="crash@example.com"))
        after = channel.send(mail(3))

    assert first.outcome is Outcome.SENT
    assert crashed.outcome is Outcome.TEMPORARY
    assert "RCPT TO: connection lost" in crashed.answer
    assert after.outcome is Outcome.SENT
    assert server.connections() == 2  # mail 1 on the first, mail 3 on the third connection


def test_a_server_that_does_not_answer_in_time_is_temporary_and_the_next_mail_goes() -> None:
    with (
        FaultySmtpServer(stall_data={"slow@example.com": 3.0}) as server,
        channel_for(server, "timeout=0.5") as channel,
    ):
        slow = channel.send(mail(1, recipient="slow@example.com"))
        after = channel.send(mail(2))

    assert slow.outcome is Outcome.TEMPORARY
    assert "DATA: timed out" in slow.answer
    assert after.outcome is Outcome.SENT


def test_an_unreachable_server_is_temporary_for_every_mail_without_waiting_each_time() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = SmtpConfig(host="127.0.0.1", port=port, timeout=2)
    with SmtpChannel(config, default_sender=SENDER) as channel:
        deliveries = [channel.send(mail(n)) for n in range(1, 4)]

    assert [d.outcome for d in deliveries] == [Outcome.TEMPORARY] * 3
    assert all(f"cannot connect to 127.0.0.1:{port}" in d.answer for d in deliveries)


# -- classification ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "reply", "outcome", "bad_address"),
    [
        ("rcpt", "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown",
         Outcome.PERMANENT, True),
        ("rcpt", "550 Requested action not taken: mailbox unavailable", Outcome.PERMANENT, True),
        ("rcpt", "551 User not local", Outcome.PERMANENT, True),
        ("rcpt", "553 5.1.3 Bad recipient address syntax", Outcome.PERMANENT, True),
        ("rcpt", "550 5.7.1 Service unavailable; client host blocked", Outcome.PERMANENT, False),
        ("rcpt", "552 5.2.2 Mailbox full", Outcome.PERMANENT, False),
        ("rcpt", "450 4.2.0 Greylisted, try again in 5 minutes", Outcome.TEMPORARY, False),
        ("rcpt", "452 4.5.3 Too many recipients", Outcome.TEMPORARY, False),
        ("rcpt", "421 4.7.0 Too many errors, closing", Outcome.TEMPORARY, False),
        ("data", "554 5.6.0 Message rejected as spam", Outcome.PERMANENT, False),
        ("data", "451 4.3.0 Temporary local problem", Outcome.TEMPORARY, False),
        ("mail", "530 5.7.0 Authentication required", Outcome.TEMPORARY, False),
        ("mail", "553 5.7.1 Sender address rejected: not owned by user", Outcome.PERMANENT, False),
        ("mail", "454 4.7.1 Relay access denied", Outcome.TEMPORARY, False),
    ],
)  # fmt: skip
def test_each_refusal_is_classified_and_the_connection_goes_on(
    where: str, reply: str, outcome: Outcome, bad_address: bool
) -> None:
    target = "refused@example.com"
    item = mail(1, recipient=target)
    with FaultySmtpServer() as server:
        if where == "rcpt":
            server.rcpt_replies[target] = reply
        elif where == "data":
            server.data_replies[target] = reply
        else:
            server.mail_replies["bounce@acme.test"] = reply
            item = replace(item, sender="Acme <bounce@acme.test>")
        with channel_for(server) as channel:
            delivery = channel.send(item)
            after = channel.send(mail(2))

    assert (delivery.outcome, delivery.bad_address) == (outcome, bad_address)
    assert reply in delivery.answer
    assert delivery.provider_id == ""
    assert after.outcome is Outcome.SENT
    assert [m.rcpt_tos for m in server.received] == [["customer2@example.com"]]


# -- TLS and login -------------------------------------------------------------------------------


def test_starttls_with_login() -> None:
    with (
        FaultySmtpServer(tls="starttls", login=("mailer", "s3cret")) as server,
        channel_for(server) as channel,
    ):
        delivery = channel.send(mail(1))

    assert delivery.outcome is Outcome.SENT
    assert len(server.received) == 1


def test_implicit_tls() -> None:
    with FaultySmtpServer(tls="implicit") as server, channel_for(server) as channel:
        delivery = channel.send(mail(1))

    assert delivery.outcome is Outcome.SENT
    assert server.url.startswith("smtps://")


def test_a_wrong_password_is_temporary_so_fixing_the_setting_drains_the_queue() -> None:
    with FaultySmtpServer(tls="starttls", login=("mailer", "s3cret")) as server:
        config = parse_email_url(server.url.replace("s3cret", "wrong"))
        assert config is not None
        with SmtpChannel(config, default_sender=SENDER, ssl_context=server.client_context) as ch:
            delivery = ch.send(mail(1))

    assert delivery.outcome is Outcome.TEMPORARY
    assert "login refused: 535" in delivery.answer
    assert "wrong" not in delivery.answer and "s3cret" not in delivery.answer


def test_a_certificate_nobody_trusts_is_refused() -> None:
    with FaultySmtpServer(tls="starttls") as server:
        config = parse_email_url(server.url)
        assert config is not None
        with SmtpChannel(config, default_sender=SENDER) as channel:  # the system's CAs only
            delivery = channel.send(mail(1))

    assert delivery.outcome is Outcome.TEMPORARY
    assert "TLS with 127.0.0.1" in delivery.answer
    assert server.received == []


def test_starttls_never_falls_back_to_plain_text() -> None:
    with FaultySmtpServer() as server:  # offers no STARTTLS
        config = parse_email_url(server.url + "?starttls=1")
        assert config is not None
        with SmtpChannel(config, default_sender=SENDER) as channel:
            delivery = channel.send(mail(1))

    assert delivery.outcome is Outcome.TEMPORARY
    assert "STARTTLS" in delivery.answer
    assert server.received == []


# -- the mail itself -----------------------------------------------------------------------------

KOREAN_SUBJECT = "주문해 주셔서 감사합니다 — 배송이 시작되었어요! 주문번호 #10234 (Acme 스토어)"
JAPANESE_TEXT = "ご注文ありがとうございます。商品は明日発送いたします。\n"


@pytest.mark.parametrize("eight_bit", [True, False], ids=["8bitmime", "7bit-only server"])
def test_a_korean_and_japanese_mail_round_trips_through_a_strict_parser(eight_bit: bool) -> None:
    long_line = "Thank you! " * 120  # 1,320 characters on one line: never sent as is
    text = (
        "안녕하세요 김철수 고객님,\n\n"
        + JAPANESE_TEXT * 30
        + ".\n.a line that starts with a dot\n..two dots\n"
        + long_line
        + "\ntrailing spaces   \nend"
    )
    html = (  # short lines: 8bit when the server takes it
        "<html><body>\n"
        + '<p style="font-family:Arial,sans-serif;color:#333">주문해 주셔서 감사합니다.</p>\n' * 80
        + ".\n..\n</body></html>\n"
    )
    item = mail(
        7,
        recipient="김철수 <kim@example.com>",
        sender="Acme 스토어 <shop@acme.test>",
        reply_to='"Acme, Support" <help@acme.test>',
        subject=KOREAN_SUBJECT,
        body_text=text,
        body_html=html,
        headers={
            "List-Unsubscribe": "<https://acme.test/c/"
            + "a" * 120
            + "/unsubscribe/>, <mailto:unsubscribe@acme.test?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Aftercare-Flow": "고객 감사 플로우",
        },
    )
    with FaultySmtpServer(eight_bit=eight_bit) as server, channel_for(server) as channel:
        delivery = channel.send(item)

    assert delivery.outcome is Outcome.SENT
    [received] = server.received
    raw = received.content
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert ("BODY=8BITMIME" in received.mail_options) is eight_bit
    encodings = [part["Content-Transfer-Encoding"] for part in received.message.iter_parts()]
    assert encodings[0] in {"base64", "quoted-printable"}  # the long line
    assert encodings[1] in ({"8bit"} if eight_bit else {"base64", "quoted-printable"})
    if not eight_bit:
        assert raw.isascii()

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert [part.defects for part in message.walk()] == [[], [], []]
    assert message["Subject"] == KOREAN_SUBJECT
    assert message["From"].addresses[0].display_name == "Acme 스토어"
    assert message["From"].addresses[0].addr_spec == "shop@acme.test"
    assert message["To"].addresses[0].display_name == "김철수"
    assert message["Reply-To"].addresses[0].display_name == "Acme, Support"
    assert message["Message-ID"] == delivery.provider_id
    assert message["Date"].datetime is not None
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"] == item.headers["List-Unsubscribe"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Aftercare-Flow"] == "고객 감사 플로우"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    assert text_of(message, "plain") == text + "\n"
    assert text_of(message, "html") == html


def test_text_only_without_html_and_html_alone_is_one_part() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        channel.send(mail(1, body_html=""))
        channel.send(mail(2, body_text=""))

    text_only, html_only = (m.message for m in server.received)
    assert text_only.get_content_type() == "text/plain"
    assert text_only.get_content() == "Hi there,\r\n\r\nthank you for order #1.\r\n"
    assert html_only.get_content_type() == "text/html"


def test_the_message_id_is_stable_across_retries_of_one_message() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        first, retry, other = channel.send(mail(5)), channel.send(mail(5)), channel.send(mail(6))

    assert first.provider_id == retry.provider_id != other.provider_id
    assert first.provider_id.endswith("@acme.test>")


def test_a_message_id_given_by_the_item_is_kept() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        given = channel.send(mail(1, headers={"Message-ID": "<thread-1@acme.test>"}))
        invalid = channel.send(mail(2, headers={"Message-ID": "no brackets"}))

    assert given.provider_id == server.received[0].message["Message-ID"] == "<thread-1@acme.test>"
    assert invalid.outcome is Outcome.PERMANENT


def test_the_default_sender_is_used_when_the_item_has_none() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        channel.send(mail(1, sender=""))

    assert server.received[0].message["From"] == SENDER


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hello\r\nBcc: victim@example.com"},
        {"subject": "Hello\nX-Injected: 1"},
        {"subject": "Hello\u2028there"},
        {"headers": {"List-Unsubscribe": "<https://x.test>\r\nBcc: victim@example.com"}},
        {"headers": {"X-Evil\r\nBcc": "victim@example.com"}},
        {"headers": {"X-Bad:Name": "1"}},
        {"headers": {"Bcc": "victim@example.com"}},
        {"headers": {"To": "victim@example.com"}},
        {"sender": "Acme\r\nBcc: victim@example.com <shop@acme.test>"},
        {"reply_to": "help@acme.test\nBcc: victim@example.com"},
        {"recipient": "customer@example.com\r\nBcc: victim@example.com"},
        {"recipient": "a@example.com, victim@example.com"},
    ],
)
def test_header_injection_is_refused_and_nothing_is_sent(changes: dict[str, Any]) -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        delivery = channel.send(mail(1, **changes))

    assert delivery.outcome is Outcome.PERMANENT
    assert delivery.answer.startswith("not sent: ")
    assert server.received == []


def test_an_unparseable_recipient_is_a_bad_address() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        delivery = channel.send(mail(1, recipient="not-an-address"))

    assert (delivery.outcome, delivery.bad_address) == (Outcome.PERMANENT, True)


def test_international_addresses() -> None:
    with FaultySmtpServer() as server, channel_for(server) as channel:
        idn = channel.send(mail(1, recipient="kim@예시.한국"))
        utf8 = channel.send(mail(2, recipient="김철수@example.com"))

    assert idn.outcome is utf8.outcome is Outcome.SENT
    assert server.received[0].rcpt_tos == ["kim@" + "예시.한국".encode("idna").decode()]
    assert server.received[1].rcpt_tos == ["김철수@example.com"]
    assert "SMTPUTF8" in server.received[1].mail_options

    with FaultySmtpServer(smtputf8=False) as server, channel_for(server) as channel:
        refused = channel.send(mail(2, recipient="김철수@example.com"))
    assert refused.outcome is Outcome.PERMANENT
    assert "SMTPUTF8" in refused.answer


def test_compose_is_what_the_stdlib_would_parse_for_every_header_shape() -> None:
    """Folding and encoded-words for long ASCII, long non-ASCII and mixed values."""
    sender = mime.mailbox('"Very Long Store Name, Incorporated" <orders@store.example>', role="x")
    for subject, width in [
        ("x" * 69, 78),
        ("x" * 300, 9 + 300),  # one word cannot be folded; still far below 998
        (" ".join(["word"] * 60), 78),
        ("가" * 200, 76),
        ("😀 emoji " * 30, 76),
        ("mixed ascii and 한국어 " * 10, 76),
        ("=?utf-8?q?looks_encoded?=", 78),
        ("", 78),
    ]:
        item = mail(1, subject=subject)
        composed = mime.compose(
            item,
            sender=sender,
            recipient=mime.mailbox(item.recipient),
            date=mime.date_header(0),
            eight_bit=True,
        )
        head = composed.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        assert max(len(line) for line in head) <= 78 or subject == "x" * 300
        subject_lines = head[2 : next(i for i, line in enumerate(head) if line[:5] == b"Date:")]
        assert max(len(line) for line in subject_lines) <= width
        message = email.message_from_bytes(composed.raw, policy=email.policy.default)
        assert message["Subject"] == subject
        assert message["From"].addresses[0].display_name == "Very Long Store Name, Incorporated"
        assert message["Date"] == "Thu, 01 Jan 1970 00:00:00 +0000"


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", SmtpConfig(host="127.0.0.1", port=2525)),
        ("smtp://mail.example.com", SmtpConfig(host="mail.example.com", port=25)),
        (
            "smtp://u%40x:p%3Aw@mail.example.com?starttls=1&timeout=5",
            SmtpConfig(
                host="mail.example.com",
                port=587,
                security="starttls",
                username="u@x",
                password="p:w",
                timeout=5.0,
            ),
        ),
        ("smtps://mail.example.com", SmtpConfig(host="mail.example.com", port=465, security="tls")),
        ("smtp+ssl://h:2465", SmtpConfig(host="h", port=2465, security="tls")),
        ("smtp+tls://h?helo=shop.example", SmtpConfig("h", 587, "starttls", helo="shop.example")),
        (
            "smtp://user:pw@127.0.0.1:25",
            SmtpConfig("127.0.0.1", 25, username="user", password="pw"),
        ),
        ("", None),
    ],
)
def test_email_url(url: str, expected: SmtpConfig | None) -> None:
    assert parse_email_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "must start with smtp://"),
        ("smtp://", "no host"),
        ("smtp://h:port", "invalid port"),
        ("smtps://h?starttls=1", "already TLS"),
        ("smtp://h?tls=1", "unknown option"),
        ("smtp://h?timeout=soon", "number of seconds"),
        ("smtp://user:pw@mail.example.com:587", "password without TLS"),
    ],
)
def test_a_wrong_email_url_names_the_problem(url: str, message: str) -> None:
    with pytest.raises(EnvError, match=message):
        parse_email_url(url)


def test_the_password_is_not_in_the_config_repr() -> None:
    config = parse_email_url("smtps://user:hunter2@mail.example.com")
    assert "hunter2" not in repr(config)


def test_open_channel_uses_email_url(settings: Any) -> None:
    with FaultySmtpServer() as server:
        settings.EMAIL_URL = server.url
        with open_channel("email") as channel:
            assert isinstance(channel, SmtpChannel)
            delivery = channel.send(mail(1))

    assert delivery.outcome is Outcome.SENT


def test_djangos_own_mails_go_to_the_server_of_email_url() -> None:
    """Password resets and fresh links use Django's backend: same server, same TLS and login."""
    with FaultySmtpServer(tls="starttls", login=("mailer", "s3cret")) as server:
        assert server.cert_file is not None
        env = {
            **os.environ,
            "EMAIL_URL": server.url,
            "SSL_CERT_FILE": str(server.cert_file),
            "DJANGO_SETTINGS_MODULE": "aftercare.settings",
        }
        script = (
            "import django; django.setup();"
            "from django.core.mail import send_mail;"
            "send_mail('Reset your password', 'Follow the link.', None, ['staff@acme.test'])"
        )
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script], env=env, cwd=REPO, check=True, timeout=60
        )

    [received] = server.received
    assert received.rcpt_tos == ["staff@acme.test"]
    assert received.message["Subject"] == "Reset your password"
