"""Two clusters in Chromium: the graph, the lists, the overview and the inventory follow the header's choice.

Each cluster is its own Bookinfo simulator, synced and snapshotted as in production; the second one runs Bookinfo
in the namespace ``payments`` so that every page shows which cluster it read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import take_live_snapshot

pytestmark = pytest.mark.browser

READY = "window.graphReady === true"


@pytest.fixture
def payments(bookinfo: Any, tmp_path: Path) -> Iterator[Any]:
    """A second cluster, ``payments`` (after ``bookinfo`` by name, so never the default), with its own snapshot."""
    from inventory.models import Cluster
    from inventory.sync import sync_cluster
    from simulator import Simulator

    sim = Simulator(namespace="payments", traffic=True, traffic_autostart=False, rps=20.0)
    sim.start(host="127.0.0.1", port=0)
    try:
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig-payments")
        cluster = Cluster.objects.create(name="payments", kubeconfig_path=str(kubeconfig))
        sync_cluster(cluster.pk)
        sim.cluster = cluster  # type: ignore[attr-defined]
        sim.snapshot_id = take_live_snapshot(sim, cluster).snapshot_id  # type: ignore[attr-defined]
        yield sim
    finally:
        sim.stop()


def header_cluster(page: Any) -> str:
    return str(page.locator(".cluster-select select").input_value())


def test_pages_and_graph_follow_the_header_choice(bookinfo, payments, live_server, page):
    graph_requests: list[str] = []
    page.on("request", lambda request: graph_requests.append(request.url) if "/api/v1/graph?" in request.url else None)

    # Nothing chosen yet: the first cluster by name, everywhere.
    page.goto(f"{live_server.url}/")
    page.locator('article[data-namespace="bookinfo"]').wait_for()
    assert header_cluster(page) == "bookinfo"
    assert page.locator('article[data-namespace="payments"]').count() == 0

    # The header's selector switches the overview at once...
    with page.expect_navigation():
        page.select_option(".cluster-select select", "payments")
    page.locator('article[data-namespace="payments"]').wait_for()
    assert header_cluster(page) == "payments"
    assert page.locator('article[data-namespace="bookinfo"]').count() == 0

    # ...and the choice holds on pages opened without a cluster in their address.
    page.goto(f"{live_server.url}/workloads/")
    page.locator('[data-row="payments/reviews-v2"]').wait_for()
    assert header_cluster(page) == "payments"
    rows = page.locator("tr[data-row]").evaluate_all("els => els.map(e => e.dataset.row)")
    assert {row.split("/")[0] for row in rows} == {"payments", "istio-system"}  # both clusters run istio-system

    page.goto(f"{live_server.url}/inventory/")
    page.locator('section.cluster[data-cluster="payments"]').wait_for()
    assert page.locator('section.cluster[data-cluster="bookinfo"]').count() == 0

    # The graph page draws the chosen cluster's latest snapshot, and says so to the API.
    page.goto(f"{live_server.url}/graph/")
    wait_for_js(page, READY)
    assert header_cluster(page) == "payments"
    drawn = page.get_attribute("#graph-page", "data-snapshot-id")
    assert drawn is not None and int(drawn) == payments.snapshot_id
    namespaces = set(page.evaluate("cy.nodes().filter(n => !n.isParent()).map(n => n.data('namespace'))"))
    assert "payments" in namespaces and "bookinfo" not in namespaces
    assert graph_requests and all("cluster=payments" in url for url in graph_requests)
    assert page.locator('input[name="namespaces"][value="payments"]').count() == 1
    assert page.locator('input[name="namespaces"][value="bookinfo"]').count() == 0

    # Switching back from the graph page redraws the other cluster.
    with page.expect_navigation():
        page.select_option(".cluster-select select", "bookinfo")
    wait_for_js(page, READY)
    drawn = page.get_attribute("#graph-page", "data-snapshot-id")
    assert drawn is not None and int(drawn) != payments.snapshot_id
    namespaces = set(page.evaluate("cy.nodes().filter(n => !n.isParent()).map(n => n.data('namespace'))"))
    assert "bookinfo" in namespaces and "payments" not in namespaces
