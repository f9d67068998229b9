"""Every dashboard page a user can reach, with a store full of hostile customer text: no script
runs, no dialog opens, no console error, every POST form carries and needs the CSRF token, one
<h1>, a language, alt text on every image."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from aftercare.customers.models import Customer
from aftercare.ingest.models import WebhookDelivery
from aftercare.orders.models import Order
from aftercare.stores.models import Store
from tests.browser import hostile_store
from tests.browser.conftest import OpenTab, Tab
from tests.browser.crawl import crawl

URL_SAFE = ":/?&=%#+;,@"


def _check_page(tab: Tab, url: str) -> None:
    page = tab.page
    assert not tab.dialogs, f"{url}: a dialog opened: {tab.dialogs}"
    assert page.evaluate("() => typeof window.__xss") == "undefined", f"{url}: a payload ran"
    assert not tab.page_errors, f"{url}: JavaScript errors {tab.page_errors}"
    assert not tab.unexpected_console_errors(), f"{url}: {tab.unexpected_console_errors()}"
    lang = page.locator("html").get_attribute("lang")
    assert lang, f"{url}: <html> has no lang"
    expect(page.locator("h1"), f"{url}: exactly one <h1>").to_have_count(1)
    no_alt = page.locator("img:not([alt])").evaluate_all("els => els.map(e => e.outerHTML)")
    assert not no_alt, f"{url}: images without alt: {no_alt}"
    forms = page.locator("form").evaluate_all(
        """forms => forms
            .filter(f => (f.getAttribute('method') || '').toLowerCase() === 'post')
            .filter(f => !f.querySelector('input[name=csrfmiddlewaretoken]'))
            .map(f => f.getAttribute('action') || '(this page)')"""
    )
    assert not forms, f"{url}: POST forms without csrfmiddlewaretoken: {forms}"
    # A javascript: link would run on click; hostile meta must never become one.
    js_links = page.locator("a[href]").evaluate_all(
        "els => els.map(e => e.getAttribute('href')).filter(h => /^\\s*javascript:/i.test(h))"
    )
    assert not js_links, f"{url}: javascript: links {js_links}"
    # Elements the payloads would create if they were parsed as HTML.
    injected = page.locator("img[src=x], svg[onload], [onerror]").count()
    assert injected == 0, f"{url}: {injected} injected elements"


def test_crawl_every_dashboard_page_with_hostile_customer_text(
    logged_in_page: Tab, shop_store: Store
) -> None:
    hostile_store.fill_hostile_store(shop_store)
    customer = Customer.objects.get(store=shop_store, email=hostile_store.HOSTILE_EMAIL)
    assert customer.first_name == hostile_store.HOSTILE_FIRST_NAME
    order = Order.objects.get(store=shop_store, external_id=hostile_store.HOSTILE_ORDER_ID)
    assert hostile_store.SCRIPT in order.customer_note
    assert WebhookDelivery.objects.filter(store=shop_store, status="processed").count() == 4

    tab = logged_in_page
    result = crawl(tab, start=reverse("dashboard:overview"), on_page=_check_page)

    assert all(status == 200 for status in result.statuses.values()), {
        url: s for url, s in result.statuses.items() if s != 200
    }
    paths = {url.removeprefix(tab.base_url) for url in result.visited}
    for name in ("dashboard:customers", "dashboard:orders", "dashboard:settings"):
        try:
            wanted = reverse(name)
        except NoReverseMatch:
            pytest.fail(f"the dashboard has no page {name} yet")
        assert wanted in paths, f"the crawl never reached {name}: {sorted(paths)}"
    # Not vacuous: the hostile text was on screen, as text, on the pages that show it.
    showing = [url for url, text in result.texts.items() if hostile_store.IMG in text]
    assert any(f"/{customer.pk}/" in url for url in showing), (
        f"the customer's name is shown as text on no customer page: {showing}"
    )
    assert any(f"/{order.pk}/" in url for url in showing), (
        f"the hostile order is shown on no order page: {showing}"
    )

    # Every POST form refuses a request without the CSRF token, even with a valid session.
    actions = {form.action: form for form in result.post_forms}
    assert actions, "no POST form found (the sidebar alone has three)"
    for action, form in sorted(actions.items()):
        response = tab.context.request.post(
            quote(action, safe=URL_SAFE), form=dict(form.fields), max_redirects=0
        )
        assert response.status == 403, (
            f"POST {action} (form on {form.page}) without a CSRF token answered {response.status}"
        )
    # …and the session was still valid all along (the 403s were CSRF, not a logged-out user).
    assert tab.context.request.get(reverse("dashboard:overview"), max_redirects=0).status == 200


def test_pages_declare_an_icon_so_browsers_do_not_fetch_a_missing_favicon(
    logged_in_page: Tab, open_tab: OpenTab
) -> None:
    anonymous = open_tab()
    for tab, path in (
        (anonymous, reverse("dashboard:login")),
        (logged_in_page, reverse("dashboard:overview")),
    ):
        tab.visit(path, f"icon-{path}")
        icon = tab.page.locator("link[rel~=icon]")
        expect(icon, f"{path} declares no <link rel=icon>").to_have_count(1)
        href = icon.get_attribute("href") or ""
        assert tab.context.request.get(tab.url(href) if href.startswith("/") else href).ok
        assert not [e for e in tab.console_errors if "favicon" in e], tab.console_errors
