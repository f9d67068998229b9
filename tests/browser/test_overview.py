"""The overview of the demo store draws its charts (Chart.js on <canvas>) in a real browser."""

from __future__ import annotations

from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from aftercare.stores.models import StaffRole, Store
from tests.browser.conftest import StaffMaker, Tab

# For each <canvas>: its drawn size, whether Chart.js owns it, and how many pixels are painted
# (alpha > 0) — read back from the bitmap, so an empty or failed chart counts as blank.
CANVASES_JS = """() => Array.from(document.querySelectorAll('canvas')).map(c => {
    const box = c.getBoundingClientRect();
    let painted = 0;
    if (c.width && c.height) {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    }
    return {
        width: box.width, height: box.height, painted,
        chart: !!(window.Chart && window.Chart.getChart && window.Chart.getChart(c)),
        label: c.getAttribute('aria-label') || '',
    };
})"""


def test_overview_draws_charts_from_the_demo_history(tab: Tab, make_staff: StaffMaker) -> None:
    call_command("demo", "--store", "demo", "--customers", "200", "--seed", "1")
    store = Store.objects.get(slug="demo")
    make_staff(store=store, email="owner@demo.example", role=StaffRole.OWNER)
    tab.login(login="owner@demo.example")
    tab.visit(reverse("dashboard:overview"), "overview")
    page = tab.page

    expect(page.locator("canvas").first).to_be_visible()
    # Chart.js animates; wait until every chart it owns has painted something.
    page.wait_for_function(
        f"() => ({CANVASES_JS})().some(c => c.chart && c.painted > 0)", timeout=10_000
    )
    page.wait_for_timeout(1_200)  # let the animations finish before the screenshot
    tab.shot("overview-charts")
    canvases = page.evaluate(CANVASES_JS)
    charts = [c for c in canvases if c["chart"]]
    assert charts, f"no canvas is a Chart.js chart: {canvases}"
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["painted"] > 500, f"a chart is (nearly) blank: {chart}"
