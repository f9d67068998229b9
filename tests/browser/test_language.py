"""The sidebar's language select: Korean, then Japanese; the choice sticks to the staff member
across pages and sessions."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from tests.browser.conftest import OpenTab, Tab


def _translated(text: str, language: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _choose(tab: Tab, language: str) -> None:
    select = tab.page.locator("select#language-switch, select[name=language]").first
    with tab.page.expect_navigation():
        select.select_option(language)  # onchange submits the form (POST + redirect back)
    tab.settle()


def _assert_speaks(tab: Tab, language: str) -> None:
    page = tab.page
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("select[name=language]").first).to_have_value(language)
    nav = page.locator("aside.sidebar nav")
    # Where a translation exists the page shows it; a missing one falls back to English, which
    # gettext returns too — either way the page must say what the catalogue says.
    expect(nav).to_contain_text(_translated("Overview", language))
    skip = page.locator("a.skip-link, a[href='#main']").first
    expect(skip).to_have_text(_translated("Skip to content", language))


def test_korean_then_japanese_stick_across_pages_and_sessions(
    logged_in_page: Tab, open_tab: OpenTab, owner_email: str
) -> None:
    tab = logged_in_page
    expect(tab.page.locator("html")).to_have_attribute("lang", "en")

    _choose(tab, "ko")
    _assert_speaks(tab, "ko")
    expect(tab.page.locator("select[name=language] option[value=ko]")).to_have_text("한국어")
    tab.shot("korean")

    hrefs = (
        tab.page.locator("aside.sidebar nav")
        .locator("a[href]")
        .evaluate_all("links => links.map(a => a.getAttribute('href'))")
    )
    assert reverse("dashboard:overview") in hrefs
    for href in hrefs:  # every page of the navigation, in Korean
        tab.visit(href, f"korean-{href}")
        _assert_speaks(tab, "ko")

    _choose(tab, "ja")
    _assert_speaks(tab, "ja")
    expect(tab.page.locator("select[name=language] option[value=ja]")).to_have_text("日本語")
    tab.shot("japanese")

    # The choice belongs to the person, not to the browser: a new session (English browser)
    # signs in and is still served Japanese.
    fresh = open_tab(locale="en-US")
    fresh.login(login=owner_email)
    _assert_speaks(fresh, "ja")
    fresh.shot("japanese-new-session")

    _choose(fresh, "en")
    _assert_speaks(fresh, "en")
