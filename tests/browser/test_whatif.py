"""The graph page's what-if preview in Chromium, on the live Bookinfo simulator: a proposed all-v1 routing drawn
beside the current graph with dashed predicted edges, predicted vs observed once applied, and the YAML editor's
"Preview on graph" handing its text over."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import config as k8s_config

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import take_live_snapshot
from tests.browser.test_yaml_editor import (  # noqa: F401 - fixtures
    REVIEWS_PAGE,
    edit_line,
    editor_page,
    editor_user,
    expect_refused_requests,
    open_editor,
    routed,
)
from tests.istio_config.checks_support import BOOKINFO_NETWORKING
from tests.istio_config.test_validation_live import apply_sample

pytestmark = pytest.mark.browser

#: Istio's own samples (samples/bookinfo/networking).
ALL_V1 = (BOOKINFO_NETWORKING / "virtual-service-all-v1.yaml").read_text()
SUBSETS = (BOOKINFO_NETWORKING / "destination-rule-all.yaml").read_text()
READY = "document.getElementById('whatif').dataset.ready === 'true' && window.graphReady === true"
CHANGED = """() => whatifCy.edges('.whatif-changed').map(e => ({
  source: e.source().data('_name'), target: e.target().data('workload') || e.target().data('_name'),
  style: e.style('line-style'), label: e.data('label'), gone: e.hasClass('whatif-gone') }))"""


def propose(page: Any, live_server: Any, objects: list[Any]) -> None:
    """Store a proposal as a wizard or the editor does, then open the graph with the overlay."""
    page.goto(f"{live_server.url}/graph/?namespaces=bookinfo")
    contract = {"cluster": "bookinfo", "namespace": "bookinfo", "objects": objects, "source": "test"}
    page.evaluate("(c) => sessionStorage.setItem('mesh-ui.whatif', c)", json.dumps(contract))
    page.goto(f"{live_server.url}/graph/?namespaces=bookinfo&duration=60s&whatif=1")
    wait_for_js(page, READY)


def rows(page: Any) -> dict[tuple[str, str], list[str]]:
    found = page.evaluate(
        """() => [...document.querySelectorAll('#whatif-edges tbody tr')].map(r => ({
          source: r.dataset.source, target: r.dataset.target, cells: [...r.cells].map(c => c.textContent) }))"""
    )
    return {(r["source"], r["target"]): r["cells"] for r in found}


def test_all_v1_shows_dashed_predicted_edges_beside_the_graph(bookinfo, live_server, page):
    propose(page, live_server, [SUBSETS, ALL_V1])
    wait_for_js(page, "window.whatifCy && whatifCy.edges('.whatif-changed').length > 0")
    assert page.locator("#whatif").get_attribute("data-state") == "proposed"
    assert page.locator("#whatif-state").inner_text().startswith("Proposed, not applied")
    # Both graphs are drawn side by side, the predicted one in the current one's positions.
    assert page.locator("#whatif-canvas").is_visible() and page.locator("#graph-cy").is_visible()
    main_box = page.locator("#graph-cy").bounding_box()
    predicted_box = page.locator("#whatif-cy").bounding_box()
    assert predicted_box["x"] > main_box["x"] + main_box["width"] - 1
    same_place = page.evaluate(
        """() => whatifCy.nodes().every(n => { const m = cy.getElementById(n.id());
             return m.length && Math.abs(m.position('x') - n.position('x')) < 0.5; })"""
    )
    assert same_place
    changed = page.evaluate(CHANGED)
    # Edges with predicted traffic are dashed; those predicted to carry nothing any more, dotted and grey.
    assert {c["style"] for c in changed if not c["gone"]} == {"dashed"}
    assert {c["style"] for c in changed if c["gone"]} == {"dotted"}
    assert {c["target"] for c in changed if c["gone"]} >= {"reviews-v2", "reviews-v3", "ratings-v1"}
    to_v1 = [c for c in changed if c["target"] == "reviews-v1"]
    assert len(to_v1) == 1 and "rps (+" in to_v1[0]["label"]  # more traffic on v1
    assert {c["target"] for c in changed} >= {"reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1"}
    # The table lists the same edges: now → predicted (all of reviews' requests on v1, none on v2).
    table = rows(page)
    now_v1, predicted_v1 = table[("reviews (service)", "reviews-v1")][1:3]
    assert float(predicted_v1.split()[0]) > float(now_v1.split()[0])
    assert table[("reviews (service)", "reviews-v2")][2].startswith("0.00 rps")
    assert page.locator("#whatif-observed-head").is_hidden()
    # Unchanged edges are drawn too, solid.
    assert page.evaluate("whatifCy.edges('.whatif-same').every(e => e.style('line-style') === 'solid')")

    # Applied in the cluster, a minute of traffic later: the prediction made before is kept, observed beside it.
    from inventory.sync import sync_cluster

    api = k8s_config.new_client_from_config(config_file=bookinfo.cluster.kubeconfig_path)
    apply_sample(api, "destination-rule-all.yaml")
    apply_sample(api, "virtual-service-all-v1.yaml")
    sync_cluster(bookinfo.cluster.pk)
    take_live_snapshot(bookinfo, bookinfo.cluster, seconds=60)
    page.evaluate("document.getElementById('whatif').dataset.ready = 'false'")
    page.locator("#btn-live").evaluate("b => { b.disabled = false; b.click(); }")  # reload the graph now
    wait_for_js(page, "document.getElementById('whatif').dataset.state === 'applied'")
    wait_for_js(page, "!document.getElementById('whatif-observed-head').hidden")
    assert page.locator("#whatif-state").inner_text().startswith("Applied: observed from snapshot")
    applied = rows(page)
    assert applied[("reviews (service)", "reviews-v2")][3].startswith("0.00 rps")  # observed: none on v2
    observed_v1 = float(applied[("reviews (service)", "reviews-v1")][3].split()[0])
    assert observed_v1 > float(now_v1.split()[0])
    assert page.evaluate("whatifCy.edges('.whatif-changed').length") == len(changed)  # the old prediction stays


def test_without_a_proposal_the_overlay_says_so(bookinfo, live_server, page):
    page.goto(f"{live_server.url}/graph/?namespaces=bookinfo&whatif=1")
    wait_for_js(page, READY)
    assert "No routing change to preview" in page.locator("#whatif-message").inner_text()
    page.get_by_role("button", name="Close preview").click()
    assert page.locator("#whatif").is_hidden() and "whatif" not in page.url


def test_an_invalid_proposal_shows_the_apis_error(bookinfo, live_server, page):
    propose(page, live_server, ["kind: [VirtualService"])
    assert "not valid YAML" in page.locator("#whatif-message").inner_text()
    expect_refused_requests(page, 400)


def test_the_editor_previews_its_text_on_the_graph(routed, live_server, editor_page):  # noqa: F811
    # Istio's all-v1 routing is applied; the editor turns it into all-v3 and previews that before saving.
    open_editor(editor_page, f"{live_server.url}{REVIEWS_PAGE}")
    edit_line(editor_page, "subset: v1", "v1", "v3")
    with editor_page.context.expect_page() as opened:
        editor_page.get_by_role("button", name="Preview on graph").click()
    graph = opened.value
    graph.wait_for_load_state()
    assert "whatif=1" in graph.url and "namespaces=bookinfo" in graph.url
    wait_for_js(graph, READY)
    stored = json.loads(graph.evaluate("sessionStorage.getItem('mesh-ui.whatif')"))
    assert stored["source"] == "editor" and "subset: v3" in stored["objects"][0]
    assert graph.locator("#whatif").get_attribute("data-state") == "proposed"
    # All of reviews' requests are predicted on v3, more than it gets today.
    now, predicted = rows(graph)[("reviews (service)", "reviews-v3")][1:3]
    assert float(predicted.split()[0]) > float(now.split()[0])
    # The editor stays as it was, with the unsaved text.
    assert "subset: v3" in editor_page.locator(".cm-content").inner_text()


def test_an_abort_for_jason_shows_error_bounds(bookinfo, live_server, page):
    # virtual-service-ratings-test-abort aborts jason's ratings requests; nothing today tells jason's share.
    propose(page, live_server, [SUBSETS, (BOOKINFO_NETWORKING / "virtual-service-ratings-test-abort.yaml").read_text()])
    wait_for_js(page, "document.querySelectorAll('#whatif-edges tbody tr').length > 0")
    predicted = rows(page)[("reviews-v2", "ratings (service)")][2]
    assert predicted.endswith("rps · 0\u2013100% err"), predicted  # the requests are exact, their errors bounds
    notes = page.locator("#whatif-notes").inner_text()
    assert "unknown share (the match tests what telemetry does not record: headers)" in notes


def test_the_admin_form_previews_its_values_on_the_graph(routed, live_server, editor_page):  # noqa: F811
    # The admin's VirtualService form moves reviews from v1 to v3 and previews that: the page comes back with the
    # values typed and nothing written, and the graph opens in a new tab with the form's document as the proposal.
    from inventory.models import IstioObject

    row = IstioObject.objects.get(cluster=routed.cluster, kind="VirtualService", name="reviews")
    editor_page.goto(f"{live_server.url}/admin/istio_config/virtualserviceobject/{row.pk}/change/")
    editor_page.fill("#id_route-0-dest0_subset", "v3")
    with editor_page.context.expect_page() as opened:
        editor_page.locator("input[name=_whatif]").click()
    graph = opened.value
    graph.wait_for_load_state()
    assert "whatif=1" in graph.url and "namespaces=bookinfo" in graph.url
    wait_for_js(graph, READY)
    stored = json.loads(graph.evaluate("sessionStorage.getItem('mesh-ui.whatif')"))
    assert (stored["source"], stored["cluster"], stored["namespace"]) == ("admin", "bookinfo", "bookinfo")
    assert stored["objects"][0]["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v3"
    assert graph.locator("#whatif").get_attribute("data-state") == "proposed"
    now, predicted = rows(graph)[("reviews (service)", "reviews-v3")][1:3]
    assert float(predicted.split()[0]) > float(now.split()[0])

    wait_for_js(editor_page, "document.body.dataset.whatifHandedOver === 'true'")
    assert editor_page.input_value("#id_route-0-dest0_subset") == "v3"  # the form keeps what was typed
    assert editor_page.locator(".errornote").count() == 0
    written = routed.custom.get_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "virtualservices", "reviews"
    )
    assert written["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v1"  # nothing was written
