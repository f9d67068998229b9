"""Connecting WooCommerce from the settings pages, against a local WooCommerce-shaped server:
a wrong key gets a clear error and saves nothing; the right one connects and lists the
webhooks it registered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from aftercare.stores.connection import WEBHOOK_TOPICS
from aftercare.stores.models import Store, WooConnection, WooWebhook
from tests.browser.conftest import Tab
from tests.woo_server import WooServer

SUBMIT = re.compile(r"connect|check|test|continue|next|confirm|register|save", re.I)
NOT_SUBMIT = re.compile(r"disconnect|cancel|back|log out|remove|delete", re.I)


@pytest.fixture
def shop() -> Iterator[WooServer]:
    with WooServer(orders=12, customers=3, products=2) as server:
        yield server


def _wizard_form(page: Page) -> Locator:
    key = page.get_by_label(re.compile(r"consumer key", re.I))
    if not key.count():  # the settings page links to the wizard
        start = (
            page.locator("main")
            .get_by_role("link", name=re.compile(r"connect|woocommerce", re.I))
            .first
        )
        with page.expect_navigation():
            start.click()
    expect(key).to_be_visible()
    return page.locator("form").filter(has=key)


def _fill_and_submit(tab: Tab, *, url: str, key: str, secret: str, slug: str) -> None:
    page = tab.page
    form = _wizard_form(page)
    form.get_by_label(re.compile(r"url|address", re.I)).first.fill(url)
    form.get_by_label(re.compile(r"consumer key", re.I)).fill(key)
    form.get_by_label(re.compile(r"consumer secret", re.I)).fill(secret)
    tab.shot(f"{slug}-filled")
    button = form.get_by_role("button", name=SUBMIT).first
    with page.expect_navigation():
        button.click()
    tab.settle()
    tab.shot(f"{slug}-submitted")


def _topics_listed(text: str) -> set[str]:
    found = set()
    for topic in WEBHOOK_TOPICS:
        resource, event = topic.split(".")
        if re.search(rf"{resource}[\s._-]+{event}", text, re.I):
            found.add(topic)
    return found


def test_wrong_key_is_explained_right_key_connects_and_lists_the_webhooks(
    logged_in_page: Tab, shop: WooServer, shop_store: Store
) -> None:
    tab = logged_in_page
    page = tab.page
    tab.visit(reverse("dashboard:settings"), "settings")

    _fill_and_submit(
        tab, url=shop.url, key="ck_" + "0" * 40, secret=shop.consumer_secret, slug="wrong-key"
    )
    error = page.locator("main").locator("[role=alert], .notice.error, .errorlist").first
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile(r"consumer key", re.I))  # says what is wrong
    assert not WooConnection.objects.filter(store=shop_store).exists()
    # The typed address survives the error; the secret is never echoed back into the page.
    expect(_wizard_form(page).get_by_label(re.compile(r"url|address", re.I)).first).to_have_value(
        shop.url
    )
    assert shop.consumer_secret not in page.content()

    _fill_and_submit(
        tab, url=shop.url, key=shop.consumer_key, secret=shop.consumer_secret, slug="right-key"
    )
    main = page.locator("main")
    for step in range(3):  # a wizard may check first, then ask to confirm
        if _topics_listed(main.inner_text()):
            break
        buttons = [
            b
            for b in main.get_by_role("button", name=SUBMIT).all()
            if b.is_visible() and not NOT_SUBMIT.search(b.inner_text())
        ]
        assert buttons, f"step {step}: no way forward and no webhooks listed"
        with page.expect_navigation():
            buttons[0].click()
        tab.settle()
        tab.shot(f"step-{step + 2}")
    tab.shot("connected")

    saved = WooConnection.objects.get(store=shop_store)
    assert saved.url == shop.url and saved.consumer_key == shop.consumer_key
    assert WooWebhook.objects.filter(store=shop_store).count() == len(WEBHOOK_TOPICS)
    assert len(shop.webhook_posts) == len(WEBHOOK_TOPICS)
    assert _topics_listed(main.inner_text()) == set(WEBHOOK_TOPICS)
    assert shop.consumer_secret not in page.content()
