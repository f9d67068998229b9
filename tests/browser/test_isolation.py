"""Store isolation in the browser: the pages of another store's customers and orders do not
exist for a manager of this store (404, never 403)."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from aftercare.customers.models import Customer
from aftercare.orders.models import Order
from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole
from tests.browser.conftest import OpenTab, StaffMaker
from tests.browser.crawl import crawl
from tests.browser.demo_data import DEMO_OWNER, build_demo


def test_a_manager_of_store_a_gets_404_on_store_b_pages(
    open_tab: OpenTab, make_staff: StaffMaker
) -> None:
    store_b = build_demo(make_staff, slug="demo", customers=40)
    store_a = store_services.create_store(slug="acme", name="Acme Outfitters")
    make_staff(store=store_a, email="manager@acme.example", role=StaffRole.MANAGER)

    # Store B's owner walks their dashboard: every page that names one of B's customers,
    # orders or products by id is a URL store A's manager must not be able to open.
    owner = open_tab()
    owner.login(login=DEMO_OWNER)
    visited = [
        url
        for start in (reverse("dashboard:customers"), reverse("dashboard:orders"))
        for url in crawl(owner, start=start, on_page=lambda tab, url: None, max_pages=14).visited
    ]
    ids = {
        str(pk)
        for model in (Customer, Order)
        for pk in model.objects.filter(store=store_b).values_list("pk", flat=True)
    }
    private = sorted(
        url for url in visited if any(segment in ids for segment in re.findall(r"/(\d+)/", url))
    )
    customer_pages = [u for u in private if "/customers/" in u]
    order_pages = [u for u in private if "/orders/" in u]
    assert customer_pages and order_pages, f"no customer or order page of B found: {private}"

    manager = open_tab()
    manager.login(login="manager@acme.example")
    manager.expect_console_error(r"status of 404")  # the document itself answers 404
    for url in private[:20]:
        response = manager.visit(url, f"b-{url.removeprefix(manager.base_url)}")
        assert response.status == 404, f"{url} answered {response.status} to store A's manager"
        expect(manager.page.locator("body")).not_to_contain_text("Ember")  # B's name: not shown
    # The same manager opens their own store normally.
    assert manager.visit(reverse("dashboard:customers"), "own-customers").status == 200
