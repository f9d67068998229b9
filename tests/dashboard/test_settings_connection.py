"""The connection wizard against a real WooCommerce-shaped server on loopback: each failure is
explained on the page (keeping the typed address and key, never the secret), success lists the
registered webhooks; sync now queues the job and the page polls its progress; disconnect."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from aftercare.core import clock
from aftercare.ingest.models import SyncRun, SyncStatus
from aftercare.jobs.models import Job
from aftercare.stores import connection
from aftercare.stores.models import StaffRole, Store, WooConnection, WooWebhook
from tests.dashboard.test_settings_support import signed_in
from tests.woo_server import WooServer

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/settings/connection/"


@pytest.fixture(autouse=True)
def public_url(settings: Any) -> None:
    settings.PUBLIC_URL = "https://aftercare.example.com"


@pytest.fixture
def shop() -> Iterator[WooServer]:
    with WooServer(orders=5, customers=2) as server:
        yield server


@pytest.fixture
def manager(store: Store) -> Client:
    return signed_in(store, StaffRole.MANAGER)


def form(shop: WooServer, **changes: str) -> dict[str, str]:
    return {
        "url": shop.url,
        "consumer_key": shop.consumer_key,
        "consumer_secret": shop.consumer_secret,
        **changes,
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_not_connected_shows_the_wizard(manager: Client) -> None:
    page = manager.get(PAGE).content.decode()
    assert "Connect your WooCommerce shop" in page
    assert "Read/Write" in page


def test_right_keys_connect_and_list_the_registered_webhooks(
    manager: Client, store: Store, shop: WooServer
) -> None:
    response = manager.post(PAGE, form(shop))
    assert response.status_code == 302
    page = manager.get(PAGE).content.decode()
    assert "Your shop is connected." in page
    assert "10.0.2" in page  # the WooCommerce version
    for topic in connection.WEBHOOK_TOPICS:
        assert f"<code>{topic}</code>" in page
    assert "13 of 13 registered" in page
    assert "Webhook order.created" in page  # the report of what was done
    assert WooWebhook.objects.filter(store=store, status="active").count() == 13
    assert shop.consumer_secret not in page
    # The report is shown once.
    assert "Webhook order.created" not in manager.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("setup", "code", "words"),
    [
        ("wrong_key", "woo_unauthorized", "does not know this consumer key"),
        ("wrong_secret", "woo_unauthorized", "did not accept the consumer secret"),
        ("closed_port", "woo_unreachable", "connection was refused"),
        ("html", "woo_not_woocommerce", "not as a WordPress site"),
        ("no_wc", "woo_not_woocommerce", "does not offer WooCommerce"),
        ("rest_disabled", "woo_rest_disabled", "Permalinks"),
    ],
)
def test_each_failure_is_explained_on_the_page(
    manager: Client, store: Store, setup: str, code: str, words: str
) -> None:
    mode = setup if setup in {"html", "no_wc", "rest_disabled"} else "ok"
    with WooServer(mode=mode) as shop:
        data = form(shop)
        if setup == "wrong_key":
            data["consumer_key"] = "ck_" + "2" * 40
        elif setup == "wrong_secret":
            data["consumer_secret"] = "cs_" + "3" * 40
        elif setup == "closed_port":
            data["url"] = f"http://127.0.0.1:{_closed_port()}"
        response = manager.post(PAGE, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-error-code="{code}"' in page
    assert words in page
    # What was typed is kept — except the secret, which never goes back to the browser.
    assert f'value="{data["url"]}"' in page
    assert f'value="{data["consumer_key"]}"' in page
    assert data["consumer_secret"] not in page
    assert not WooConnection.objects.filter(store=store).exists()


def test_read_only_keys_suggest_connecting_without_webhooks(manager: Client, store: Store) -> None:
    with WooServer(permissions="read") as shop:
        page = manager.post(PAGE, form(shop)).content.decode()
        assert "These keys are read-only" in page
        assert 'name="without_webhooks" value="1" checked' in page
        response = manager.post(PAGE, form(shop, without_webhooks="1"))
    assert response.status_code == 302
    saved = WooConnection.objects.get(store=store)
    assert saved.last_error == ""
    assert "No webhooks registered" in manager.get(PAGE).content.decode()


def test_form_mistakes_are_caught_before_calling_the_shop(manager: Client) -> None:
    page = manager.post(
        PAGE, {"url": "not a url", "consumer_key": "cs_oops", "consumer_secret": "ck_oops"}
    ).content.decode()
    assert "Enter a valid URL" in page
    assert "Did you paste the secret here?" in page


def test_an_unreachable_public_url_is_warned_about(
    manager: Client, shop: WooServer, settings: Any
) -> None:
    settings.PUBLIC_URL = "http://192.168.1.20:8000"
    manager.post(PAGE, form(shop))
    page = manager.get(PAGE).content.decode()
    assert "cannot deliver webhooks to this server" in page
    assert "private or local address" in page


def test_sync_now_queues_one_job_and_the_page_polls_progress(
    manager: Client, store: Store, shop: WooServer
) -> None:
    manager.post(PAGE, form(shop))
    response = manager.post("/dashboard/settings/connection/sync/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "Waiting for the background worker" in fragment
    manager.post("/dashboard/settings/connection/sync/")  # a second click queues nothing more
    [job] = Job.objects.filter(store_id=store.pk)
    assert job.kind == "ingest.reconcile_store"

    # The worker runs it; meanwhile the page shows the run's progress.
    now = clock.now()
    SyncRun.objects.create(
        store=store,
        status=SyncStatus.RUNNING,
        started_at=now,
        checkpoint={"orders": {"pages_done": [1], "items_done": 50, "total": 200, "done": False}},
        counts={"orders": {"created": 50, "updated": 0, "rejected": 0}},
    )
    Job.objects.filter(pk=job.pk).update(status="succeeded", finished_at=now)
    running = manager.get("/dashboard/settings/connection/sync/status/").content.decode()
    assert "25% done" in running and 'hx-trigger="every 2s"' in running
    SyncRun.objects.filter(store=store).update(
        status=SyncStatus.SUCCEEDED, finished_at=now + timedelta(minutes=1)
    )
    done = manager.get("/dashboard/settings/connection/sync/status/").content.decode()
    assert "Last sync succeeded" in done and "hx-trigger" not in done


def test_sync_now_without_a_connection_says_connect_first(manager: Client, store: Store) -> None:
    response = manager.post("/dashboard/settings/connection/sync/", follow=True)
    assert "Connect the shop first." in response.content.decode()
    assert not Job.objects.exists()


def test_disconnect_removes_our_webhooks_from_the_shop_and_forgets_the_keys(
    manager: Client, store: Store, shop: WooServer
) -> None:
    manager.post(PAGE, form(shop))
    assert len(shop.webhooks) == 13
    unconfirmed = manager.post("/dashboard/settings/connection/disconnect/", follow=True)
    assert "Tick the box" in unconfirmed.content.decode()
    assert WooConnection.objects.filter(store=store).exists()
    response = manager.post(
        "/dashboard/settings/connection/disconnect/", {"confirm": "1"}, follow=True
    )
    assert "Disconnected." in response.content.decode()
    assert not WooConnection.objects.filter(store=store).exists()
    assert not WooWebhook.objects.filter(store=store).exists()
    assert shop.webhooks == {}


def test_disconnect_works_when_the_shop_is_gone(manager: Client, store: Store) -> None:
    with WooServer() as shop:
        manager.post(PAGE, form(shop))
    response = manager.post(
        "/dashboard/settings/connection/disconnect/", {"confirm": "1"}, follow=True
    )
    assert "could not remove our webhooks" in response.content.decode()
    assert not WooConnection.objects.filter(store=store).exists()


def test_connection_state_shows_errors_escaped(
    manager: Client, store: Store, shop: WooServer
) -> None:
    manager.post(PAGE, form(shop))
    WooConnection.objects.filter(store=store).update(last_error="<b>boom</b>")
    page = manager.get(PAGE).content.decode()
    assert "&lt;b&gt;boom&lt;/b&gt;" in page and "<b>boom</b>" not in page
