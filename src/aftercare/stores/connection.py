"""Connecting a store to its WooCommerce shop: check the keys, keep them (encrypted), register
the webhooks Aftercare listens to, and keep those webhooks alive.

    result = connection.check_woocommerce(url=url, consumer_key=ck, consumer_secret=cs)
    woo = connection.connect_woocommerce(store=store, url=url, consumer_key=ck, consumer_secret=cs)
    connection.reactivate_disabled_webhooks(store=store)     # from the periodic reconcile
    with connection.client_for_store(store=store) as client: ...

These services do network I/O on purpose: they are what the CLI, the dashboard's connect form and
the reconcile job call. Each webhook gets its own secret (no '&': WooCommerce entity-decodes
secrets before signing, SPEC §3). Re-connecting reuses the webhooks already pointing at us, so
running connect twice never leaves duplicates that would deliver everything twice.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from aftercare.core import clock
from aftercare.core.errors import NotFound
from aftercare.stores import services
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.models import Store, WooConnection, WooWebhook
from aftercare.stores.woo.client import WooClient
from aftercare.stores.woo.errors import WooError

logger = logging.getLogger(__name__)

WEBHOOK_TOPICS = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "product.created",
    "product.updated",
    "product.deleted",
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
)
# wp_safe_remote_request() delivers only to these ports (SPEC §2).
DELIVERABLE_PORTS = frozenset({80, 443, 8080})

Report = Callable[[str], None]


@dataclass(frozen=True)
class WooCheckResult:
    url: str  # the shop's base URL after redirects (what we store)
    auth_method: str  # "basic" (https) or "oauth1" (http)
    rest_route: bool  # pretty permalinks off: reached through ?rest_route=
    wc_version: str  # "" when system_status was not readable
    order_count: int | None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ShopWebhook:
    """A webhook as the shop reports it, next to what we registered."""

    woo_id: int
    topic: str
    status: str  # active | paused | disabled, or "missing" (we registered it, the shop lost it)
    delivery_url: str
    registered: bool  # we hold its secret (a WooWebhook row)


def webhook_delivery_url(*, store: Store) -> str:
    return f"{settings.PUBLIC_URL}/webhooks/woocommerce/{store.slug}/"


def public_url_problems(*, delivery_url: str, shop_url: str) -> list[str]:
    """Why WooCommerce would refuse to deliver to `delivery_url`, in words (empty if fine).

    WordPress's wp_safe_remote_request() drops private, loopback and reserved addresses and any
    port but 80/443/8080 — unless the receiver is on the shop's own host (SPEC §2). It fails
    silently, so we warn at connect time instead."""
    target, shop = httpx.URL(delivery_url), httpx.URL(shop_url)
    host = target.host
    same_host = host == shop.host
    problems: list[str] = []
    if target.username or target.password:
        problems.append("it contains a user name or password, which WordPress refuses")
    if not same_host:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and not address.is_global:
            problems.append(f"{host} is a private or local address the shop cannot reach")
        elif address is None and (host == "localhost" or host.endswith((".localhost", ".local"))):
            problems.append(f"{host} only exists on this machine")
        elif address is None and "." not in host:
            problems.append(f"{host} is not a public host name")
    port = target.port
    if port is not None and port not in DELIVERABLE_PORTS and not (same_host and port == shop.port):
        problems.append(f"WooCommerce only delivers to ports 80, 443 and 8080, not {port}")
    return problems


def open_client(*, url: str, consumer_key: str, consumer_secret: str, **options: Any) -> WooClient:
    options.setdefault("timeout", settings.WOO_HTTP_TIMEOUT)
    options.setdefault("concurrency", settings.WOO_SYNC_CONCURRENCY)
    return WooClient(url, consumer_key, consumer_secret, **options)


def client_for_store(*, store: Store, **options: Any) -> WooClient:
    """A client for the store's saved connection (not yet discovered: call `.discover()`)."""
    saved = WooConnection.objects.filter(store=store).first()
    if saved is None:
        raise NotFound(
            f"Store {store.slug} is not connected to WooCommerce yet. Connect it first: "
            f"aftercare woocommerce connect --store {store.slug} --url … --consumer-key … "
            "--consumer-secret …",
            code=StoreErrorCode.WOO_NOT_CONNECTED,
        )
    return open_client(
        url=saved.url,
        consumer_key=saved.consumer_key,
        consumer_secret=saved.consumer_secret,
        **options,
    )


def check_woocommerce(*, url: str, consumer_key: str, consumer_secret: str) -> WooCheckResult:
    """Is there a WooCommerce REST API at `url`, and do these keys read it? Raises WooError with
    a specific code: unreachable, REST disabled, not WooCommerce, unauthorized."""
    with open_client(
        url=url, consumer_key=consumer_key, consumer_secret=consumer_secret, max_retries=1
    ) as woo:
        return _check(woo)


def _check(woo: WooClient) -> WooCheckResult:
    index = woo.discover()
    orders = woo.get_page("orders", {"per_page": 1, "_fields": "id"}, 1)  # auth + read access
    wc_version = ""
    try:
        status = woo.get("system_status", {"_fields": "environment"})
        wc_version = str(((status or {}).get("environment") or {}).get("version") or "")
    except WooError as exc:  # optional: some hosts time out building the status report
        logger.info("%s: no WooCommerce version from system_status (%s)", woo.host, exc.code)
    warnings = []
    if index.rest_route:
        warnings.append(
            "Pretty permalinks are off, so the REST API is reached through ?rest_route=. It "
            "works, but turning them on (WordPress → Settings → Permalinks) is more robust."
        )
    if not woo.uses_tls:
        warnings.append(
            "The shop is reached over plain http. Requests are signed, but order data travels "
            "unencrypted; use the https:// address if the shop has a certificate."
        )
    return WooCheckResult(
        url=woo.base_url,
        auth_method=woo.auth_method,
        rest_route=index.rest_route,
        wc_version=wc_version,
        order_count=orders.total,
        warnings=tuple(warnings),
    )


def connect_woocommerce(
    *,
    store: Store,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    register_webhooks: bool = True,
    report: Report | None = None,
) -> WooConnection:
    """Check the keys, save the connection and (unless told not to) register our webhooks.

    `report` receives one plain-language line per step (the CLI prints them). If webhook
    registration fails (e.g. read-only keys) the checked connection stays saved, with the
    error in `last_error`, and the error is raised."""
    say: Report = report or (lambda line: None)
    # One retry only: a person is waiting, and running connect again is safe (idempotent).
    with open_client(
        url=url, consumer_key=consumer_key, consumer_secret=consumer_secret, max_retries=1
    ) as woo:
        checked = _check(woo)
        auth = "HTTP Basic over https" if checked.auth_method == "basic" else "OAuth 1.0a signed"
        version = f"WooCommerce {checked.wc_version}" if checked.wc_version else "WooCommerce"
        say(f"Found {version} at {checked.url} (REST API wc/v3).")
        count = (
            "" if checked.order_count is None else f"; the shop has {checked.order_count} orders"
        )
        say(f"Keys accepted ({auth}){count}.")
        for warning in checked.warnings:
            say(f"Warning: {warning}")
        with transaction.atomic():
            saved = _save_connection(
                store=store,
                url=checked.url,
                consumer_key=consumer_key,
                consumer_secret=consumer_secret,
                wc_version=checked.wc_version,
            )
        if not register_webhooks:
            say("Webhooks not registered (--no-webhooks); changes arrive by periodic sync only.")
            return saved
        delivery_url = webhook_delivery_url(store=store)
        for problem in public_url_problems(delivery_url=delivery_url, shop_url=checked.url):
            say(
                f"Warning: the shop will not be able to deliver webhooks to {delivery_url}: "
                f"{problem}. Set AFTERCARE_PUBLIC_URL to an address the shop can reach."
            )
        try:
            _register_webhooks(woo=woo, store=store, delivery_url=delivery_url, say=say)
        except WooError as exc:
            WooConnection.objects.filter(pk=saved.pk).update(last_error=str(exc))
            raise
    return saved


def _save_connection(
    *, store: Store, url: str, consumer_key: str, consumer_secret: str, wc_version: str
) -> WooConnection:
    """Upsert the store's connection; the caller holds a transaction."""
    now = clock.now()
    previous = WooConnection.objects.select_for_update().filter(store=store).first()
    if previous is not None and previous.url != url:
        # Another shop: the webhook ids we knew belong to the old one.
        WooWebhook.objects.filter(store=store).delete()
    saved, _ = WooConnection.objects.update_or_create(
        store=store,
        defaults={
            "url": url,
            "consumer_key": consumer_key,
            "consumer_secret": consumer_secret,
            "wc_version": wc_version,
            "connected_at": now,
            "last_checked_at": now,
            "last_error": "",
        },
    )
    return saved


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _register_webhooks(*, woo: WooClient, store: Store, delivery_url: str, say: Report) -> None:
    """One active webhook per topic pointing at `delivery_url`, each with a secret we hold.

    Reuses what is there: webhooks we registered before (known ids, even if the public URL
    changed since) and webhooks already pointing at our URL (their secret is write-only in
    WooCommerce, so we set a new one). Extra copies of a topic are deleted."""
    known = {hook.woo_id: hook for hook in WooWebhook.objects.filter(store=store)}
    in_shop = woo.list_webhooks()
    ours = [h for h in in_shop if h["id"] in known or _same_url(h["delivery_url"], delivery_url)]
    kept: set[int] = set()
    for topic in WEBHOOK_TOPICS:
        candidates = sorted(
            (h for h in ours if h["topic"] == topic), key=lambda h: (h["id"] not in known, h["id"])
        )
        if candidates:
            hook = candidates[0]
            row = known.get(hook["id"])
            secret = row.secret if row is not None and row.secret else ""
            changes: dict[str, str] = {}
            if not secret:
                secret = changes["secret"] = services.new_webhook_secret()
            if hook["status"] != "active":
                changes["status"] = "active"
            if not _same_url(hook["delivery_url"], delivery_url):
                changes["delivery_url"] = delivery_url
            if changes:
                hook = woo.update_webhook(hook["id"], **changes)
            verb = "updated" if changes else "already registered"
            for extra in candidates[1:]:
                woo.delete_webhook(extra["id"])
                say(f"Deleted duplicate webhook #{extra['id']} ({topic}).")
        else:
            secret = services.new_webhook_secret()
            hook = woo.create_webhook(
                topic=topic, delivery_url=delivery_url, secret=secret, name=f"Aftercare {topic}"
            )
            verb = "registered"
        WooWebhook.objects.update_or_create(
            store=store,
            woo_id=hook["id"],
            defaults={
                "topic": topic,
                "delivery_url": delivery_url,
                "secret": secret,
                "status": hook.get("status") or "active",
            },
        )
        kept.add(int(hook["id"]))
        say(f"Webhook {topic} #{hook['id']} {verb} → {delivery_url}")
    WooWebhook.objects.filter(store=store).exclude(woo_id__in=kept).delete()


def list_shop_webhooks(*, store: Store) -> list[ShopWebhook]:
    """Every webhook the shop has that points at us or that we registered, with its status."""
    delivery_url = webhook_delivery_url(store=store)
    known = {hook.woo_id: hook for hook in WooWebhook.objects.filter(store=store)}
    with client_for_store(store=store) as woo:
        woo.discover()
        in_shop = woo.list_webhooks()
    seen = {h["id"] for h in in_shop}
    listed = [
        ShopWebhook(
            woo_id=int(h["id"]),
            topic=str(h["topic"]),
            status=str(h["status"]),
            delivery_url=str(h["delivery_url"]),
            registered=h["id"] in known,
        )
        for h in in_shop
        if h["id"] in known or _same_url(h["delivery_url"], delivery_url)
    ]
    listed += [
        ShopWebhook(row.woo_id, row.topic, "missing", row.delivery_url, registered=True)
        for row in known.values()
        if row.woo_id not in seen
    ]
    return sorted(
        listed,
        key=lambda h: (
            WEBHOOK_TOPICS.index(h.topic) if h.topic in WEBHOOK_TOPICS else 99,
            h.woo_id,
        ),
    )


def reactivate_disabled_webhooks(*, store: Store) -> list[WooWebhook]:
    """Turn back on the webhooks WooCommerce disabled after failed deliveries.

    WooCommerce disables a webhook after its 6th consecutive failure and never retries (SPEC
    §4); whatever it dropped meanwhile is caught by the REST reconcile that calls this. Paused
    webhooks were paused by a person and are left alone. Returns the re-activated rows."""
    known = {hook.woo_id: hook for hook in WooWebhook.objects.filter(store=store)}
    if not known:
        return []
    reactivated: list[WooWebhook] = []
    with client_for_store(store=store) as woo:
        woo.discover()
        in_shop = {h["id"]: h for h in woo.list_webhooks()}
        for woo_id, row in known.items():
            hook = in_shop.get(woo_id)
            status = "missing" if hook is None else str(hook["status"])
            if status == "disabled":
                hook = woo.update_webhook(woo_id, status="active")
                status = str(hook.get("status") or "active")
                reactivated.append(row)
                logger.warning("store %s: re-activated disabled webhook #%s", store.slug, woo_id)
            if row.status != status:
                row.status = status
                row.save(update_fields=["status"])
    return reactivated
