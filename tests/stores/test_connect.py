"""Connecting a store: key checks, each failure's own error, webhook registration (idempotent),
secrets encrypted at rest and never printed."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import ManagementUtility, call_command
from django.db import connection as db

from aftercare.core.errors import DomainError
from aftercare.stores import connection
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.models import Store, WooConnection, WooWebhook
from tests.woo_server import WooServer

pytestmark = pytest.mark.django_db
PUBLIC = "https://aftercare.example.com"
DELIVERY = f"{PUBLIC}/webhooks/woocommerce/acme/"


@pytest.fixture
def public_url(settings: Any) -> str:
    settings.PUBLIC_URL = PUBLIC
    return PUBLIC


@pytest.fixture
def shop() -> Iterator[WooServer]:
    with WooServer(orders=12, customers=3) as server:
        yield server


def connect(store: Store, shop: WooServer, **options: object) -> WooConnection:
    return connection.connect_woocommerce(
        store=store,
        url=shop.url,
        consumer_key=options.pop("consumer_key", shop.consumer_key),  # type: ignore[arg-type]
        consumer_secret=options.pop("consumer_secret", shop.consumer_secret),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def test_check_reports_what_it_found(shop: WooServer) -> None:
    result = connection.check_woocommerce(
        url=shop.url + "/wp-admin/",
        consumer_key=shop.consumer_key,
        consumer_secret=shop.consumer_secret,
    )
    assert result.url == shop.url
    assert result.wc_version == "10.0.2"
    assert result.order_count == 12
    assert result.auth_method == "oauth1"
    assert any("plain http" in w for w in result.warnings)


def test_connect_registers_the_13_webhooks_each_with_its_own_secret(
    store: Store, shop: WooServer, public_url: str
) -> None:
    saved = connect(store, shop)
    assert saved.url == shop.url
    assert saved.wc_version == "10.0.2"
    posted = shop.webhook_posts
    assert sorted(p["topic"] for p in posted) == sorted(connection.WEBHOOK_TOPICS)
    assert {p["delivery_url"] for p in posted} == {DELIVERY}
    secrets = [p["secret"] for p in posted]
    assert len(set(secrets)) == 13
    assert all("&" not in s and len(s) >= 32 for s in secrets)
    rows = {row.woo_id: row for row in WooWebhook.objects.filter(store=store)}
    assert len(rows) == 13
    for woo_id, secret in shop.webhook_secrets.items():
        assert rows[woo_id].secret == secret  # we can verify what the shop will sign
        assert rows[woo_id].topic == shop.webhooks[woo_id]["topic"]


def test_reconnecting_reuses_the_webhooks(store: Store, shop: WooServer, public_url: str) -> None:
    connect(store, shop)
    before = {row.woo_id: row.secret for row in WooWebhook.objects.filter(store=store)}
    connect(store, shop)
    assert len(shop.webhook_posts) == 13  # nothing created the second time
    assert len(shop.webhooks) == 13
    after = {row.woo_id: row.secret for row in WooWebhook.objects.filter(store=store)}
    assert after == before


def test_webhooks_pointing_at_us_without_a_known_secret_get_a_new_one(
    store: Store, shop: WooServer, public_url: str
) -> None:
    connect(store, shop)
    WooWebhook.objects.filter(store=store).delete()  # e.g. restored an old database
    first = next(iter(shop.webhooks))
    shop.webhooks[first]["status"] = "disabled"
    with connection.open_client(
        url=shop.url, consumer_key=shop.consumer_key, consumer_secret=shop.consumer_secret
    ) as woo:  # a duplicate someone made by hand
        woo.create_webhook(topic="order.updated", delivery_url=DELIVERY, secret="x", name="dup")
    connect(store, shop)
    assert len(shop.webhooks) == 13
    assert all(hook["status"] == "active" for hook in shop.webhooks.values())
    rows = {row.woo_id: row.secret for row in WooWebhook.objects.filter(store=store)}
    assert rows == shop.webhook_secrets


def test_disabled_webhooks_are_reactivated_paused_ones_left_alone(
    store: Store, shop: WooServer, public_url: str
) -> None:
    connect(store, shop)
    disabled, paused, *_ = sorted(shop.webhooks)
    shop.webhooks[disabled]["status"] = "disabled"
    shop.webhooks[paused]["status"] = "paused"
    reactivated = connection.reactivate_disabled_webhooks(store=store)
    assert [row.woo_id for row in reactivated] == [disabled]
    assert shop.webhooks[disabled]["status"] == "active"
    assert shop.webhooks[paused]["status"] == "paused"
    assert WooWebhook.objects.get(store=store, woo_id=paused).status == "paused"


def test_secrets_are_encrypted_at_rest(store: Store, shop: WooServer, public_url: str) -> None:
    connect(store, shop)
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT consumer_key, consumer_secret FROM stores_wooconnection WHERE store_id = %s",
            [store.pk],
        )
        raw_key, raw_secret = cursor.fetchone()
        cursor.execute("SELECT secret FROM stores_woowebhook WHERE store_id = %s", [store.pk])
        raw_hook_secrets = [row[0] for row in cursor.fetchall()]
    assert shop.consumer_secret not in raw_secret
    assert shop.consumer_key not in raw_key
    assert not set(raw_hook_secrets) & set(shop.webhook_secrets.values())
    saved = WooConnection.objects.get(store=store)
    assert saved.consumer_secret == shop.consumer_secret  # decrypted on read


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("setup", "code", "words"),
    [
        ("closed_port", StoreErrorCode.WOO_UNREACHABLE, "connection was refused"),
        ("wrong_key", StoreErrorCode.WOO_UNAUTHORIZED, "does not know this consumer key"),
        ("wrong_secret", StoreErrorCode.WOO_UNAUTHORIZED, "did not accept the consumer secret"),
        ("html", StoreErrorCode.WOO_NOT_WOOCOMMERCE, "not as a WordPress site"),
        ("no_wc", StoreErrorCode.WOO_NOT_WOOCOMMERCE, "does not offer WooCommerce"),
        ("rest_disabled", StoreErrorCode.WOO_REST_DISABLED, "pretty permalinks"),
    ],
)
def test_each_failure_has_its_own_code_and_advice(
    store: Store, setup: str, code: StoreErrorCode, words: str
) -> None:
    mode = setup if setup in {"html", "no_wc", "rest_disabled"} else "ok"
    with WooServer(mode=mode) as shop:
        url, key, secret = shop.url, shop.consumer_key, shop.consumer_secret
        if setup == "closed_port":
            url = f"http://127.0.0.1:{_closed_port()}"
        elif setup == "wrong_key":
            key = "ck_" + "2" * 40
        elif setup == "wrong_secret":
            secret = "cs_" + "3" * 40
        with pytest.raises(DomainError) as caught:
            connection.connect_woocommerce(
                store=store, url=url, consumer_key=key, consumer_secret=secret
            )
    assert caught.value.code == code
    assert words in str(caught.value)
    assert secret not in str(caught.value)
    assert not WooConnection.objects.filter(store=store).exists()


def test_read_only_keys_are_saved_but_cannot_register_webhooks(
    store: Store, public_url: str
) -> None:
    with WooServer(permissions="read") as shop, pytest.raises(DomainError) as caught:
        connect(store, shop)
    assert caught.value.code == StoreErrorCode.WOO_KEYS_READ_ONLY
    assert "Read/Write" in str(caught.value)
    saved = WooConnection.objects.get(store=store)
    assert "read-only" in saved.last_error
    with WooServer(permissions="read") as shop:
        connect(store, shop, register_webhooks=False)  # what the message suggests works


def test_an_unreachable_public_url_is_a_warning_not_a_failure(
    store: Store, shop: WooServer, settings: Any
) -> None:
    settings.PUBLIC_URL = "http://192.168.1.20:8000"
    lines: list[str] = []
    connect(store, shop, report=lines.append)
    warnings = [line for line in lines if line.startswith("Warning: the shop will not")]
    assert len(warnings) == 2  # private address, and port 8000
    assert WooWebhook.objects.filter(store=store).count() == 13


@pytest.mark.parametrize(
    ("delivery", "problems"),
    [
        ("https://aftercare.example.com/webhooks/", 0),
        ("http://aftercare.example.com:8080/webhooks/", 0),
        ("https://aftercare.example.com:8443/webhooks/", 1),
        ("http://localhost/webhooks/", 1),
        ("http://10.1.2.3/webhooks/", 1),
        ("http://100.64.0.7/webhooks/", 1),
        ("https://user:pw@aftercare.example.com/webhooks/", 1),
        ("http://shop.example:9000/webhooks/", 0),  # the shop's own host and port are allowed
    ],
)
def test_public_url_problems(delivery: str, problems: int) -> None:
    found = connection.public_url_problems(
        delivery_url=delivery, shop_url="http://shop.example:9000"
    )
    assert len(found) == problems, found


# -- the command ----------------------------------------------------------------------------------


def test_connect_command_prints_what_it_did_and_never_the_secret(
    store: Store, shop: WooServer, public_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    call_command(
        "woocommerce",
        "connect",
        "--store=acme",
        f"--url={shop.url}",
        f"--consumer-key={shop.consumer_key}",
        f"--consumer-secret={shop.consumer_secret}",
        stdout=out,
    )
    printed = out.getvalue() + "".join(capsys.readouterr())
    assert "Found WooCommerce 10.0.2" in printed
    assert "Webhook order.created #" in printed
    assert "Store acme is connected." in printed
    assert shop.consumer_secret not in printed
    assert not any(secret in printed for secret in shop.webhook_secrets.values())

    out = io.StringIO()
    call_command("woocommerce", "webhooks", "--store=acme", stdout=out)
    listing = out.getvalue()
    assert listing.count(" active") == 13
    assert "customer.deleted" in listing


def test_connect_command_fails_with_exit_code_1_and_the_plain_message(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "aftercare",
        "woocommerce",
        "connect",
        "--store=acme",
        f"--url=http://127.0.0.1:{_closed_port()}",
        "--consumer-key=ck_abc",
        "--consumer-secret=cs_very_secret",
    ]
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "connection was refused" in err
    assert "cs_very_secret" not in err
