"""The graph page in Chromium: Bookinfo drawn from stored snapshots, graph types, side panel, find/hide, replay,
export, URL state and escaping of cluster strings."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import store_edited_snapshot, take_live_snapshot

pytestmark = pytest.mark.browser

READY = "window.graphReady === true"
NODES_JS = """() => cy.nodes().filter(n => !n.isParent()).map(n => ({
  type: n.data('nodeType'), name: n.data('_name'), version: n.data('version') || '',
  workload: n.data('workload') || '', gateway: Boolean(n.data('isGateway')), visible: n.visible(),
}))"""


def open_graph(page: Any, live_server: Any, query: str = "") -> None:
    page.goto(f"{live_server.url}/graph/{'?' + query if query else ''}")
    wait_for_js(page, READY)


def graph_nodes(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(NODES_JS))


def wait_reloaded(page: Any) -> None:
    wait_for_js(page, READY)


def tap_workload(page: Any, workload: str) -> None:
    # Return nothing: serialising a Cytoscape element back to Python takes Playwright many seconds.
    page.evaluate(
        "(w) => { cy.nodes().filter(n => n.data('workload') === w && !n.isParent())[0].emit('tap'); }", workload
    )


def test_graph_shows_bookinfo_nodes_and_edges(bookinfo, live_server, page):
    open_graph(page, live_server)
    nodes = graph_nodes(page)
    versions = {(n["name"], n["version"]) for n in nodes if n["type"] == "app"}
    assert {
        ("reviews", "v1"),
        ("reviews", "v2"),
        ("reviews", "v3"),
        ("productpage", "v1"),
        ("ratings", "v1"),
    } <= versions
    assert {"reviews", "ratings", "details", "productpage"} <= {n["name"] for n in nodes if n["type"] == "service"}
    assert page.evaluate("cy.edges().length") >= 9
    # Shapes follow the node type, edges carry mTLS, the snapshot is named on the page.
    assert page.evaluate("cy.nodes('[nodeType = \"service\"]')[0].style('shape')") == "triangle"
    assert page.evaluate("cy.nodes('[nodeType = \"app\"]')[0].style('shape')") == "round-rectangle"
    assert page.evaluate("cy.edges().filter(e => e.data('_mtls')).length") > 0
    assert page.locator("#graph-snapshot").inner_text().startswith("Snapshot #")
    assert page.locator("#graph-banner").count() == 1 and page.locator("#graph-banner").is_hidden()
    # The traffic animation paints dots on its overlay.
    wait_for_js(
        page,
        """() => { const c = document.getElementById('graph-traffic');
                   const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < data.length; i += 4) if (data[i]) return true; return false; }""",
    )


def test_switching_graph_type_changes_the_node_set(bookinfo, live_server, page):
    open_graph(page, live_server, "graphType=workload")
    workloads = {n["name"] for n in graph_nodes(page) if n["type"] == "workload"}
    assert {"reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1"} <= workloads

    page.select_option("#ctl-graphType", "versionedApp")
    wait_reloaded(page)
    nodes = graph_nodes(page)
    assert not [n for n in nodes if n["type"] == "workload"]
    assert {("reviews", v) for v in ("v1", "v2", "v3")} <= {(n["name"], n["version"]) for n in nodes}
    assert "graphType=versionedApp" not in page.url  # the default is left out of the URL

    page.select_option("#ctl-graphType", "service")
    wait_reloaded(page)
    nodes = graph_nodes(page)
    assert "graphType=service" in page.url
    # As in Kiali: service nodes, plus the callers nobody reaches through a service (the ingress gateway).
    assert all(n["type"] in {"service", "unknown"} or n["gateway"] for n in nodes), nodes
    assert {"productpage", "reviews", "ratings", "details"} <= {n["name"] for n in nodes if n["type"] == "service"}


def test_clicking_reviews_v2_opens_the_side_panel(bookinfo, live_server, page):
    open_graph(page, live_server)
    tap_workload(page, "reviews-v2")
    panel = page.locator("#graph-panel")
    panel.wait_for(state="visible")
    text = panel.inner_text()
    assert "reviews" in text and "v2" in text
    rates = page.locator("#graph-panel .panel-rates").inner_text()
    assert "Inbound" in rates and "rps" in rates
    expected = page.evaluate(
        "() => cy.nodes().filter(n => n.data('workload') === 'reviews-v2' && !n.isParent())[0].data('traffic')"
    )
    inbound = float(expected[0]["rates"]["httpIn"])
    assert f"{inbound:.2f} rps" in rates
    assert "Healthy" in panel.locator(".panel-health").inner_text()
    assert "p95" in text
    hrefs = panel.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/namespaces/bookinfo/workloads/reviews-v2/" in hrefs
    assert "/namespaces/bookinfo/applications/reviews/" in hrefs

    # A real click at reviews-v1's rendered position, now that the panel has narrowed the canvas.
    x, y = page.evaluate(
        """() => { const box = cy.container().getBoundingClientRect();
                   const n = cy.nodes().filter(n => n.data('workload') === 'reviews-v1' && !n.isParent())[0];
                   const p = n.renderedPosition(); return [box.left + p.x, box.top + p.y]; }"""
    )
    page.mouse.click(x, y)
    wait_for_js(page, "document.querySelector('#panel-body h2').textContent.endsWith('reviews v1')")
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    tap_workload(page, "reviews-v2")
    panel.wait_for(state="visible")

    # An edge opens its own panel: rates, response codes and latencies.
    page.evaluate("() => { cy.edges().filter(e => e.data('_rps') > 0)[0].emit('tap'); }")
    wait_for_js(page, "document.querySelector('#panel-body h2').textContent.includes('→')")
    text = panel.inner_text()
    assert "Request rate" in text and "200" in text and "p99" in text


def test_find_and_hide_expressions(bookinfo, live_server, page):
    open_graph(page, live_server, "hide=label:app%3Dratings")
    nodes = graph_nodes(page)
    # The server already left ratings out (see the next test); whatever is left of it is hidden here.
    assert not any(n["visible"] for n in nodes if n["name"] == "ratings")
    # all() over no node would pass: the nodes that must stay are there, and visible.
    assert {"reviews", "productpage"} <= {n["name"] for n in nodes if n["visible"]}
    assert all(n["visible"] for n in nodes if n["name"] in {"reviews", "productpage"})
    assert page.input_value("#ctl-hide") == "label:app=ratings"

    page.fill("#ctl-find", "name=review* AND label:version=v2 OR name=details")
    page.press("#ctl-find", "Enter")
    wait_for_js(page, "cy.$('.found').length > 0")
    found = page.evaluate("cy.nodes('.found').map(n => n.data('_name') + ':' + (n.data('version') || ''))")
    assert sorted(found) == ["details:", "details:v1", "reviews:v2"]
    assert "find=" in page.url

    page.fill("#ctl-find", "latency >> 5")
    page.press("#ctl-find", "Enter")
    wait_for_js(page, "document.getElementById('expr-error').textContent.length > 0")
    assert "cannot read" in page.inner_text("#expr-error")
    assert page.get_attribute("#ctl-find", "aria-invalid") == "true"

    page.fill("#ctl-find", "rt > 500 OR %error > 5 OR !healthy")
    page.press("#ctl-find", "Enter")
    wait_for_js(page, "document.getElementById('expr-error').textContent === ''")
    assert page.evaluate("cy.$('.found').length") == 0  # Bookinfo is fast and healthy

    page.fill("#ctl-find", "rps > 1 AND healthy")
    page.press("#ctl-find", "Enter")
    wait_for_js(page, "cy.edges('.found').length > 0")


def test_server_evaluable_hide_is_sent_to_the_api(bookinfo, live_server, page):
    def is_graph(response: Any) -> bool:
        return "/api/v1/graph?" in response.url

    with page.expect_response(is_graph) as first:
        open_graph(page, live_server, "hide=label:app%3Dratings")
    assert "hide=label" in first.value.url
    body = first.value.json()
    names = {n["data"].get("app") or n["data"].get("service") for n in body["elements"]["nodes"]}
    assert "ratings" not in names and {"reviews", "productpage"} <= names
    assert page.evaluate("cy.nodes().filter(n => n.data('_name') === 'ratings').length") == 0

    # A term only the page evaluates: the whole graph is fetched and hidden here.
    with page.expect_response(is_graph) as second:
        page.fill("#ctl-hide", "label:app=ratings AND rps >= 0")
        page.press("#ctl-hide", "Enter")
    assert "hide=" not in second.value.url
    wait_reloaded(page)
    wait_for_js(page, "cy.nodes().filter(n => n.data('_name') === 'ratings').length > 0")
    assert page.evaluate("cy.nodes().filter(n => n.data('_name') === 'ratings' && n.visible()).length") == 0


def test_replay_moves_to_an_older_snapshot_and_back(bookinfo, live_server, page):
    from simulator.control import set_profile

    # A second stored snapshot where ratings fails half of its requests.
    set_profile(bookinfo.url, "bookinfo", "ratings-v1", error_rate=0.5)
    newest = take_live_snapshot(bookinfo, bookinfo.cluster).snapshot_id
    open_graph(page, live_server)
    wait_for_js(page, "Number(document.getElementById('ctl-replay').max) >= 1")
    assert page.get_attribute("#graph-page", "data-snapshot-id") == str(newest)
    failing = page.evaluate("cy.edges('[healthStatus = \"Failure\"]').map(e => e.style('line-color'))")
    assert failing and all(colour == "rgb(201,25,11)" for colour in failing)
    # Errors show in the traffic animation as red dots.
    wait_for_js(
        page,
        """() => { const c = document.getElementById('graph-traffic');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 0; i < d.length; i += 4) {
                     if (d[i] === 201 && d[i + 1] === 25 && d[i + 3] === 255) return true;
                   }
                   return false; }""",
    )

    page.evaluate(
        """() => { const s = document.getElementById('ctl-replay'); s.value = '0';
                   s.dispatchEvent(new Event('input', {bubbles: true}));
                   s.dispatchEvent(new Event('change', {bubbles: true})); }"""
    )
    # A missing id (no snapshot drawn) must not pass for an older one.
    wait_for_js(
        page, f"(id => id !== undefined && id !== '{newest}')(document.getElementById('graph-page').dataset.snapshotId)"
    )
    wait_reloaded(page)
    replayed = page.get_attribute("#graph-page", "data-snapshot-id")
    assert replayed is not None and int(replayed) < newest
    assert "at=" in page.url
    assert page.inner_text("#graph-snapshot").startswith("Replaying snapshot")
    assert page.inner_text("#replay-time") != "live"
    assert page.evaluate("cy.edges('[healthStatus = \"Failure\"]').length") == 0

    page.click("#btn-live")
    wait_for_js(page, f"document.getElementById('graph-page').dataset.snapshotId === '{newest}'")
    assert "at=" not in page.url


def test_export_downloads_png_svg_and_json(bookinfo, live_server, page, tmp_path: Path):
    open_graph(page, live_server)
    with page.expect_download() as png:
        page.click("[data-export=png]")
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.value.suggested_filename.endswith(".png")

    with page.expect_download() as svg:
        page.click("[data-export=svg]")
    assert b"<svg" in Path(svg.value.path()).read_bytes()[:500]

    with page.expect_download() as exported:
        page.click("[data-export=json]")
    body = json.loads(Path(exported.value.path()).read_text())
    assert body["graphType"] == "versionedApp"
    assert len(body["elements"]["nodes"]) == page.evaluate("cy.nodes().length")
    assert "snapshot" in body


def test_force_directed_layout_places_every_node_apart_inside_its_boxes(bookinfo, live_server, page):
    open_graph(page, live_server, "layout=cose&boxBy=namespace,app")
    assert page.evaluate("Boolean(window.cytoscapeFcose)")  # fCoSE's scripts were loaded on demand
    positions = page.evaluate("cy.nodes().filter(n => !n.isParent()).map(n => [n.position('x'), n.position('y')])")
    assert len(positions) >= 10 and len({(round(x), round(y)) for x, y in positions}) == len(positions)
    # Every child lies within its compound box.
    outside_box = """cy.nodes().filter(n => n.isChild()).filter(n => {
      const box = n.parent().boundingBox(), p = n.position();
      return p.x < box.x1 || p.x > box.x2 || p.y < box.y1 || p.y > box.y2;
    }).length"""
    assert page.evaluate(outside_box) == 0
    # Switching layouts keeps working: back to dagre, and to fCoSE again.
    page.select_option("#ctl-layout", "dagre")
    wait_for_js(page, "!location.search.includes('layout=')")  # the default is left out of the URL
    wait_reloaded(page)
    page.select_option("#ctl-layout", "cose")
    wait_for_js(page, "location.search.includes('layout=cose')")
    wait_reloaded(page)
    assert page.input_value("#ctl-layout") == "cose"


def test_url_state_round_trips(bookinfo, live_server, page):
    query = "graphType=workload&namespaces=bookinfo&edgeLabels=rps&layout=breadthfirst&refresh=0&duration=60s&idle=true"
    open_graph(page, live_server, query)
    assert page.input_value("#ctl-graphType") == "workload"
    assert page.input_value("#ctl-edgeLabels") == "rps"
    assert page.input_value("#ctl-layout") == "breadthfirst"
    assert page.input_value("#ctl-refresh") == "0"
    assert page.input_value("#ctl-duration") == "60s"
    assert page.is_checked("#ctl-idle")
    assert page.is_checked("input[name=namespaces][value=bookinfo]")
    assert not page.is_checked("input[name=namespaces][value=istio-system]")
    assert "bookinfo" in page.inner_text("#ns-summary")
    assert page.evaluate("cy.edges().filter(e => / rps$/.test(e.data('label'))).length") > 0
    # Nothing from istio-system except the gateway that calls into bookinfo (flagged outside).
    outside = "cy.nodes('[namespace = \"istio-system\"]').filter(n => !n.isParent()).map(n => n.data('isOutside'))"
    assert page.evaluate(outside) == [True]

    page.select_option("#ctl-edgeLabels", "rt")
    wait_for_js(page, "location.search.includes('edgeLabels=rt')")
    assert page.evaluate("cy.edges().filter(e => / ms$/.test(e.data('label'))).length") > 0
    page.click("#ns-summary")
    page.check("input[name=namespaces][value=istio-system]")
    wait_for_js(page, "location.search.includes('istio-system')")
    wait_reloaded(page)

    page.goto(page.url)
    wait_for_js(page, READY)
    assert page.input_value("#ctl-edgeLabels") == "rt"
    assert page.is_checked("input[name=namespaces][value=istio-system]")


def test_cluster_strings_render_as_text(bookinfo, live_server, page):
    hostile = "<script>alert(1)</script>"

    def make_hostile(data: dict[str, Any]) -> None:
        if data.get("workload") == "reviews-v2":
            data["version"] = hostile
            data["healthReason"] = f"<img src=x onerror=alert(2)> {hostile}"

    copy = store_edited_snapshot(bookinfo.cluster, make_hostile)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_graph(page, live_server)
    assert page.get_attribute("#graph-page", "data-snapshot-id") == str(copy.pk)
    tap_workload(page, "reviews-v2")
    page.locator("#graph-panel").wait_for(state="visible")
    assert hostile in page.inner_text("#graph-panel")
    assert page.locator("#graph-panel script, #graph-panel img").count() == 0
    assert page.evaluate("cy.nodes().filter(n => n.data('workload') === 'reviews-v2')[0].data('label')").endswith(
        hostile
    )
    assert dialogs == []


def test_stale_snapshot_banner_and_narrow_window(bookinfo, live_server, page):
    from django.utils import timezone

    from topology.models import MetricsSourceStatus

    MetricsSourceStatus.objects.update_or_create(
        cluster=bookinfo.cluster,
        defaults={
            "consecutive_failures": 3,
            "source": "prometheus",
            "last_error": "prometheus: connection refused",
            "last_error_at": timezone.now(),
        },
    )
    page.set_viewport_size({"width": 600, "height": 800})
    open_graph(page, live_server)
    banner = page.locator("#graph-banner")
    assert banner.is_visible()
    assert "Stale data" in banner.inner_text() and "Prometheus unavailable since" in banner.inner_text()
    assert page.evaluate("cy.width()") > 300
    tap_workload(page, "reviews-v2")
    page.locator("#graph-panel").wait_for(state="visible")
    page.click("#panel-close")
    page.locator("#graph-panel").wait_for(state="hidden")


def test_a_url_value_the_toolbar_does_not_offer_falls_back_to_the_default(bookinfo, live_server, page):
    open_graph(page, live_server, "graphType=bogus&layout=spiral&edgeLabels=rt")
    assert page.input_value("#ctl-graphType") == "versionedApp"
    assert page.input_value("#ctl-layout") == "dagre"
    assert page.input_value("#ctl-edgeLabels") == "rt"  # a valid value is kept
    assert page.locator("#ctl-graphType option[value=bogus]").count() == 0


def test_node_graph_drill_down_breadcrumb_and_badges(bookinfo, live_server, page):
    open_graph(page, live_server)
    # Bookinfo's gateway VirtualService routes to productpage: its service node has the VS and routing badges.
    badges = page.evaluate(
        """() => { const n = cy.nodes('[service = "productpage"]')[0];
                   return { titles: n.data('_badgeTitles'), image: String(n.style('background-image')) }; }"""
    )
    assert badges["titles"] == "VirtualService, Request routing"
    assert "badges/vs.svg" in badges["image"] and "badges/rr.svg" in badges["image"]
    assert page.locator("#graph-breadcrumb").is_hidden()

    # Double-click reviews v2: its node graph, with its callers and callees only.
    page.evaluate(
        "() => { cy.nodes().filter(n => n.data('workload') === 'reviews-v2' && !n.isParent())[0].emit('dbltap'); }"
    )
    wait_for_js(page, "location.search.includes('node=app:bookinfo:reviews:v2')")
    wait_reloaded(page)
    nodes = graph_nodes(page)
    assert {(n["name"], n["version"]) for n in nodes if n["type"] == "app"} == {
        ("productpage", "v1"),
        ("reviews", "v2"),
        ("ratings", "v1"),
    }
    assert {n["name"] for n in nodes if n["type"] == "service"} == {"reviews", "ratings"}
    assert page.evaluate("cy.nodes('[?isFocus]').map(n => n.data('workload'))") == ["reviews-v2"]
    assert page.locator("#graph-crumbs li").all_inner_texts() == ["Full graph", "app bookinfo/reviews v2"]

    # Another helper's context menu asks for a node graph by node id: the same drill-down, one crumb deeper.
    page.evaluate(
        """() => { const id = cy.nodes('[service = "ratings"]')[0].id();
                   document.dispatchEvent(new CustomEvent('mesh-ui:node-graph', { detail: { nodeId: id } })); }"""
    )
    wait_for_js(page, "location.search.includes('node=service:bookinfo:ratings')")
    wait_reloaded(page)
    assert page.locator("#graph-crumbs li").all_inner_texts() == [
        "Full graph",
        "app bookinfo/reviews v2",
        "service bookinfo/ratings",
    ]
    assert {n["name"] for n in graph_nodes(page) if n["type"] == "app"} == {"reviews", "ratings"}

    # Back one step, then to the full graph.
    page.locator("#graph-crumbs button", has_text="reviews v2").click()
    wait_for_js(page, "location.search.includes('node=app:bookinfo:reviews:v2')")
    wait_reloaded(page)
    assert page.locator("#graph-crumbs li").count() == 2
    page.locator("#graph-crumbs button", has_text="Full graph").click()
    wait_for_js(page, "!location.search.includes('node=')")
    wait_reloaded(page)
    assert page.locator("#graph-breadcrumb").is_hidden()
    assert "details" in {n["name"] for n in graph_nodes(page)}


def test_service_nodes_toggle_and_response_time_statistic(bookinfo, live_server, page):
    open_graph(page, live_server, "edgeLabels=rt")
    page.locator("#ctl-services").uncheck()
    wait_for_js(page, "location.search.includes('services=false')")
    wait_reloaded(page)
    assert not [n for n in graph_nodes(page) if n["type"] == "service"]
    page.select_option("#ctl-rtStat", "p99")
    wait_for_js(page, "location.search.includes('rtStat=p99')")
    wait_reloaded(page)
    labels = page.evaluate(
        """() => cy.edges().filter(e => e.data('responseTimes') && e.data('responseTimes').p99)
                   .map(e => [e.data('label'), e.data('responseTimes').p99])"""
    )
    # Math.round in the page: halves round up (Python's round() would round them to even).
    assert labels and all(label.endswith(f"{math.floor(float(p99) + 0.5)} ms") for label, p99 in labels)


def test_a_window_no_snapshot_holds_shows_building_then_the_graph(bookinfo, live_server, page, monkeypatch):
    from topology import tasks
    from topology.snapshots import build_snapshot_window
    from topology.sources import DirectScrapeSource

    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.build_snapshot_window, "delay", lambda *args: queued.append(args))
    page.goto(f"{live_server.url}/graph/?duration=1800s")
    wait_for_js(page, "document.body.dataset.graphBuilding === 'true'")
    assert "on demand" in page.locator("#graph-building").inner_text()
    assert page.evaluate("window.graphReady") is not True
    [(build_id, window)] = queued
    assert window == 1800
    # The worker builds the window from the simulator's counters; the page, polling the build, then draws it.
    source = DirectScrapeSource(bookinfo.cluster, f"{bookinfo.url}/metrics")
    build_snapshot_window(build_id, window, source=source)
    wait_for_js(page, READY)
    assert page.locator("#graph-building").is_hidden()
    assert "built on demand" in page.locator("#graph-snapshot").inner_text()
    assert page.evaluate("cy.edges().length") >= 9


def test_throughput_edge_labels_show_request_then_response_body_bytes(bookinfo, live_server, page):
    open_graph(page, live_server, "edgeLabels=throughput")
    read = """(key) => cy.edges().filter(e => e.data('_protocol') === 'http' && e.data('traffic').rates
                   && Number(e.data('traffic').rates[key]) > 0)
                 .map(e => [e.data('label'), Number(e.data('traffic').rates[key])])"""
    labels = page.evaluate(read, "httpRequestBytes")
    # The simulator reports body sizes for every HTTP request (istio_request_bytes / istio_response_bytes).
    assert labels and all(label.endswith("B/s") for label, _ in labels)
    page.select_option("#ctl-edgeLabels", "throughputResponse")
    wait_for_js(page, "location.search.includes('edgeLabels=throughputResponse')")
    wait_reloaded(page)
    responses = page.evaluate(read, "httpResponseBytes")
    assert responses and all(label.endswith("B/s") for label, _ in responses)
    # Labels follow the chosen direction: an edge whose response bytes differ from its request bytes shows another text.
    assert {label for label, _ in responses} != {label for label, _ in labels}


@pytest.fixture
def ambient_mesh(transactional_db: None, tmp_path: Path) -> Any:
    """The simulator with its ambient scenario (cart -> db over TCP: 6000 B/s sent back, 2000 B/s received), one
    snapshot stored."""
    from inventory.models import Cluster
    from inventory.sync import sync_cluster
    from simulator import Simulator

    sim = Simulator(traffic=True, traffic_autostart=False, rps=5.0, scenarios=("ambient",)).start(
        host="127.0.0.1", port=0
    )
    try:
        cluster = Cluster.objects.create(name="ambient", kubeconfig_path=str(sim.write_kubeconfig(tmp_path / "kc")))
        sync_cluster(cluster.pk)
        take_live_snapshot(sim, cluster)
        yield sim
    finally:
        sim.stop()


def test_tcp_rate_menu_shows_the_chosen_direction_of_a_tcp_edge(ambient_mesh, live_server, page):
    open_graph(page, live_server, "graphType=workload&edgeLabels=throughput")
    read = """() => cy.edges().filter(e => e.data('_protocol') === 'tcp'
                   && cy.getElementById(e.data('target')).data('workload') === 'db-v1')
                 .map(e => [e.data('label'), Number(e.data('traffic').rates.tcp)])"""
    [(total_label, total)] = page.evaluate(read)
    # Both ztunnels report the connection, counted once: 6000 B/s sent (responses) + 2000 B/s received, over the
    # snapshot's interval (exactly 30 s: take_live_snapshot stamps the second scrape 30 s after the first), 8000 B/s.
    assert total == pytest.approx(8000, rel=0.01) and total_label.endswith(f"{total / 1024:.1f} kB/s")
    page.select_option("#ctl-rateTcp", "sent")
    wait_for_js(page, "location.search.includes('rateTcp=sent')")
    wait_reloaded(page)
    [(sent_label, sent)] = wait_for_js(page, f"() => {{ const r = ({read})(); return r[0][1] !== {total} && r; }}")
    assert sent == pytest.approx(total * 0.75, rel=1e-3) and sent_label.endswith(f"{sent / 1024:.1f} kB/s")
    assert sent_label != total_label
    # The choice is in the URL: reloading keeps it, and the toolbar shows it.
    page.reload()
    wait_reloaded(page)
    assert page.locator("#ctl-rateTcp").input_value() == "sent"
    assert page.evaluate(read)[0][1] == pytest.approx(sent, abs=0.01)


def test_ambient_menu_reads_the_chosen_telemetry_layer(ambient_mesh, live_server, page):
    open_graph(page, live_server, "graphType=workload")
    count = """(protocol) => cy.edges().filter(e => e.data('_protocol') === protocol
                   && cy.getElementById(e.data('target')).data('namespace') === 'ambient-shop').length"""
    # total (the default): ztunnel's L4 edges (web -> waypoint -> cart, cart -> db) and the waypoint's L7 ones.
    assert page.evaluate(count, "tcp") > 0 and page.evaluate(count, "http") > 0
    page.select_option("#ctl-ambientTraffic", "waypoint")
    wait_for_js(page, "location.search.includes('ambientTraffic=waypoint')")
    wait_reloaded(page)
    # waypoint: no ztunnel row is read, so no tcp edge into ambient-shop is left; the L7 edges stay.
    wait_for_js(page, f"() => ({count})('tcp') === 0")
    assert page.evaluate(count, "http") > 0
    page.select_option("#ctl-ambientTraffic", "ztunnel")
    wait_for_js(page, "location.search.includes('ambientTraffic=ztunnel')")
    wait_reloaded(page)
    # ztunnel: the L4 edges are back; of L7 only the ingress gateway's own report into web (no waypoint report).
    wait_for_js(page, f"() => ({count})('tcp') > 0")
    page.reload()
    wait_reloaded(page)
    assert page.locator("#ctl-ambientTraffic").input_value() == "ztunnel"
