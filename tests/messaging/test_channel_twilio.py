"""The Twilio SMS channel against a local server speaking Twilio's Messages API
(tests/messaging/twilio_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from aftercare.env import EnvError
from aftercare.messaging.channels import open_channel
from aftercare.messaging.channels.base import Outcome, Outgoing
from aftercare.messaging.channels.config import TwilioConfig, twilio_from_values
from aftercare.messaging.channels.outbox import OutboxChannel
from aftercare.messaging.channels.sms_twilio import TwilioChannel
from tests.messaging.twilio_server import TwilioServer

FROM = "+15005550006"


def sms(number: int = 1, **changes: Any) -> Outgoing:
    base = Outgoing(
        message_id=number,
        channel="sms",
        recipient="+821012345678",
        body_text=f"Acme: your order #{number} has shipped. 배송이 시작되었습니다.",
    )
    return replace(base, **changes)


@pytest.fixture
def twilio(settings: Any) -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        settings.TWILIO_ACCOUNT_SID = server.account_sid
        settings.TWILIO_AUTH_TOKEN = server.token
        settings.TWILIO_FROM = FROM
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_API_BASE = server.url
        settings.TWILIO_TIMEOUT = 1
        yield server


def test_sends_through_twilio_and_keeps_the_sid(twilio: TwilioServer) -> None:
    with open_channel("sms") as channel:
        assert isinstance(channel, TwilioChannel)
        deliveries = [channel.send(sms(n)) for n in range(1, 4)]

    assert [d.outcome for d in deliveries] == [Outcome.SENT] * 3
    assert [d.provider_id for d in deliveries] == [m["sid"] for m in twilio.messages]
    assert deliveries[0].answer == f"HTTP 201 queued {twilio.messages[0]['sid']}"
    first = twilio.messages[0]
    assert (first["To"], first["From"]) == ("+821012345678", FROM)
    assert first["Body"] == sms(1).body_text  # UTF-8 form encoding round-trips


def test_a_messaging_service_or_the_items_own_sender(twilio: TwilioServer, settings: Any) -> None:
    settings.TWILIO_FROM = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    with open_channel("sms") as channel:
        by_service = channel.send(sms(1))
        by_item = channel.send(sms(2, sender="+15005550001"))

    assert by_service.outcome is by_item.outcome is Outcome.SENT
    assert "accepted" in by_service.answer
    assert twilio.messages[0]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in twilio.messages[0]
    assert twilio.messages[1]["From"] == "+15005550001"


@pytest.mark.parametrize(
    ("recipient", "code"),
    [("0101234", 21211), ("+15005550009", 21610), ("+15005550010", 21614)],
)
def test_a_bad_or_stopped_number_is_permanent_and_marks_the_address(
    twilio: TwilioServer, recipient: str, code: int
) -> None:
    twilio.stopped.add("+15005550009")
    twilio.landlines.add("+15005550010")
    with open_channel("sms") as channel:
        delivery = channel.send(sms(1, recipient=recipient))
        after = channel.send(sms(2))

    assert (delivery.outcome, delivery.bad_address) == (Outcome.PERMANENT, True)
    assert f"HTTP 400 Twilio error {code}" in delivery.answer
    assert after.outcome is Outcome.SENT


def test_other_client_errors_are_permanent_without_marking_the_address(
    twilio: TwilioServer,
) -> None:
    with open_channel("sms") as channel:
        too_long = channel.send(sms(1, body_text="x" * 1601))
        empty = channel.send(sms(2, body_text=""))

    assert (too_long.outcome, too_long.bad_address) == (Outcome.PERMANENT, False)
    assert "21617" in too_long.answer
    assert (empty.outcome, empty.bad_address) == (Outcome.PERMANENT, False)


@pytest.mark.parametrize(
    ("status", "code"), [(429, 20429), (500, 20500), (503, None)], ids=["429", "500", "503"]
)
def test_rate_limits_and_server_errors_are_temporary(
    twilio: TwilioServer, status: int, code: int | None
) -> None:
    twilio.inject(status=status, code=code)
    with open_channel("sms") as channel:
        delivery = channel.send(sms(1))
        after = channel.send(sms(2))

    assert delivery.outcome is Outcome.TEMPORARY
    assert delivery.answer.startswith(f"HTTP {status}")
    assert after.outcome is Outcome.SENT


def test_a_timeout_is_temporary(twilio: TwilioServer) -> None:
    twilio.inject(hang=3.0)  # the client gives up after TWILIO_TIMEOUT = 1 s
    with open_channel("sms") as channel:
        delivery = channel.send(sms(1))

    assert delivery.outcome is Outcome.TEMPORARY
    assert "timed out" in delivery.answer


def test_wrong_credentials_are_temporary_and_the_token_stays_secret(
    twilio: TwilioServer, settings: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = "not-the-token"
    with open_channel("sms") as channel:
        delivery = channel.send(sms(1))

    assert delivery.outcome is Outcome.TEMPORARY
    assert "20003" in delivery.answer
    assert "not-the-token" not in delivery.answer
    assert twilio.messages == []


def test_unreachable_twilio_is_temporary(settings: Any) -> None:
    with TwilioServer() as server:
        url = server.url  # stopped on leaving the block: nothing listens there any more
    settings.TWILIO_ACCOUNT_SID = server.account_sid
    settings.TWILIO_AUTH_TOKEN = server.token
    settings.TWILIO_FROM = FROM
    settings.TWILIO_API_BASE = url
    with open_channel("sms") as channel:
        delivery = channel.send(sms(1))

    assert delivery.outcome is Outcome.TEMPORARY
    assert "Twilio unreachable" in delivery.answer


def test_without_twilio_settings_sms_stay_in_the_local_outbox(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = settings.TWILIO_FROM = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    with open_channel("sms") as channel:
        assert isinstance(channel, OutboxChannel)
        delivery = channel.send(sms(1))

    assert delivery.outcome is Outcome.SENT
    assert "not delivered" in delivery.answer
    assert "Twilio is not configured" in delivery.answer


def test_twilio_settings() -> None:
    values: dict[str, Any] = {
        "account_sid": "AC123",
        "auth_token": "tok",
        "from_number": FROM,
        "messaging_service_sid": "",
        "api_base": "",
    }
    config = twilio_from_values(**values)
    assert config == TwilioConfig(account_sid="AC123", auth_token="tok", from_number=FROM)
    assert "tok" not in repr(config)
    empty: dict[str, Any] = dict.fromkeys(values, "")
    assert twilio_from_values(**empty) is None
    with pytest.raises(EnvError, match="TWILIO_AUTH_TOKEN"):
        twilio_from_values(**{**values, "auth_token": ""})
    with pytest.raises(EnvError, match="TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"):
        twilio_from_values(**{**values, "from_number": ""})
    with pytest.raises(EnvError, match="letters and digits"):
        twilio_from_values(**{**values, "account_sid": "AC1/../x"})
    with pytest.raises(EnvError, match="http"):
        twilio_from_values(**{**values, "api_base": "ftp://api.twilio.com"})
