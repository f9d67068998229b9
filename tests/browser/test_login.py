"""Signing in and out through the real form in Chromium."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Tab


def test_wrong_password_is_refused_the_right_one_opens_the_overview_and_logout_ends_it(
    tab: Tab, owner_email: str
) -> None:
    page = tab.page
    tab.visit(reverse("dashboard:overview"), "anonymous-redirected-to-login")
    assert reverse("dashboard:login") in page.url  # the dashboard is closed to strangers

    page.get_by_label("Email or username").fill(owner_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(re.compile("correct", re.I))  # "enter a correct … password"
    tab.shot("wrong-password")
    assert reverse("dashboard:login") in page.url

    page.get_by_label("Email or username").fill(owner_email.upper())  # email, any case
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(reverse("dashboard:overview")) + r"$"))
    tab.settle()
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("aside.sidebar nav")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    tab.shot("overview-after-login")

    page.get_by_role("button", name=re.compile("Log out")).click()
    page.wait_for_url(re.compile(re.escape(reverse("dashboard:login"))))
    tab.shot("logged-out")
    tab.visit(reverse("dashboard:overview"), "closed-again")
    assert reverse("dashboard:login") in page.url
