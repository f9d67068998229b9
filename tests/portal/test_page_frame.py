"""What every customer page shares: headers, language, branding, escaping."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.portal import log_redaction
from aftercare.stores.models import Store
from tests.portal.factories import CustomerFactory, LineItemFactory, OrderFactory
from tests.portal.links import order_path, preferences_path

pytestmark = pytest.mark.django_db


def assert_protected(response: object) -> None:
    assert response["X-Robots-Tag"].startswith("noindex")  # type: ignore[index]
    assert response["Referrer-Policy"] == "same-origin"  # type: ignore[index]
    assert response["X-Frame-Options"] == "DENY"  # type: ignore[index]
    assert "no-store" in response["Cache-Control"]  # type: ignore[index]
    csp = response["Content-Security-Policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script may run at all


@pytest.mark.parametrize("page", ["preferences", "unsubscribe", "order", "invalid", "unknown"])
def test_headers_and_meta_on_every_page(customer: Customer, order: Order, page: str) -> None:
    path = {
        "preferences": preferences_path(customer),
        "unsubscribe": preferences_path(customer, page="unsubscribe"),
        "order": order_path(order),
        "invalid": "/c/forged.token:abc:def/order/",
        "unknown": "/c/anything/else/",
    }[page]
    response = Client().get(path)
    assert response.status_code == (404 if page in {"invalid", "unknown"} else 200)
    assert_protected(response)
    body = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow, noarchive">' in body
    if page in {"invalid", "unknown"}:  # neutral: no store is named
        assert "Acme" not in body
        assert "This link is not valid" in body


def test_redirect_after_saving_is_protected_too(customer: Customer) -> None:
    response = Client().post(preferences_path(customer), {"email": "on"})
    assert response.status_code == 302
    assert_protected(response)


def test_style_nonce_matches_the_csp(customer: Customer) -> None:
    response = Client().get(preferences_path(customer))
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in response.content.decode()


# --- language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("store_languages", "locale", "requested", "expected"),
    [
        (["en", "ko", "ja"], "ko_KR", None, "ko"),
        (["en", "ko", "ja"], "ja", None, "ja"),
        (["en", "ko", "ja"], "ko_KR", "ja", "ja"),  # the switcher wins
        (["en", "ko", "ja"], "ko_KR", "fr", "ko"),  # not offered: ignored
        (["en"], "ko_KR", None, "en"),  # the store does not write Korean
        (["en", "ko"], "de_DE", None, "en"),  # we do not ship German
        (["en", "ko"], "ja", "ja", "en"),  # offered by us, not by the store
    ],
)
def test_page_language(
    store: Store, store_languages: list[str], locale: str, requested: str | None, expected: str
) -> None:
    store.languages = store_languages
    store.save()
    customer = CustomerFactory(store=store, locale=locale)
    path = preferences_path(customer) + (f"?lang={requested}" if requested else "")
    response = Client().get(path)
    assert f'<html lang="{expected}">' in response.content.decode()
    assert response["Content-Language"] == expected


def test_store_default_locale_when_the_customer_has_none(store: Store) -> None:
    store.languages = ["ja", "en"]
    store.default_locale = "ja_JP"
    store.save()
    customer = CustomerFactory(store=store, locale="")
    assert '<html lang="ja">' in Client().get(preferences_path(customer)).content.decode()


def test_language_switcher_links(store: Store) -> None:
    store.languages = ["en", "ko", "ja"]
    store.save()
    customer = CustomerFactory(store=store, locale="ko")
    path = preferences_path(customer)
    body = Client().get(path).content.decode()
    assert f'href="{path}?lang=ja" hreflang="ja"' in body
    assert f'href="{path}?lang=ko" hreflang="ko" lang="ko" aria-current="true"' in body
    # The form keeps the chosen language across the save.
    assert f'action="{path}?lang=ko"' in body


def test_no_switcher_for_a_one_language_store(customer: Customer) -> None:
    assert "hreflang" not in Client().get(preferences_path(customer)).content.decode()


# --- branding --------------------------------------------------------------------------------


def brand_block(body: str) -> str:
    match = re.search(r"<style nonce=\"[^\"]+\">(.*?)</style>", body, re.S)
    assert match is not None
    return match.group(1)


def test_store_branding(store: Store) -> None:
    store.brand_color = "#FFDD00"
    store.logo_url = "https://cdn.example.com/logo.png"
    store.save()
    customer = CustomerFactory(store=store)
    body = Client().get(preferences_path(customer)).content.decode()
    block = brand_block(body)
    assert "--brand:#ffdd00" in block
    assert "--on-brand:#000000" in block  # black on yellow: white would be 1.4:1
    assert '<img class="logo" src="https://cdn.example.com/logo.png" alt="Acme Outfitters">' in body
    assert "Acme Outfitters" in body.split("<footer", 1)[1]


@pytest.mark.parametrize("color", ["</style", "red;}<s", "#12345g", "url(x)", "", "#12 34;"])
def test_malicious_brand_colour_falls_back_to_the_default(store: Store, color: str) -> None:
    Store.objects.filter(pk=store.pk).update(brand_color=color[:7])
    customer = CustomerFactory(store=store)
    body = Client().get(preferences_path(customer)).content.decode()
    assert brand_block(body) == ":root{--brand:#1d5fd1;--on-brand:#ffffff;--brand-ink:#1d5fd1}"
    assert body.count("</style") == 1


def test_non_http_logo_is_not_shown(store: Store) -> None:
    Store.objects.filter(pk=store.pk).update(logo_url="javascript:alert(1)")
    customer = CustomerFactory(store=store)
    body = Client().get(preferences_path(customer)).content.decode()
    assert "javascript:" not in body
    assert '<span class="store-name">Acme Outfitters</span>' in body


# --- escaping --------------------------------------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_customer_product_and_store_text_is_inert(store: Store) -> None:
    store.name = f"Shop {XSS}"
    store.save()
    customer = CustomerFactory(store=store, email="a<script>b@example.com", first_name=XSS)
    order = OrderFactory(customer=customer, number="77<b>", status="ready<script>")
    LineItemFactory(order=order, name=f"Shoe {XSS}", sku=XSS)
    for path in (
        order_path(order),
        preferences_path(customer),
        preferences_path(customer, page="unsubscribe"),
    ):
        body = Client().get(path).content.decode()
        assert "<script>" not in body
        assert "onerror=alert(1)>" not in body
        assert "<b>" not in body
        assert "&lt;script&gt;" in body


def test_tokens_never_reach_the_logs(customer: Customer, caplog: pytest.LogCaptureFixture) -> None:
    """Django logs 4xx answers and CSRF refusals with their path; a token (even an expired one)
    is a credential."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        expired = preferences_path(customer, ttl=timedelta(days=1))
    valid = preferences_path(customer)
    caplog.set_level("DEBUG")
    with time_machine.travel(t0 + timedelta(days=3), tick=False):
        assert Client().get(expired).status_code == 410
        unsubscribe = expired.replace("/preferences/", "/unsubscribe/")
        assert Client().post(unsubscribe, {"nothing": "1"}).status_code == 400
        assert Client().put(unsubscribe).status_code == 405
        assert Client(enforce_csrf_checks=True).post(valid, {"email": "on"}).status_code == 403
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Gone: /c/<token>/preferences/" in logged
    assert "Forbidden (CSRF cookie not set.): /c/<token>/preferences/" in logged
    for path in (expired, valid):
        assert path.split("/")[2][:12] not in logged


def test_redaction_of_request_lines() -> None:
    assert (
        log_redaction.redact('"GET /c/1.2.3.x:1a:sig/order/?lang=ko HTTP/1.1" 200')
        == '"GET /c/<token>/order/?lang=ko HTTP/1.1" 200'
    )
    assert log_redaction.redact("/c/abc/preferences/") == "/c/<token>/preferences/"
    assert log_redaction.redact("/api/c/abc/") == "/api/c/abc/"


def test_gunicorn_access_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """gunicorn logs access lines with a dict of atoms (r: request line, U: path)."""
    caplog.set_level("INFO", logger="gunicorn.access")
    atoms = {
        "r": "GET /c/1.2.3.x:1a:sig/order/ HTTP/1.1",
        "U": "/c/1.2.3.x:1a:sig/order/",
        "s": 200,
    }
    logging.getLogger("gunicorn.access").info('"%(r)s" %(s)s %(U)s', atoms)
    [record] = caplog.records
    assert record.getMessage() == '"GET /c/<token>/order/ HTTP/1.1" 200 /c/<token>/order/'


def test_head_is_answered_and_other_methods_refused(customer: Customer, order: Order) -> None:
    assert Client().head(order_path(order)).status_code == 200  # link checkers use HEAD
    refused = Client().post(order_path(order))
    assert refused.status_code == 405
    assert refused["Allow"] == "GET, HEAD"
    assert_protected(refused)
    assert (
        Client()
        .get(preferences_path(customer).replace("/preferences/", "/fresh/preferences/"))
        .status_code
        == 405
    )
