"""The local outbox (the embedded mode's channel) and the channel factory's choices."""

from __future__ import annotations

from typing import Any

import pytest

from aftercare.messaging.channels import config, open_channel, outbox
from aftercare.messaging.channels.base import Outcome, Outgoing
from aftercare.messaging.channels.outbox import OutboxChannel


def email_item(**changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": 41,
        "channel": "email",
        "recipient": "kim@example.com",
        "sender": "Acme <shop@acme.test>",
        "subject": "주문해 주셔서 감사합니다",
        "body_text": "감사합니다",
    }
    return Outgoing(**{**values, **changes})


def test_without_email_url_mail_stays_in_the_local_outbox_and_says_so(settings: Any) -> None:
    settings.EMAIL_URL = ""
    outbox.kept.clear()
    item = email_item()
    with open_channel("email") as channel:
        assert isinstance(channel, OutboxChannel)
        delivery = channel.send(item)

    assert delivery.outcome is Outcome.SENT
    assert delivery.provider_id == "outbox-41"
    assert delivery.answer.startswith("kept in the local outbox, not delivered")
    assert "EMAIL_URL is not set" in delivery.answer
    assert list(outbox.kept) == [item]


def test_the_outbox_refuses_what_smtp_would_refuse(settings: Any) -> None:
    settings.EMAIL_URL = ""
    outbox.kept.clear()
    with open_channel("email") as channel:
        injected = channel.send(email_item(subject="Hi\r\nBcc: victim@example.com"))
        bad = channel.send(email_item(recipient="nobody"))

    assert injected.outcome is Outcome.PERMANENT
    assert (bad.outcome, bad.bad_address) == (Outcome.PERMANENT, True)
    assert list(outbox.kept) == []


def test_the_outbox_keeps_only_the_latest_items() -> None:
    outbox.kept.clear()
    limit = outbox.kept.maxlen
    assert limit is not None
    with OutboxChannel(reason="test") as channel:
        for number in range(limit + 5):
            channel.send(email_item(message_id=number))
    assert len(outbox.kept) == limit
    assert outbox.kept[0].message_id == 5


def test_an_unknown_kind_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown channel kind 'fax'"):
        open_channel("fax")


def test_djangos_mail_settings_follow_email_url() -> None:
    assert config.django_mail(None).backend == "django.core.mail.backends.console.EmailBackend"
    starttls = config.django_mail(
        config.parse_email_url("smtp://u:p@mail.example.com:2587?starttls=1&timeout=7")
    )
    assert (starttls.backend, starttls.host, starttls.port) == (
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.com",
        2587,
    )
    assert (starttls.username, starttls.password, starttls.timeout) == ("u", "p", 7.0)
    assert (starttls.use_tls, starttls.use_ssl) == (True, False)
    implicit = config.django_mail(config.parse_email_url("smtps://mail.example.com"))
    assert (implicit.port, implicit.use_tls, implicit.use_ssl) == (465, False, True)
    assert "password" not in repr(starttls)
