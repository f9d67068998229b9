"""Keyboard use and the tablet layout."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from aftercare.stores.models import Store
from tests.browser import hostile_store
from tests.browser.conftest import TABLET, OpenTab, Tab

FOCUSED_JS = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        tag: el.tagName, href: el.getAttribute('href') || '', text: el.innerText || '',
        inNav: !!el.closest('nav'), isSkip: el.matches('a.skip-link, a[href="#main"]'),
        outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
        boxShadow: style.boxShadow,
        visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
                 && box.top < innerHeight && box.left < innerWidth,
    };
}"""


def _focus_is_visible(focused: dict[str, object]) -> bool:
    outlined = focused["outlineStyle"] != "none" and float(str(focused["outlineWidth"])) >= 2
    return bool(focused["visible"]) and (outlined or focused["boxShadow"] not in ("", "none"))


def test_tab_reaches_the_skip_link_first_then_the_navigation_with_visible_focus(
    logged_in_page: Tab,
) -> None:
    tab = logged_in_page
    page = tab.page
    tab.visit(reverse("dashboard:overview"), "overview")

    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED_JS)
    assert first["isSkip"], f"the first Tab stop is not the skip link: {first}"
    assert _focus_is_visible(first), f"the focused skip link is not visibly focused: {first}"
    tab.shot("skip-link-focused")

    for _ in range(3):  # the brand link may come before the menu
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused["inNav"]:
            break
    assert focused["inNav"], f"Tab never reached the navigation: {focused}"
    assert _focus_is_visible(focused), f"no visible focus on the menu: {focused}"
    tab.shot("nav-focused")

    # The skip link does what it says: Enter moves focus to the main content.
    tab.visit(reverse("dashboard:overview"), "overview-again")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.parametrize(
    "url_name", ["dashboard:overview", "dashboard:customers", "dashboard:orders"]
)
def test_tablet_width_keeps_the_navigation_and_never_scrolls_sideways(
    open_tab: OpenTab, owner_email: str, shop_store: Store, url_name: str
) -> None:
    hostile_store.fill_hostile_store(shop_store)  # long unbroken customer text in the tables
    tab = open_tab(viewport=TABLET)
    tab.login(login=owner_email)
    try:
        path = reverse(url_name)
    except NoReverseMatch:
        pytest.fail(f"the dashboard has no page {url_name} yet")
    tab.visit(path, f"tablet-{url_name}")
    page = tab.page
    nav = page.locator("aside.sidebar nav")
    expect(nav).to_be_visible()
    for link in nav.locator("a").all():
        expect(link).to_be_in_viewport()
    widths = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, view: innerWidth,"
        " body: document.body.scrollWidth})"
    )
    assert widths["doc"] <= widths["view"] and widths["body"] <= widths["view"], (
        f"{path} scrolls sideways at {TABLET['width']} px: {widths}"
    )
