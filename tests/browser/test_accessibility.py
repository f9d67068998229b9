"""WCAG 2.1 A/AA checks with axe-core (the engine behind Lighthouse's accessibility audit) on
every kind of page, in real Chromium: colour contrast, labels, landmarks, names of controls…

The issue asks for WCAG AA contrast and keyboard navigation; axe checks what can be checked by
machine, on the rendered page (styles applied, charts drawn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management import call_command
from django.urls import reverse

from aftercare.orders.models import Order
from aftercare.stores.models import StaffRole, Store
from tests.browser.conftest import PHONE, OpenTab, StaffMaker, Tab
from tests.browser.demo_data import repeat_customer

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
RUN_AXE = """async () => {
    const result = await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        resultTypes: ['violations'],
    });
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
    }));
}"""


def _violations(tab: Tab) -> list[dict[str, Any]]:
    tab.page.add_script_tag(content=AXE.read_text())
    return list(tab.page.evaluate(RUN_AXE))


def test_dashboard_pages_meet_wcag_aa(tab: Tab, make_staff: StaffMaker) -> None:
    call_command("demo", "--store", "demo", "--customers", "120", "--seed", "3")
    store = Store.objects.get(slug="demo")
    make_staff(store=store, email="owner@demo.example", role=StaffRole.OWNER)
    customer = repeat_customer(store)
    order = Order.objects.filter(store=store, customer=customer).first()
    assert order is not None
    pages = {
        "login": None,
        "overview": reverse("dashboard:overview"),
        "customers": reverse("dashboard:customers"),
        "customer-360": reverse("dashboard:customer", args=[customer.pk]),
        "orders": reverse("dashboard:orders"),
        "order": reverse("dashboard:order", args=[order.pk]),
        "settings": reverse("dashboard:settings"),
        "templates": reverse("dashboard:templates"),
        "template-editor": reverse("dashboard:template", args=["thank-you", "en", "email"]),
    }
    found: dict[str, list[dict[str, Any]]] = {}
    tab.visit(reverse("dashboard:login"), "login")
    found["login"] = _violations(tab)
    tab.login(login="owner@demo.example")
    for name, url in pages.items():
        if url is None:
            continue
        tab.visit(url, name)
        tab.page.wait_for_timeout(800)  # charts finish their first paint
        found[name] = _violations(tab)
    failing = {name: v for name, v in found.items() if v}
    assert not failing, failing
    # The check itself works: a planted low-contrast text and an unlabeled field are caught.
    tab.page.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<p style="color:#bbb;background:#fff">faint</p><input type="text">')""")
    planted = {v["id"] for v in _violations(tab)}
    assert {"color-contrast", "label"} <= planted, planted


def test_customer_pages_meet_wcag_aa(open_tab: OpenTab, shop_store: Store) -> None:
    """The portal in the store's own colour (here a light one: the text on it must still pass).
    Its CSP allows no script at all, so this context bypasses CSP to run axe."""
    tab = open_tab(viewport=PHONE, bypass_csp=True)
    from io import StringIO

    from tests.portal.factories import CustomerFactory, OrderFactory  # the portal's own

    shop_store.brand_color = "#ffd400"
    shop_store.save(update_fields=["brand_color"])
    customer = CustomerFactory(store=shop_store, email="ann@example.com", phone="+821012345678")
    order = OrderFactory(store=shop_store, customer=customer)
    for purpose in ("preferences", "order"):
        out = StringIO()
        args = ["portal", "link", "--store", shop_store.slug, "--email", "ann@example.com",
                "--purpose", purpose]
        if purpose == "order":
            args += ["--order", order.number]
        call_command(*args, stdout=out)
        link = out.getvalue().strip().splitlines()[-1]
        tab.page.goto(tab.url(urlsplit(link).path))
        tab.shot(f"portal-{purpose}")
        assert not _violations(tab), purpose
