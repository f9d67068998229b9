"""Find a customer by email in the customer list and open their 360° view."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from aftercare.orders.models import Order
from tests.browser.conftest import StaffMaker, Tab
from tests.browser.demo_data import DEMO_OWNER, build_demo, repeat_customer


def test_search_by_email_then_open_the_360_view(tab: Tab, make_staff: StaffMaker) -> None:
    store = build_demo(make_staff)
    customer = repeat_customer(store)
    name = f"{customer.first_name} {customer.last_name}".strip()
    orders = list(
        Order.objects.filter(customer=customer)
        .order_by("-date_created")
        .values_list("number", flat=True)[:3]
    )
    tab.login(login=DEMO_OWNER)
    page = tab.page

    tab.visit(reverse("dashboard:customers"), "customers")
    search = page.locator("input[name=q]").first
    expect(search).to_be_visible()
    search.fill(customer.email.upper())  # people type emails in any case
    with page.expect_navigation():
        search.press("Enter")
    tab.settle()
    tab.shot("search-results")
    assert "q=" in page.url

    main = page.locator("main")
    expect(main).to_contain_text(customer.email)
    link = main.locator(f"a[href$='/{customer.pk}/']").first
    expect(link).to_be_visible()
    # The search narrowed the list: no other customer's page is linked from the results.
    others = main.locator("a[href]").evaluate_all(
        "els => els.map(a => a.getAttribute('href')).filter(h => /\\/customers\\/\\d+\\/$/.test(h))"
    )
    assert set(others) == {link.get_attribute("href")}, others

    # …and the same address works when typed (or shared) as a link.
    tab.visit(reverse("dashboard:customers") + f"?q={customer.email}", "search-by-url")
    expect(page.locator(f"main a[href$='/{customer.pk}/']").first).to_be_visible()

    with page.expect_navigation():
        page.locator(f"main a[href$='/{customer.pk}/']").first.click()
    tab.settle()
    tab.shot("customer-360")
    assert re.search(rf"/{customer.pk}/$", page.url)
    expect(page.locator("h1")).to_contain_text(name)
    expect(main).to_contain_text(customer.email)
    for number in orders:
        expect(main).to_contain_text(re.compile(rf"#?{re.escape(number)}\b"))
