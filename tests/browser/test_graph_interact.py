"""The graph page as a Kiali user expects it: the node context menu, hover highlighting, SVG icons instead of emoji
(in the page and in exports), traffic dots that keep off edge labels, and a concentric layout whose boxes do not
overlap."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.browser_wait import wait_for_js

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

    # "Node graph" fires the event the drill-down listens to, with the node's id, and closes the menu.
    page.mouse.click(x, y, button="right")
    menu.wait_for(state="visible")
    node_id = page.evaluate(f"cy.nodes().filter(n => !n.isParent() && ({SERVICE_REVIEWS}))[0].id()")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    menu.wait_for(state="hidden")
    assert page.evaluate("window.nodeGraphEvents") == [{"nodeId": node_id}]

    # A click outside the menu closes it.
    page.mouse.click(x, y, button="right")
    menu.wait_for(state="visible")
    page.locator("#graph-counts").click()
    menu.wait_for(state="hidden")


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
