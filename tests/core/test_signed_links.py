"""Signed links: what verifies, what does not, and when a link expires."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.core.exceptions import ImproperlyConfigured

from aftercare.core import signed_links
from aftercare.core.signed_links import ExpiredLink, InvalidLink

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CLAIMS = {"store_id": 3, "subject_id": 812, "customer_id": 77}


def token(purpose: str = "preferences", **overrides: Any) -> str:
    return signed_links.make_token(purpose=purpose, **{**CLAIMS, **overrides})


@time_machine.travel(T0, tick=False)
def test_round_trip_returns_the_claims() -> None:
    claims = signed_links.read_token(purpose="preferences", token=token())
    assert (claims.store_id, claims.subject_id, claims.customer_id) == (3, 812, 77)
    assert claims.purpose == "preferences"
    assert claims.expires_at == T0 + timedelta(days=180)  # the purpose's default lifetime


def test_tokens_are_compact_and_url_safe() -> None:
    value = token(store_id=123456, subject_id=987654321, customer_id=123456789)
    assert re.fullmatch(r"[A-Za-z0-9_\-:.]+", value)
    assert len(value) < 90


def test_every_changed_character_is_invalid() -> None:
    value = token()
    for index in range(len(value)):
        replacement = "A" if value[index] != "A" else "B"
        tampered = value[:index] + replacement + value[index + 1 :]
        with pytest.raises(InvalidLink):
            signed_links.read_token(purpose="preferences", token=tampered)


@pytest.mark.parametrize("bad", ["", "x", "a:b:c", "." * 50, "A" * 400, "eyJ9:1:2"])
def test_garbage_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidLink):
        signed_links.read_token(purpose="preferences", token=bad)


def test_a_token_of_another_purpose_is_invalid() -> None:
    with pytest.raises(InvalidLink):
        signed_links.read_token(purpose="order", token=token("preferences"))


def test_a_token_of_another_store_is_invalid() -> None:
    value = token(store_id=3)
    assert signed_links.read_token(purpose="preferences", token=value, store_id=3)
    with pytest.raises(InvalidLink):
        signed_links.read_token(purpose="preferences", token=value, store_id=4)


def test_a_value_we_signed_for_something_else_is_invalid() -> None:
    """Same salt, same key, but not a claim list (another code path signing something)."""
    signer = signing.TimestampSigner(salt="aftercare.signed_links.preferences")
    for payload in ("3.mk.25", "3.mk.25.tv.1", "3.-1.25.tv", "3.MK.25.tv", "", "x" * 14 + ".1.1.1"):
        with pytest.raises(InvalidLink):
            signed_links.read_token(purpose="preferences", token=signer.sign(payload))
    genuine = signer.sign("3.mk.25.zzzzzz")  # expires in 2038
    assert signed_links.read_token(purpose="preferences", token=genuine).subject_id == 812


def test_a_token_signed_with_another_key_is_invalid(settings: Any) -> None:
    value = token()
    settings.SECRET_KEY = "another-deployment-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidLink):
        signed_links.read_token(purpose="preferences", token=value)


def test_key_rotation_keeps_old_links_working_through_fallbacks(settings: Any) -> None:
    old_key = settings.SECRET_KEY
    value = token()
    settings.SECRET_KEY = "the-new-key-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert signed_links.read_token(purpose="preferences", token=value).subject_id == 812
    new_value = token()  # new links are signed with the new key
    settings.SECRET_KEY_FALLBACKS = []
    assert signed_links.read_token(purpose="preferences", token=new_value).subject_id == 812
    with pytest.raises(InvalidLink):
        signed_links.read_token(purpose="preferences", token=value)


def test_expired_token_raises_expired_with_its_claims() -> None:
    with time_machine.travel(T0, tick=False):
        value = token(ttl=timedelta(days=2))
    with time_machine.travel(T0 + timedelta(days=2) - timedelta(seconds=1), tick=False):
        assert signed_links.read_token(purpose="preferences", token=value)
    with (
        time_machine.travel(T0 + timedelta(days=2), tick=False),
        pytest.raises(ExpiredLink) as caught,
    ):
        signed_links.read_token(purpose="preferences", token=value)
    assert caught.value.claims.subject_id == 812
    assert caught.value.claims.expires_at == T0 + timedelta(days=2)


def test_max_age_is_a_stricter_limit() -> None:
    with time_machine.travel(T0, tick=False):
        value = token()
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert signed_links.read_token(
            purpose="preferences", token=value, max_age=timedelta(hours=3)
        )
        with pytest.raises(ExpiredLink):
            signed_links.read_token(purpose="preferences", token=value, max_age=timedelta(hours=1))


def test_tampered_expired_token_is_invalid_not_expired() -> None:
    with time_machine.travel(T0, tick=False):
        value = token(ttl=timedelta(days=1))
    tampered = value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB")
    with time_machine.travel(T0 + timedelta(days=5), tick=False), pytest.raises(InvalidLink):
        signed_links.read_token(purpose="preferences", token=tampered)


def test_build_url_is_absolute_on_public_url(settings: Any) -> None:
    settings.PUBLIC_URL = "https://care.example.com"
    url = signed_links.make_link(purpose="order", **CLAIMS)
    match = re.fullmatch(r"https://care\.example\.com/c/([^/]+)/order/", url)
    assert match is not None
    assert signed_links.read_token(purpose="order", token=match.group(1)).subject_id == 812


def test_purposes_register_once() -> None:
    assert {"preferences", "order"} <= set(signed_links.purposes())
    same = signed_links.get_purpose("order")
    assert signed_links.register_purpose(name="order", url_name=same.url_name, ttl=same.ttl) == same
    with pytest.raises(ImproperlyConfigured):
        signed_links.register_purpose(name="order", url_name="x:y", ttl=timedelta(days=1))
    with pytest.raises(ImproperlyConfigured):
        signed_links.make_token(purpose="nope", **CLAIMS)
    with pytest.raises(ImproperlyConfigured):
        signed_links.register_purpose(name="bad name", url_name="x:y", ttl=timedelta(days=1))
