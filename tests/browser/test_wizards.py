"""The routing wizards in Chromium on the live Bookinfo simulator: traffic shifting with sliders that keep 100, request
routing for jason, "Remove routing", and the "Preview on graph" hand-over; after each apply the simulator's traffic
(its own sidecar telemetry for reviews v1/v2/v3) follows the new routing.

Writes go through the real ``kubernetes`` client to the simulator, whose traffic engine reads the routing it
holds on every step.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_yaml_editor import editor_page, editor_user
from tests.support.reviews_traffic import reviews_traffic

# serial: under 3 parallel workers an apply twice took over 30 s and once over 90 s, then succeeded (cause not found).
pytestmark = [pytest.mark.browser, pytest.mark.serial]

SERVICE_PAGE = "/namespaces/bookinfo/services/reviews/?cluster=bookinfo"
__all__ = ["editor_page", "editor_user"]  # fixtures

WEIGHTS = "[...document.querySelectorAll('input[data-weight]')].map((i) => Number(i.value))"
#: Simulated seconds of traffic after each change: 20 requests/s, so 1200 user requests.
STEP_SECONDS = 60


def cluster_copy(sim: Any, plural: str, name: str) -> dict[str, Any] | None:
    """The object as the simulator holds it, through the kubernetes client; None when it is not there."""
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=sim.cluster.kubeconfig_path))
    try:
        found: dict[str, Any] = api.get_namespaced_custom_object("networking.istio.io", "v1", "bookinfo", plural, name)
    except k8s.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def traffic_after_step(sim: Any) -> dict[str, float]:
    """The requests each reviews version received during one step of :data:`STEP_SECONDS`."""
    before = reviews_traffic(sim)
    sim.traffic.step(STEP_SECONDS)
    after = reviews_traffic(sim)
    return {version: after[version] - before[version] for version in after}


def open_wizard(page: Any, live_server: Any, link: str) -> None:
    """Open the service page at #wizards (its Routing menu opens) and follow one of the menu's links."""
    page.goto(f"{live_server.url}{SERVICE_PAGE}#wizards")
    wait_for_js(page, "document.getElementById('wizards')?.open === true")
    page.locator(f'#wizards [data-wizard-link="{link}"]').click()
    if link != "remove":
        wait_for_js(page, "document.body?.dataset.wizardReady === 'true'")


def wait_for_service_page(page: Any) -> None:
    """Wait for the service page an apply redirects to. An apply checks both objects, with the server's dry run, before
    writing each: on a machine running other tests in parallel it can take longer than Playwright's 30 s default,
    and only the page's HTML is needed (its charts may still be loading)."""
    page.wait_for_url("**/services/reviews/?cluster=bookinfo", wait_until="domcontentloaded", timeout=90_000)


def preview_and_apply(page: Any, screenshot: str) -> None:
    """Preview (both objects pass the checks; a screenshot of the preview is left behind), then apply."""
    page.locator("[data-wizard-preview]").click()
    wait_for_js(page, "!!document.querySelector('[data-wizard-plan]') && document.body?.dataset.wizardReady === 'true'")
    assert page.locator("[data-write]").count() == 2
    assert page.locator("[data-write-clean]").count() == 2, page.locator("[data-wizard-plan]").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{screenshot}.png"), full_page=True)
    page.locator("[data-wizard-apply]").click()
    wait_for_service_page(page)
    assert "applied to reviews" in page.locator("[data-message]").inner_text()


def move_slider(page: Any, subset: str, value: int) -> list[int]:
    page.locator(f'input[data-weight-slider="{subset}"]').fill(str(value))
    weights: list[int] = page.evaluate(WEIGHTS)
    assert sum(weights) == 100, weights
    assert page.locator("[data-weight-total]").inner_text() == "100"
    return weights


def test_traffic_shifting_with_sliders_that_keep_100_moves_the_traffic(bookinfo, live_server, editor_page):
    page = editor_page
    before = traffic_after_step(bookinfo)
    assert all(count > 250 for count in before.values()), before  # no routing yet: every version gets a third

    open_wizard(page, live_server, "traffic-shifting")
    wait_for_js(page, "document.querySelector('[data-weights]')?.dataset.slidersReady === 'true'")
    assert page.evaluate(WEIGHTS) == [34, 33, 33]
    assert move_slider(page, "v1", 50) == [50, 25, 25]
    assert move_slider(page, "v2", 0) == [67, 0, 33]
    assert move_slider(page, "v3", 50) == [50, 0, 50]
    preview_and_apply(page, "wizard_traffic_shifting_preview")

    rule = cluster_copy(bookinfo, "virtualservices", "reviews")
    assert rule["spec"]["http"][0]["route"] == [
        {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
        {"destination": {"host": "reviews", "subset": "v3"}, "weight": 50},
    ]
    after = traffic_after_step(bookinfo)
    assert after["v2"] == 0, after
    total = sum(after.values())
    assert 0.4 <= after["v1"] / total <= 0.6 and 0.4 <= after["v3"] / total <= 0.6, after


def test_request_routing_for_jason_then_remove_routing(bookinfo, live_server, editor_page):
    page = editor_page
    open_wizard(page, live_server, "request-routing")
    page.locator("#id_rule0_field").select_option("header")
    page.locator("#id_rule0_name").fill("end-user")
    page.locator("#id_rule0_kind").select_option("exact")
    page.locator("#id_rule0_value").fill("jason")
    page.locator("#id_rule0_subset").select_option("v2")
    page.locator("#id_default_subset").select_option("v1")
    preview_and_apply(page, "wizard_request_routing_preview")

    routed = traffic_after_step(bookinfo)
    total = sum(routed.values())
    assert routed["v3"] == 0, routed
    assert 0.05 <= routed["v2"] / total <= 0.16, routed  # the simulator's users are jason 10% of the time
    assert routed["v1"] == total - routed["v2"]

    open_wizard(page, live_server, "remove")
    assert page.locator("[data-write]").count() == 2
    page.locator("[data-remove-routing]").click()
    wait_for_service_page(page)
    assert "removed" in page.locator("[data-message]").inner_text()
    assert cluster_copy(bookinfo, "virtualservices", "reviews") is None
    assert cluster_copy(bookinfo, "destinationrules", "reviews") is None
    spread = traffic_after_step(bookinfo)
    assert all(count > 250 for count in spread.values()), spread


def test_preview_on_graph_hands_the_objects_to_the_graph_page(bookinfo, live_server, editor_page):
    page = editor_page
    open_wizard(page, live_server, "mirroring")
    page.locator("#id_route_subset").select_option("v1")
    page.locator("#id_mirror_subset").select_option("v3")
    page.locator("#id_percent").fill("25")
    page.locator("[data-wizard-preview]").click()
    wait_for_js(page, "!!document.querySelector('[data-whatif-button]') && document.body?.dataset.wizardReady")
    # Editing the form after the preview disables Apply until the next preview.
    assert page.locator("[data-wizard-apply]").is_enabled()
    page.locator("#id_percent").fill("30")
    wait_for_js(page, "document.querySelector('[data-wizard-apply]').disabled")
    assert page.locator("[data-stale-preview]").is_visible()

    page.locator("[data-whatif-button]").click()
    page.wait_for_url("**/graph/?namespaces=bookinfo&whatif=1&cluster=bookinfo")  # whatIfGraphUrl's query
    handed = page.evaluate("JSON.parse(sessionStorage.getItem('mesh-ui.whatif'))")
    assert handed["cluster"] == "bookinfo" and handed["namespace"] == "bookinfo" and handed["source"] == "wizard"
    route = next(o for o in handed["objects"] if o["kind"] == "VirtualService")
    assert route["spec"]["http"][0]["mirror"] == {"host": "reviews", "subset": "v3"}
    assert route["spec"]["http"][0]["mirrorPercentage"] == {"value": 25}  # what was previewed, not the edit
    assert cluster_copy(bookinfo, "virtualservices", "reviews") is None
