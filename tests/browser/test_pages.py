"""Browser tests of the dashboard pages on live Bookinfo data: overview, lists, a detail page, header banners."""

from __future__ import annotations

import re

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import take_live_snapshot

pytestmark = pytest.mark.browser


def test_overview_shows_bookinfo_healthy_then_failing_after_errors(bookinfo, live_server, page):
    from simulator.control import set_profile

    page.goto(f"{live_server.url}/")
    card = page.locator('article[data-namespace="bookinfo"]')
    card.wait_for()
    assert card.get_attribute("data-health") == "Healthy"
    assert int(card.locator("[data-workloads]").inner_text()) >= 6

    set_profile(bookinfo.url, "bookinfo", "details-v1", error_rate=0.6)
    take_live_snapshot(bookinfo, bookinfo.cluster, 30)
    page.reload()
    card = page.locator('article[data-namespace="bookinfo"]')
    assert card.get_attribute("data-health") in {"Degraded", "Failure"}
    assert int(card.locator("[data-failure]").inner_text().split()[0]) >= 1

    # The health filter is applied by htmx and lands in the URL.
    page.select_option('select[name="health"]', "Healthy")
    page.wait_for_url(re.compile(r"health=Healthy"))
    page.locator('article[data-namespace="bookinfo"]').wait_for(state="detached")


def test_workload_list_filters_and_paginates(bookinfo, live_server, page):
    from inventory.models import Workload

    Workload.objects.bulk_create(
        Workload(cluster=bookinfo.cluster, namespace="load", name=f"load-{i:03d}", kind="Deployment") for i in range(70)
    )
    page.goto(f"{live_server.url}/workloads/")
    page.locator('[data-row="bookinfo/details-v1"]').wait_for()
    assert page.locator("nav.pagination").is_visible()

    page.select_option('select[name="namespace"]', "bookinfo")
    page.wait_for_url(re.compile(r"namespace=bookinfo"))
    page.locator('[data-row^="load/"]').first.wait_for(state="detached")
    rows = page.locator("tr[data-row]")
    assert rows.count() >= 6
    assert all(r.startswith("bookinfo/") for r in rows.evaluate_all("els => els.map(e => e.dataset.row)"))

    page.goto(f"{live_server.url}/workloads/?namespace=load")
    page.locator('nav.pagination a[data-page="2"]').click()
    page.wait_for_url(re.compile(r"page=2"))
    page.locator('[data-row="load/load-069"]').wait_for()


def test_workload_detail_shows_health_pods_and_charts(bookinfo, live_server, page):
    page.goto(f"{live_server.url}/namespaces/bookinfo/workloads/details-v1/")
    assert page.locator(".detail-health").get_attribute("data-health") == "Healthy"
    assert page.locator("tr[data-pod]").count() >= 1
    assert page.locator('canvas[data-chart="in-rate"]').is_visible()
    wait_for_js(page, "document.querySelector('[data-chart-status]').textContent.includes('snapshot')", timeout=10)
    assert page.locator('[data-neighbours="inbound"] tr[data-neighbour]').count() >= 1
    page.locator("#mini-graph canvas").first.wait_for()
    page.locator('button[data-window="15m"]').click()
    page.wait_for_url(re.compile(r"window=15m"))


def test_stale_banner_when_metrics_source_fails(bookinfo, live_server, page):
    from topology.models import MetricsSourceStatus

    MetricsSourceStatus.objects.filter(cluster=bookinfo.cluster).update(
        consecutive_failures=1, source="prometheus", last_error="Prometheus: connection refused"
    )
    page.goto(f"{live_server.url}/services/")
    banner = page.locator('[data-banner="metrics"]')
    assert banner.is_visible()
    assert "Prometheus unavailable" in banner.inner_text()  # the error's text is for admins


def test_narrow_window_keeps_the_nav(bookinfo, live_server, page):
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(f"{live_server.url}/")
    for label in ("Overview", "Graph", "Workloads", "Istio config"):
        assert page.locator("nav.mainnav").get_by_role("link", name=label, exact=True).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420


def _set_visibility(page, state: str) -> None:
    page.evaluate(
        """(state) => {
             Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
             document.dispatchEvent(new Event("visibilitychange"));
           }""",
        state,
    )


def test_live_parts_refresh_through_htmx_while_the_tab_is_visible(bookinfo, live_server, page):
    from simulator.control import set_profile

    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url) if r.headers.get("hx-request") == "true" else None)
    page.clock.install()
    page.goto(f"{live_server.url}/?sort=health")
    card = page.locator('article[data-namespace="bookinfo"]')
    card.wait_for()
    assert card.get_attribute("data-health") == "Healthy"
    assert page.locator("#cards").get_attribute("data-live-refresh") == "10"

    # Hidden: time passes, a new snapshot says bookinfo fails, and nothing is fetched.
    set_profile(bookinfo.url, "bookinfo", "details-v1", error_rate=0.6)
    take_live_snapshot(bookinfo, bookinfo.cluster, 30)
    _set_visibility(page, "hidden")
    page.clock.run_for(35_000)
    assert refreshes == []
    assert card.get_attribute("data-health") == "Healthy"

    # Visible again: the cards are fetched at once, from the current URL (filters included).
    _set_visibility(page, "visible")
    wait_for_js(page, "document.querySelector('article[data-namespace=\"bookinfo\"]').dataset.health !== 'Healthy'")
    assert len(refreshes) == 1 and refreshes[0].endswith("/?sort=health")

    # Then every 10 s while visible.
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.clock.run_for(10_500)
    assert len(refreshes) == 2


def test_the_inventory_refreshes_like_every_other_page(bookinfo, live_server, page):
    from inventory.models import Workload

    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url) if r.headers.get("hx-request") == "true" else None)
    page.clock.install()
    page.goto(f"{live_server.url}/inventory/")
    page.locator('[data-workload="reviews-v3"]').wait_for()
    page.locator("details.sync-status summary").first.click()  # open it: a refresh must keep it open
    Workload.objects.filter(cluster=bookinfo.cluster, name="reviews-v3").delete()
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.clock.run_for(10_500)
    page.locator('[data-workload="reviews-v3"]').wait_for(state="detached")
    assert len(refreshes) == 1
    assert page.locator("details.sync-status").first.evaluate("d => d.open")


def test_a_filter_typed_wrong_says_so_in_place_and_recovers(bookinfo, live_server, page):
    page.goto(f"{live_server.url}/workloads/")
    page.locator('[data-row="bookinfo/details-v1"]').wait_for()
    page.fill('input[name="label"]', "bad key")
    page.locator('#list-table [data-query-error="label"]').wait_for()
    assert "key=value" in page.inner_text("#list-table")
    assert page.locator("nav.mainnav").is_visible()  # only the table was swapped
    # Chromium logs every 4xx answer; this one is expected, and the only one.
    assert len(page.console_errors) == 1 and "status of 400" in page.console_errors[0]
    page.console_errors.clear()
    page.fill('input[name="label"]', "app=details")
    page.locator('[data-row="bookinfo/details-v1"]').wait_for()
    assert page.locator("tr[data-row]").count() == 1
