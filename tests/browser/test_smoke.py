"""The browser harness itself: Chromium loads a page served by the live server, without console errors."""

import pytest

pytestmark = pytest.mark.browser


def test_inventory_page_renders_in_chromium(bookinfo, live_server, page):
    page.goto(f"{live_server.url}/inventory/")
    page.wait_for_selector('[data-workload="reviews-v3"]')
    assert "istio-injection: enabled" in page.content()
    assert page.locator("table.traffic").count() >= 1
