"""Which template a message uses: the store's own row beats the shipped default, languages fall
back asked → the store's default → English, and one store never sees another's templates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import translation

from aftercare.core.errors import NotFound
from aftercare.messaging import template_catalog
from aftercare.messaging.models import MessageTemplate
from aftercare.stores.models import Store

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def store_template(
    store: Store, *, key: str = "thank-you", locale: str = "en", **fields: Any
) -> MessageTemplate:
    defaults = {"subject": "Our own subject", "preheader": "", "body": "Our own body"}
    return MessageTemplate.objects.create(
        store=store, key=key, locale=locale, updated_at=NOW, **(defaults | fields)
    )


@pytest.mark.django_db
def test_shipped_default_without_a_store_row(store: Store) -> None:
    source = template_catalog.get(store=store, key="thank-you", locale="en")
    assert source.origin == "default"
    assert source.subject == "Thank you for your order #{{ order.number }}"
    assert source.body.startswith("Hi {{ customer.greeting_name }},")
    assert (source.key, source.locale, source.channel) == ("thank-you", "en", "email")


@pytest.mark.django_db
def test_the_store_row_beats_the_shipped_default(
    store: Store, django_assert_num_queries: Any
) -> None:
    store_template(store, locale="en", subject="Merci!", preheader="Pre", body="Hello **you**")
    with django_assert_num_queries(1):
        source = template_catalog.get(store=store, key="thank-you", locale="en")
    assert source.origin == "store"
    assert (source.subject, source.preheader, source.body) == ("Merci!", "Pre", "Hello **you**")


@pytest.mark.django_db
def test_locale_fallback_chain(store: Store) -> None:
    store.default_locale = "ko"
    store.save()
    # The asked locale, written any way a shop writes it.
    for asked in ("ja", "ja-JP", "ja_JP", "JA"):
        assert template_catalog.get(store=store, key="survey", locale=asked).locale == "ja"
    # A language we do not ship: the store's default language.
    assert template_catalog.get(store=store, key="survey", locale="fr").locale == "ko"
    assert template_catalog.get(store=store, key="survey", locale=None).locale == "ko"
    # Neither: English.
    store.default_locale = "de"
    store.save()
    assert template_catalog.get(store=store, key="survey", locale="fr").locale == "en"
    assert template_catalog.locale_chain(store=store, locale="fr-CA") == ["fr", "de", "en"]


@pytest.mark.django_db
def test_the_customers_language_beats_a_store_edit_in_another_language(store: Store) -> None:
    store_template(store, locale="en", subject="Our English rewrite")
    korean = template_catalog.get(store=store, key="thank-you", locale="ko")
    assert (korean.origin, korean.locale) == ("default", "ko")
    store_template(store, locale="ko", subject="우리 스토어의 제목")
    assert (
        template_catalog.get(store=store, key="thank-you", locale="ko").subject
        == "우리 스토어의 제목"
    )
    # A language nobody wrote: the fallback language's store row.
    assert (
        template_catalog.get(store=store, key="thank-you", locale="fr").subject
        == "Our English rewrite"
    )


@pytest.mark.django_db
def test_another_stores_template_is_never_used(store: Store, other_store: Store) -> None:
    store_template(other_store, locale="en", subject="Globex only")
    assert template_catalog.get(store=store, key="thank-you", locale="en").origin == "default"
    assert (
        template_catalog.get(store=other_store, key="thank-you", locale="en").subject
        == "Globex only"
    )


@pytest.mark.django_db
def test_channels_are_separate(store: Store) -> None:
    sms = template_catalog.get(store=store, key="order-shipped", locale="ko", channel="sms")
    assert sms.channel == "sms" and sms.subject == "" and "#{{ order.number }}" in sms.body
    MessageTemplate.objects.create(
        store=store, key="order-shipped", locale="ko", channel="sms", body="짧게", updated_at=NOW
    )
    assert (
        template_catalog.get(store=store, key="order-shipped", locale="ko", channel="sms").body
        == "짧게"
    )
    assert template_catalog.get(store=store, key="order-shipped", locale="ko").origin == "default"


@pytest.mark.django_db
def test_unknown_key_or_channel_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        template_catalog.get(store=store, key="no-such-template", locale="en")
    with pytest.raises(NotFound):
        template_catalog.get(store=store, key="review-request", locale="en", channel="sms")


def test_keys_list_every_shipped_template_with_a_label() -> None:
    keys = {key.key: key for key in template_catalog.template_keys()}
    assert list(keys) == [
        "thank-you",
        "order-processing",
        "order-shipped",
        "order-completed",
        "delay-notice",
        "review-request",
        "survey",
        "cross-sell",
        "next-purchase-coupon",
        "loyalty-invite",
        "win-back",
        "birthday",
        "anniversary",
        "onboarding",
        "staff-notification",
    ]
    assert keys["order-shipped"].channels == ("email", "sms")
    assert keys["review-request"].channels == ("email",)
    assert not keys["thank-you"].marketing and keys["win-back"].marketing
    assert str(keys["thank-you"].label) == "Thank you for your order"
    with translation.override("ko"):
        assert str(keys["thank-you"].label) == "주문 감사 인사"
    with translation.override("ja"):
        assert str(keys["review-request"].label) == "レビューのお願い"


def test_shipped_files_have_front_matter_and_a_body() -> None:
    files = sorted(template_catalog.DEFAULTS_DIR.glob("*/*.md"))
    assert len(files) == 15 * 3 + 3 * 3
    for path in files:
        locale, channel = path.name.removesuffix(".md").split(".")
        source = template_catalog.shipped(key=path.parent.name, locale=locale, channel=channel)
        assert source is not None and source.body.strip(), path
        if channel == "email":
            assert source.subject and source.preheader, path
