"""Each remaining routing wizard once in Chromium on the live Bookinfo simulator (traffic shifting, request routing
and "Remove routing" are in ``test_wizards.py``): fault injection, timeouts and retries, circuit breaking and
mirroring are filled in, previewed and applied, and the objects the cluster then holds are read back through the
``kubernetes`` client; the fault's abort also shows in the simulator's traffic.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.test_wizards import cluster_copy, open_wizard, traffic_after_step, wait_for_service_page
from tests.browser.test_yaml_editor import editor_page, editor_user

pytestmark = [pytest.mark.browser, pytest.mark.serial]  # as test_wizards.py

__all__ = ["editor_page", "editor_user"]  # fixtures


def fill_preview_and_apply(page: Any, fields: dict[str, str], writes: int) -> None:
    """Fill the wizard's fields (inputs and selects by name), preview (every object passes the checks), apply."""
    for name, value in fields.items():
        field = page.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.locator("[data-wizard-preview]").click()
    wait_for_js(page, "!!document.querySelector('[data-wizard-plan]') && document.body?.dataset.wizardReady === 'true'")
    plan = page.locator("[data-wizard-plan]").inner_text()
    assert page.locator("[data-write]").count() == writes, plan
    assert page.locator("[data-write-clean]").count() == writes, plan
    page.locator("[data-wizard-apply]").click()
    wait_for_service_page(page)
    assert "applied to reviews" in page.locator("[data-message]").inner_text()


def test_fault_injection_aborts_every_request_to_reviews(bookinfo, live_server, editor_page):
    assert sum(traffic_after_step(bookinfo).values()) > 1000  # before: every user request reaches reviews
    open_wizard(editor_page, live_server, "fault-injection")
    fill_preview_and_apply(editor_page, {"abort_percent": "100", "abort_status": "503", "route_subset": "v1"}, 2)
    route = cluster_copy(bookinfo, "virtualservices", "reviews")["spec"]["http"][0]
    assert route["fault"]["abort"] == {"httpStatus": 503, "percentage": {"value": 100.0}}
    # Aborted by the caller's sidecar: no request reaches any reviews version.
    assert sum(traffic_after_step(bookinfo).values()) == 0


def test_timeouts_and_retries_land_on_the_route(bookinfo, live_server, editor_page):
    open_wizard(editor_page, live_server, "timeouts-retries")
    fields = {"timeout": "10s", "attempts": "3", "per_try_timeout": "2s", "retry_on": "5xx,reset"}
    fill_preview_and_apply(editor_page, fields, 2)
    route = cluster_copy(bookinfo, "virtualservices", "reviews")["spec"]["http"][0]
    assert route["timeout"] == "10s"
    assert route["retries"] == {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset"}


def test_circuit_breaking_writes_the_destination_rule_only(bookinfo, live_server, editor_page):
    open_wizard(editor_page, live_server, "circuit-breaking")
    fields = {"max_connections": "1", "consecutive_5xx_errors": "1", "interval": "1s", "base_ejection_time": "30s"}
    fill_preview_and_apply(editor_page, fields, 1)
    policy = cluster_copy(bookinfo, "destinationrules", "reviews")["spec"]["trafficPolicy"]
    assert policy["connectionPool"]["tcp"]["maxConnections"] == 1
    assert policy["outlierDetection"]["consecutive5xxErrors"] == 1
    assert policy["outlierDetection"]["interval"] == "1s"
    assert cluster_copy(bookinfo, "virtualservices", "reviews") is None


def test_mirroring_routes_to_one_subset_and_mirrors_to_another(bookinfo, live_server, editor_page):
    open_wizard(editor_page, live_server, "mirroring")
    fill_preview_and_apply(editor_page, {"route_subset": "v1", "mirror_subset": "v3", "percent": "50"}, 2)
    route = cluster_copy(bookinfo, "virtualservices", "reviews")["spec"]["http"][0]
    assert route["route"] == [{"destination": {"host": "reviews", "subset": "v1"}}]
    assert route["mirror"] == {"host": "reviews", "subset": "v3"}
    assert route["mirrorPercentage"] == {"value": 50.0}
    served = traffic_after_step(bookinfo)
    assert served["v1"] > 0 and served["v2"] == 0, served
