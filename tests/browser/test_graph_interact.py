"""The graph page as a Kiali user expects it: the node context menu, hover highlighting, SVG icons instead of emoji
(in the page and in exports), traffic dots that keep off edge labels, and a concentric layout whose boxes do not
overlap."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

READY = "window.graphReady === true"


def open_graph(page: Any, live_server: Any, query: str = "") -> None:
    page.goto(f"{live_server.url}/graph/{'?' + query if query else ''}")
    wait_for_js(page, READY)


def rendered_point(page: Any, selector_js: str) -> tuple[float, float]:
    """The page coordinates of the first node a JS filter (over `n`) keeps."""
    x, y = page.evaluate(
        f"""() => {{ const box = cy.container().getBoundingClientRect();
                    const n = cy.nodes().filter(n => !n.isParent() && ({selector_js}))[0];
                    const p = n.renderedPosition(); return [box.left + p.x, box.top + p.y]; }}"""
    )
    return float(x), float(y)


SERVICE_REVIEWS = "n.data('nodeType') === 'service' && n.data('service') === 'reviews'"
APP_REVIEWS_V2 = "n.data('workload') === 'reviews-v2'"


def test_right_click_on_a_service_opens_its_menu(bookinfo, live_server, page):
    open_graph(page, live_server)
    page.evaluate(
        """() => { window.nodeGraphEvents = [];
                   document.addEventListener('mesh-ui:node-graph', (e) => window.nodeGraphEvents.push(e.detail)); }"""
    )
    x, y = rendered_point(page, SERVICE_REVIEWS)
    page.mouse.click(x, y, button="right")
    menu = page.locator("#graph-menu")
    menu.wait_for(state="visible")
    assert menu.get_attribute("role") == "menu"
    items = menu.locator('[role="menuitem"]')
    labels = items.all_inner_texts()
    assert "Details: Service reviews" in labels
    assert "Node graph" in labels
    assert "Routing wizards" in labels
    hrefs = items.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/namespaces/bookinfo/services/reviews/" in hrefs
    assert "/namespaces/bookinfo/services/reviews/#wizards" in hrefs
    # Keyboard: focus starts on the first item, arrows move it, Escape closes and leaves the side panel alone.
    assert page.evaluate("document.activeElement.getAttribute('role')") == "menuitem"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.kind") == "wizards"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.kind") == "details"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.dataset.kind") == "node-graph"
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")

    # A click outside the menu closes it.
    page.mouse.click(x, y, button="right")
    menu.wait_for(state="visible")
    page.locator("#graph-counts").click()
    menu.wait_for(state="hidden")

    # "Node graph" fires the event the drill-down listens to, with the node's id, and closes the menu (last: the
    # page then drills down into the node graph, where the node is drawn elsewhere).
    page.mouse.click(x, y, button="right")
    menu.wait_for(state="visible")
    node_id = page.evaluate(f"cy.nodes().filter(n => !n.isParent() && ({SERVICE_REVIEWS}))[0].id()")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    menu.wait_for(state="hidden")
    assert page.evaluate("window.nodeGraphEvents") == [{"nodeId": node_id}]


def test_menu_of_an_app_node_has_no_wizards_and_opens_from_the_keyboard(bookinfo, live_server, page):
    open_graph(page, live_server)
    x, y = rendered_point(page, APP_REVIEWS_V2)
    page.mouse.click(x, y)  # selects the node (and opens the side panel)
    page.locator("#graph-panel").wait_for(state="visible")
    page.keyboard.press("Shift+F10")
    menu = page.locator("#graph-menu")
    menu.wait_for(state="visible")
    labels = menu.locator('[role="menuitem"]').all_inner_texts()
    assert "Details: Workload reviews-v2" in labels and "Details: Application reviews" in labels
    assert "Routing wizards" not in labels
    assert "reviews v2" in menu.locator(".graph-menu-title").inner_text()
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")
    assert page.locator("#graph-panel").is_visible()  # Escape closed the menu only


def test_hovering_a_node_dims_everything_but_its_neighbourhood(bookinfo, live_server, page):
    open_graph(page, live_server)
    x, y = rendered_point(page, APP_REVIEWS_V2)
    page.mouse.move(x, y)
    wait_for_js(page, "cy.elements('.hover-dim').length > 0")
    summary = page.evaluate(
        f"""() => {{ const n = cy.nodes().filter(n => !n.isParent() && ({APP_REVIEWS_V2}))[0];
                    const near = n.closedNeighborhood();
                    const leaves = cy.elements().filter(e => !e.isParent?.() || e.isEdge());
                    return {{
                      nearDimmed: near.filter(e => e.hasClass('hover-dim')).length,
                      farNotDimmed: leaves.not(near).filter(e => !e.hasClass('hover-dim')).length,
                      far: leaves.not(near).length,
                      dimOpacity: cy.elements('.hover-dim')[0].style('opacity'),
                      edges: n.connectedEdges().length,
                    }}; }}"""
    )
    assert summary["edges"] >= 2
    assert summary["nearDimmed"] == 0
    assert summary["far"] > 0 and summary["farNotDimmed"] == 0
    assert float(summary["dimOpacity"]) < 0.5
    page.mouse.move(2, 2)
    wait_for_js(page, "cy.elements('.hover-dim').length === 0")


PICTOGRAPH = r"/\p{Extended_Pictographic}/u"


def test_icons_are_svg_and_no_emoji_reaches_the_page(bookinfo, live_server, page):
    open_graph(page, live_server, "edgeLabels=rps")
    locks = page.evaluate("cy.edges().filter(e => e.data('_mtls')).length")
    assert locks > 0
    assert page.evaluate("cy.edges().filter(e => e.data('_lock')).length") == locks
    wait_for_js(page, f"document.querySelectorAll('.graph-icons .mesh-icon-lock').length === {locks}")
    found = page.evaluate(
        f"""() => {{ const re = {PICTOGRAPH};
                    return {{
                      html: re.test(document.documentElement.outerHTML),
                      labels: cy.elements().map(e => e.data('label') || '').filter(l => re.test(l)),
                      legendIcons: document.querySelectorAll('.graph-legend svg.legend-icon').length,
                    }}; }}"""
    )
    assert found == {"html": False, "labels": [], "legendIcons": 3}
    page.locator(".graph-legend summary").click()
    page.locator(".graph-legend").screenshot(path=str(ARTIFACTS / "graph-legend-icons.png"))
    # Each lock sits just before its label: it ends where the label's box starts, on the label's line.
    gaps = page.evaluate(
        """() => cy.edges('[?_lock]').map(e => {
             const rs = e._private.rstyle;
             const icon = document.querySelector('.graph-icons .mesh-icon-lock');
             return [rs.labelWidth > 0, icon.getBoundingClientRect().width > 0];
           })"""
    )
    assert gaps and all(has_text and drawn for has_text, drawn in gaps), gaps


def test_exports_draw_the_lock_as_an_svg_path(bookinfo, live_server, page, tmp_path):
    open_graph(page, live_server, "edgeLabels=rps")
    with page.expect_download() as info:
        page.locator('[data-export="svg"]').click()
    svg = Path(info.value.path()).read_text()
    locks = page.evaluate("cy.edges().filter(e => e.data('_mtls')).length")
    assert svg.count('class="mesh-icon mesh-icon-lock"') == locks
    assert not re.search(r"[\U0001F000-\U0001FAFF\u2600-\u27BF]", svg)
    (tmp_path / "graph.svg").write_text(svg)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "graph-export-with-locks.svg").write_text(svg)

    # The PNG: the lock's pixels are painted where the icon goes (its dark body, not the label's white background).
    sample = page.evaluate(
        """async () => {
             const { pngBlob } = await import('/static/dashboard/graph-export.js');
             const { iconPlacements } = await import('/static/dashboard/graph-icons.js');
             const bitmap = await createImageBitmap(await pngBlob(cy));
             const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
             const ctx = canvas.getContext('2d');
             ctx.drawImage(bitmap, 0, 0);
             const bb = cy.mutableElements().boundingBox();
             const scale = bitmap.width / Math.ceil(bb.w);
             const lock = iconPlacements(cy).find(p => p.kind === 'lock');
             // The middle of the lock's body: y 11 of its 16-unit grid, drawn 9 units high.
             const x = Math.round((lock.x - bb.x1) * scale), y = Math.round((lock.y + 3 * 9 / 16 - bb.y1) * scale);
             const [r, g, b] = ctx.getImageData(x, y, 1, 1).data;
             return { r, g, b, width: bitmap.width };
           }"""
    )
    assert sample["width"] > 100
    assert max(sample["r"], sample["g"], sample["b"]) < 120, sample


#: Over 40 animation frames: how many traffic-canvas pixels on the edge labels' centre lines are painted, and how
#: many painted pixels there are in all (the dots are moving, so the second must not be 0).
DOTS_ON_LABELS_JS = """async () => {
  const c = document.getElementById('graph-traffic');
  const ctx = c.getContext('2d');
  const ratio = c.width / c.clientWidth;
  const zoom = cy.zoom(), pan = cy.pan();
  // Points along each label's middle line, from Cytoscape's own label geometry, inset by two pixels.
  const points = [];
  cy.edges().forEach(e => {
    const rs = e._private.rstyle;
    if (!e.data('label') || !(rs.labelWidth > 0)) return;
    const half = rs.labelWidth / 2 - 2 / zoom;
    for (let u = -half; u <= half; u += 1 / zoom) {
      for (const v of [-2 / zoom, 0, 2 / zoom]) {
        const x = rs.labelX + u * Math.cos(rs.labelAngle) - v * Math.sin(rs.labelAngle);
        const y = rs.labelY + u * Math.sin(rs.labelAngle) + v * Math.cos(rs.labelAngle);
        points.push([Math.round((x * zoom + pan.x) * ratio), Math.round((y * zoom + pan.y) * ratio)]);
      }
    }
  });
  let onLabels = 0, painted = 0;
  for (let frame = 0; frame < 40; frame++) {
    await new Promise(r => requestAnimationFrame(r));
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    for (const [x, y] of points) if (data[(y * c.width + x) * 4 + 3]) onLabels++;
    for (let i = 3; i < data.length; i += 16) if (data[i]) painted++;
  }
  return { points: points.length, onLabels, painted };
}"""


def test_traffic_dots_never_cover_edge_labels(bookinfo, live_server, page):
    open_graph(page, live_server, "edgeLabels=rps")
    result = page.evaluate(DOTS_ON_LABELS_JS)
    assert result["points"] > 100
    assert result["painted"] > 0, result
    assert result["onLabels"] == 0, result
    page.screenshot(path=str(ARTIFACTS / "graph-traffic-off-labels.png"))


def test_traffic_animation_stops_while_the_data_is_stale(bookinfo, live_server, page):
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
    open_graph(page, live_server)
    assert page.locator("#graph-banner").is_visible()
    assert page.locator("#ctl-traffic").is_checked()
    assert "animation paused" in page.locator("#graph-note").inner_text()
    result = page.evaluate(DOTS_ON_LABELS_JS)
    assert result["painted"] == 0, result


#: Every pair of boxes (compound nodes) of which neither holds the other, with their bounding boxes (labels
#: included) where they overlap.
OVERLAPPING_BOXES_JS = """() => {
  const boxes = cy.nodes().filter(n => n.isParent() && n.visible());
  const out = [];
  boxes.forEach((a, i) => boxes.forEach((b, j) => {
    if (j <= i || a.ancestors().contains(b) || b.ancestors().contains(a)) return;
    const p = a.boundingBox({ includeLabels: true }), q = b.boundingBox({ includeLabels: true });
    if (p.x1 < q.x2 && q.x1 < p.x2 && p.y1 < q.y2 && q.y1 < p.y2) out.push([a.data('_name'), b.data('_name')]);
  }));
  return { boxes: boxes.map(b => b.data('_name')), overlaps: out };
}"""


@pytest.mark.parametrize("boxes", ["cluster,namespace,app", "namespace,app", "namespace"])
def test_concentric_layout_keeps_boxes_apart(bookinfo, live_server, page, boxes):
    open_graph(page, live_server, f"layout=concentric&boxBy={boxes}")
    result = page.evaluate(OVERLAPPING_BOXES_JS)
    assert {"istio-system", "bookinfo"} <= set(result["boxes"]), result
    assert result["overlaps"] == [], result
    # Every node is still inside its own boxes.
    outside = page.evaluate(
        """() => cy.nodes().filter(n => !n.isParent()).filter(n => n.ancestors().some(a => {
             const p = a.boundingBox(), q = n.boundingBox({ includeLabels: false });
             return q.x1 < p.x1 || q.x2 > p.x2 || q.y1 < p.y1 || q.y2 > p.y2; })).map(n => n.data('_name'))"""
    )
    assert outside == []
    page.screenshot(path=str(ARTIFACTS / f"graph-concentric-{boxes.replace(',', '-')}.png"))


def test_menu_and_hover_screenshots(bookinfo, live_server, page):
    """Leaves pictures of the menu over a hovered graph for a person to look at (test-artifacts/)."""
    open_graph(page, live_server, "edgeLabels=rps")
    x, y = rendered_point(page, SERVICE_REVIEWS)
    page.mouse.click(x, y, button="right")
    page.locator("#graph-menu").wait_for(state="visible")
    page.mouse.move(*rendered_point(page, "n.data('workload') === 'productpage-v1'"))
    wait_for_js(page, "cy.elements('.hover-dim').length > 0")
    page.screenshot(path=str(ARTIFACTS / "graph-menu-and-hover.png"))
    assert page.locator("#graph-menu").is_visible()
