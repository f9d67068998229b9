"""The customer's preferences page on a phone: opened from a signed link (the staff command
prints it), branded with the store's colour, consent toggled and saved."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from django.core.management import call_command
from playwright.sync_api import expect

from aftercare.customers import consent
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import Customer
from aftercare.stores.models import Store
from tests.browser import hostile_store
from tests.browser.conftest import PHONE, OpenTab, Tab

BRAND = "#0f7b3f"
BRAND_RGB = "rgb(15, 123, 63)"


def _link(store: Store, *, purpose: str, order: str | None = None) -> str:
    """The path of a signed link, as `aftercare portal link` prints it."""
    out = io.StringIO()
    extra = ["--order", order] if order else []
    call_command(
        "portal",
        "link",
        "--store",
        store.slug,
        "--email",
        hostile_store.HOSTILE_EMAIL,
        "--purpose",
        purpose,
        *extra,
        stdout=out,
    )
    url = out.getvalue().strip()
    assert url.startswith("http"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _assert_phone_friendly(tab: Tab) -> None:
    page = tab.page
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways on a phone: {widths}"
    expect(page.locator("h1")).to_have_count(1)
    assert page.locator("html").get_attribute("lang")
    assert page.locator("img:not([alt])").count() == 0
    for form in page.locator("form[method=post]").all():
        expect(form.locator("input[name=csrfmiddlewaretoken]")).to_have_count(1)


def _subscribed(customer: Customer) -> bool:
    state = consent.current_state(customer=customer, channel=ConsentChannel.EMAIL)
    return consent.is_subscribed(store=customer.store, state=state)


def test_preferences_link_on_a_phone_is_branded_and_saves_consent(
    open_tab: OpenTab, shop_store: Store
) -> None:
    Store.objects.filter(pk=shop_store.pk).update(brand_color=BRAND)
    hostile_store.fill_hostile_store(shop_store)
    customer = Customer.objects.get(store=shop_store, email=hostile_store.HOSTILE_EMAIL)
    before = _subscribed(customer)

    tab = open_tab(viewport=PHONE)
    page = tab.page
    tab.visit(_link(shop_store, purpose="preferences"), "preferences")
    _assert_phone_friendly(tab)
    expect(page.get_by_text(shop_store.name).first).to_be_visible()
    # Branded: the store's colour is the brand variable and paints a visible part of the page.
    assert (
        page.evaluate(
            "() => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()"
        )
        == BRAND
    )
    painted = page.locator("header, .masthead, button").evaluate_all(
        f"""els => els.filter(e => getComputedStyle(e).backgroundColor === '{BRAND_RGB}'
                              && e.getBoundingClientRect().height > 0).length"""
    )
    assert painted > 0, "nothing on the page wears the store's colour"
    # The address is masked: a forwarded link does not reveal it.
    expect(page.locator("main")).not_to_contain_text(hostile_store.HOSTILE_EMAIL)

    email_box = page.get_by_role("checkbox").first
    expect(email_box).to_be_checked(checked=before)
    email_box.click()  # a thumb on a phone: the whole label is a target
    expect(email_box).to_be_checked(checked=not before)
    tab.shot("toggled")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Save preferences", re.I)).click()
    tab.settle()
    tab.shot("saved")
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("checkbox").first).to_be_checked(checked=not before)
    customer.refresh_from_db()
    assert _subscribed(customer) is (not before)

    # …and back again, from a fresh visit of the same link.
    page.get_by_role("checkbox").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Save preferences", re.I)).click()
    tab.settle()
    customer.refresh_from_db()
    assert _subscribed(customer) is before
    _assert_phone_friendly(tab)


def test_order_page_on_a_phone_shows_hostile_line_names_as_text(
    open_tab: OpenTab, shop_store: Store
) -> None:
    hostile_store.fill_hostile_store(shop_store)
    tab = open_tab(viewport=PHONE)
    tab.visit(
        _link(shop_store, purpose="order", order=str(hostile_store.HOSTILE_ORDER_ID)), "order"
    )
    _assert_phone_friendly(tab)
    expect(tab.page.locator("main")).to_contain_text(hostile_store.SVG)  # shown, not parsed
    assert tab.page.locator("svg[onload], img[src=x], [onerror]").count() == 0


def test_a_tampered_link_is_refused_without_saying_why(
    open_tab: OpenTab, shop_store: Store
) -> None:
    hostile_store.fill_hostile_store(shop_store)
    path = _link(shop_store, purpose="preferences")
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    tab = open_tab(viewport=PHONE)
    tab.expect_console_error(r"status of 404")
    response = tab.visit(tampered, "tampered")
    assert response.status == 404
    expect(tab.page.locator("body")).not_to_contain_text(shop_store.name)
    expect(tab.page.get_by_role("checkbox")).to_have_count(0)
