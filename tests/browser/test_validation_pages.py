"""Configuration findings in Chromium, on the live Bookinfo simulator: the learner applies Istio's
``virtual-service-all-v1.yaml`` before ``destination-rule-all.yaml`` and sees where the subsets are missing.

The object page's screenshot is kept in the pytest tmp dir; with ``MESH_UI_DOCS_SCREENSHOTS=1`` it is also copied to
``docs/screenshots/`` (the one the docs show), so an ordinary run never changes a tracked file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config as k8s_config

from devtools.browser_wait import wait_for_js
from tests.istio_config.test_validation_live import apply_sample

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "validation-object-page.png"


@pytest.fixture
def routes_without_rules(bookinfo: Any) -> Any:
    """Bookinfo after ``virtual-service-all-v1.yaml`` alone: synced and checked."""
    from inventory.sync import sync_cluster
    from istio_config.validation import validate_cluster

    api = k8s_config.new_client_from_config(config_file=bookinfo.cluster.kubeconfig_path)
    apply_sample(api, "virtual-service-all-v1.yaml")
    sync_cluster(bookinfo.cluster.pk)
    validate_cluster(bookinfo.cluster)
    return bookinfo


def test_the_object_page_pins_the_missing_subset_to_its_line(routes_without_rules, live_server, page, tmp_path):
    page.goto(f"{live_server.url}/istio/?code=KIA1107")
    row = page.locator('tr[data-row="bookinfo/VirtualService/reviews"]')
    assert "1 warning" in row.inner_text()
    row.locator("a").click()
    page.wait_for_url("**/namespaces/bookinfo/istio/VirtualService/reviews/")

    pin = page.locator('tr.finding-pin[data-code="KIA1107"]')
    assert pin.is_visible()
    assert "Subset not found: reviews/v1" in pin.inner_text()
    line = pin.get_attribute("data-pinned-line")
    source = page.locator(f"#L{line} td.src")
    assert source.inner_text().strip() == "subset: v1"
    assert "flagged-warning" in (page.locator(f"#L{line}").get_attribute("class") or "")
    # The pin sits right under its line.
    assert page.locator(f"#L{line} + tr").get_attribute("data-code") == "KIA1107"

    page.locator(f'a[href="#L{line}"]').click()
    page.wait_for_url(f"**#L{line}")
    shot = tmp_path / "validation-object-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    if os.environ.get("MESH_UI_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)


def test_the_graph_marks_the_services_routed_to_missing_subsets(routes_without_rules, live_server, page):
    page.goto(f"{live_server.url}/graph/?namespaces=bookinfo&graphType=versionedApp")
    wait_for_js(page, "window.graphReady === true")
    wait_for_js(page, "Number(document.body.dataset.configBadges || 0) > 0")
    marked = page.evaluate(
        "() => cy.nodes('.config-warning')"
        ".map(n => n.data('nodeType') + ':' + (n.data('service') || n.data('workload')))"
    )
    assert "service:reviews" in marked
    assert "app:reviews-v2" in marked  # a versioned app node is its workload
    label = page.evaluate("() => cy.nodes().filter(n => n.data('service') === 'reviews')[0].data('label')")
    assert label.endswith("\nconfig")
    # The mark is an SVG icon on the node's corner (graph-icons.js), never an emoji glyph in the label.
    wait_for_js(page, "document.querySelectorAll('.graph-icons .mesh-icon-config-warning').length > 0")
    assert page.locator(".graph-icons .mesh-icon-config-warning").count() == len(marked)
