"""The graph page without a mouse (graph-keyboard.js): Tab into the graph, arrows and Tab between nodes, Enter for
the side panel, "d" for the node graph, Escape and Backspace, what the aria-live region reads out; and the PNG
export through Cytoscape's public cy.png()."""

from __future__ import annotations

import itertools
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import ARTIFACTS, open_page, session_cookie
from tests.browser.test_graph_interact import READY, SERVICE_REVIEWS, open_graph

pytestmark = pytest.mark.browser

FOCUSED_NODE_JS = "(() => { const n = cy.nodes('.kb-focus'); return n.length === 1 ? n.id() : null; })()"


def node_id(page: Any, selector_js: str) -> str:
    return str(page.evaluate(f"cy.nodes().filter(n => !n.isParent() && ({selector_js}))[0].id()"))


def tab_into_graph(page: Any) -> None:
    """Press Tab from the top of the page until the graph's canvas has focus (the toolbar comes first)."""
    page.evaluate("document.activeElement?.blur()")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.id") == "graph-cy":
            return
    raise AssertionError("Tab never reached the graph")


def position(page: Any, element_id: str) -> tuple[float, float]:
    x, y = page.evaluate("(id) => { const p = cy.getElementById(id).position(); return [p.x, p.y]; }", element_id)
    return float(x), float(y)


def walk_with_arrows(page: Any, target: str) -> list[str]:
    """Steer the keyboard focus to `target` with arrow keys, each towards it on its larger offset; each step must
    land on a node ahead in the arrow's direction. Returns the keys pressed."""
    pressed: list[str] = []
    for _ in range(20):
        current = page.evaluate(FOCUSED_NODE_JS)
        assert current, "no node has the keyboard focus"
        if current == target:
            return pressed
        cx, cy_ = position(page, current)
        tx, ty = position(page, target)
        dx, dy = tx - cx, ty - cy_
        sideways = abs(dx) >= abs(dy)
        key = ("ArrowRight" if dx > 0 else "ArrowLeft") if sideways else ("ArrowDown" if dy > 0 else "ArrowUp")
        page.keyboard.press(key)
        pressed.append(key)
        moved = page.evaluate(FOCUSED_NODE_JS)
        assert moved != current, f"{key} from {current} went nowhere"
        mx, my = position(page, moved)
        ahead = {"ArrowRight": mx - cx, "ArrowLeft": cx - mx, "ArrowDown": my - cy_, "ArrowUp": cy_ - my}[key]
        assert ahead > 0, f"{key} from {current} went to {moved}, which is not that way"
    raise AssertionError(f"arrows never reached {target} (pressed {pressed})")


def test_keyboard_only_walk_selects_drills_down_and_goes_back(bookinfo, live_server, page):
    open_graph(page, live_server)
    assert page.evaluate("cy.nodes('.kb-focus').length") == 0
    tab_into_graph(page)
    # A visible focus ring on the canvas, and a node marked with the keyboard focus (an outline in Cytoscape).
    ring = page.evaluate(
        """(() => { const s = getComputedStyle(document.getElementById('graph-cy'));
                    return [s.outlineStyle, s.outlineWidth]; })()"""
    )
    assert ring == ["solid", "3px"], ring
    start = page.evaluate(FOCUSED_NODE_JS)
    assert start
    assert float(page.evaluate(f"cy.getElementById('{start}').style('outline-width')").rstrip("px")) >= 3
    page.screenshot(path=str(ARTIFACTS / "graph-keyboard-focus.png"))

    target = node_id(page, SERVICE_REVIEWS)
    walk_with_arrows(page, target)

    # The live region reads out the node: name, type, namespace and its request rate (as the page formats it).
    rps = float(page.evaluate(f"cy.getElementById('{target}').data('_rps')"))
    assert rps > 0
    spoken = page.locator("#graph-announce").inner_text()
    match = re.fullmatch(r"reviews, service, namespace bookinfo, ([0-9.]+) rps", spoken)
    assert match, spoken
    assert float(match.group(1)) == pytest.approx(rps, rel=0.01)
    assert page.locator("#graph-announce").get_attribute("aria-live") == "polite"

    # Enter: the node is selected and the side panel shows it (what a click does).
    assert page.locator("#graph-panel").is_hidden()
    page.keyboard.press("Enter")
    page.locator("#graph-panel").wait_for(state="visible")
    assert page.evaluate("document.getElementById('graph-panel').dataset.elementId") == target
    assert page.evaluate("cy.nodes(':selected').map(n => n.id())") == [target]
    assert page.evaluate("document.activeElement.id") == "graph-cy"  # the walk can go on

    # Escape: selection cleared, panel closed.
    page.keyboard.press("Escape")
    page.locator("#graph-panel").wait_for(state="hidden")
    assert page.evaluate("cy.elements(':selected').length") == 0

    # "d": the node graph of the focused node (what a double-click does), the focus on its node there.
    page.keyboard.press("d")
    wait_for_js(page, "location.search.includes('node=service:bookinfo:reviews')")
    wait_for_js(page, READY)
    assert page.locator("#graph-breadcrumb").is_visible()
    wait_for_js(page, "cy.nodes('.kb-focus').length === 1")
    assert page.evaluate("cy.nodes('.kb-focus').data('isFocus')") is True

    # Backspace: back to the full graph.
    page.keyboard.press("Backspace")
    wait_for_js(page, "!location.search.includes('node=')")
    wait_for_js(page, READY)
    assert page.locator("#graph-breadcrumb").is_hidden()


def test_tab_walks_the_nodes_in_reading_order_then_leaves_the_graph(bookinfo, live_server, page):
    open_graph(page, live_server)
    tab_into_graph(page)
    order = page.evaluate(
        """() => cy.nodes().filter(n => !n.isParent())
                   .map(n => ({ id: n.id(), x: n.position('x'), y: n.position('y') }))"""
    )
    assert len(order) >= 5
    page.keyboard.press("Home")
    visited = [page.evaluate(FOCUSED_NODE_JS)]
    for _ in range(len(order) - 1):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "graph-cy"
        visited.append(page.evaluate(FOCUSED_NODE_JS))
    assert sorted(visited) == sorted(n["id"] for n in order)  # every node once
    ys = [position(page, v)[1] for v in visited]
    assert all(later >= earlier - 20 for earlier, later in itertools.pairwise(ys)), ys  # top to bottom
    # Past the last node, Tab leaves the graph (no keyboard trap) and the outline goes.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") != "graph-cy"
    assert page.evaluate("cy.elements('.kb-focus').length") == 0
    # Shift+Tab comes back in, onto the last node.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "graph-cy"
    assert page.evaluate(FOCUSED_NODE_JS) == visited[-1]


def test_e_cycles_the_focused_nodes_edges_and_enter_opens_the_edge(bookinfo, live_server, page):
    open_graph(page, live_server)
    tab_into_graph(page)
    target = node_id(page, SERVICE_REVIEWS)
    walk_with_arrows(page, target)
    edges = page.evaluate(f"cy.getElementById('{target}').connectedEdges().map(e => e.id())")
    assert len(edges) >= 2
    seen = []
    for _ in range(len(edges)):
        page.keyboard.press("e")
        seen.append(page.evaluate("cy.edges('.kb-focus').map(e => e.id())"))
    assert sorted(e for (e,) in seen) == sorted(edges)
    assert page.locator("#graph-announce").inner_text().startswith("Edge from ")
    page.keyboard.press("Enter")
    page.locator("#graph-panel").wait_for(state="visible")
    assert page.evaluate("document.getElementById('graph-panel').dataset.elementId") == seen[-1][0]
    # An arrow goes on from the node the edges belong to.
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("cy.edges('.kb-focus').length") == 0
    assert page.evaluate(FOCUSED_NODE_JS) != target


def test_question_mark_shows_the_keys_and_the_menu_key_opens_the_focused_nodes_menu(bookinfo, live_server, page):
    open_graph(page, live_server)
    help_box = page.locator("#graph-keys")
    assert help_box.get_attribute("open") is None
    tab_into_graph(page)
    page.keyboard.press("?")
    assert help_box.get_attribute("open") is not None
    assert "Shift+Enter" in page.locator(".graph-keys-body").inner_text().replace(" ", "")
    page.screenshot(path=str(ARTIFACTS / "graph-keyboard-help.png"))
    page.keyboard.press("Escape")
    assert help_box.get_attribute("open") is None
    target = node_id(page, SERVICE_REVIEWS)
    walk_with_arrows(page, target)
    page.keyboard.press("Shift+F10")
    menu = page.locator("#graph-menu")
    menu.wait_for(state="visible")
    assert page.evaluate("document.getElementById('graph-menu').dataset.nodeId") == target
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.id") == "graph-cy"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after the signature, a length and the chunk type)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_export_uses_cy_png_and_is_a_png_of_the_whole_graph(bookinfo, live_server, page):
    open_graph(page, live_server)
    page.evaluate(
        """() => { window.pngCalls = [];
                   const png = cy.png.bind(cy);
                   cy.png = (options) => { window.pngCalls.push(options); return png(options); }; }"""
    )
    with page.expect_download() as info:
        page.click("[data-export=png]")
    download = info.value
    name = download.suggested_filename
    assert re.fullmatch(r"mesh-graph-versionedApp-\d{8}T\d{6}\.png", name), name
    data = Path(download.path()).read_bytes()
    width, height = png_size(data)
    calls = page.evaluate("window.pngCalls")
    assert len(calls) == 1 and calls[0]["full"] is True and calls[0]["bg"] == "#ffffff", calls
    # The whole graph (not the viewport), at its own proportions, and a picture with something in it.
    bb_w, bb_h = page.evaluate(
        "(() => { const bb = cy.mutableElements().boundingBox(); return [Math.ceil(bb.w), Math.ceil(bb.h)]; })()"
    )
    assert 200 <= width <= 8000 and 100 <= height <= 8000, (width, height)
    assert width / height == pytest.approx(bb_w / bb_h, rel=0.02)
    assert len(data) > 10_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "graph-export.png").write_bytes(data)


def test_the_read_out_and_the_key_list_are_in_chinese_for_a_chinese_browser(
    bookinfo, live_server, browser, request, alice
):
    with open_page(browser, request, [session_cookie(alice, live_server)], locale="zh-CN") as page:
        open_graph(page, live_server)
        tab_into_graph(page)
        walk_with_arrows(page, node_id(page, SERVICE_REVIEWS))
        spoken = page.locator("#graph-announce").inner_text()
        comma = "\uff0c"  # the Chinese (full-width) comma of the translation
        assert re.fullmatch(rf"reviews{comma}service{comma}namespace bookinfo{comma}[0-9.]+ rps", spoken), spoken
        assert page.locator("#graph-keys summary").get_attribute("aria-label") == "键盘快捷键"
        page.keyboard.press("e")
        assert page.locator("#graph-announce").inner_text().startswith("从 ")
        # Drilled down, the breadcrumb's way back to the whole graph is in Chinese too.
        page.keyboard.press("d")
        wait_for_js(page, "location.search.includes('node=service:bookinfo:reviews')")
        wait_for_js(page, READY)
        assert page.locator("#graph-crumbs button").first.inner_text() == "完整拓扑图"


def test_a_click_shows_no_outline_and_the_keys_go_on_from_the_clicked_node(bookinfo, live_server, page):
    open_graph(page, live_server)
    target = node_id(page, SERVICE_REVIEWS)
    x, y = page.evaluate(
        """(id) => { const box = cy.container().getBoundingClientRect();
                     const p = cy.getElementById(id).renderedPosition(); return [box.left + p.x, box.top + p.y]; }""",
        target,
    )
    page.mouse.click(x, y)
    page.locator("#graph-panel").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "graph-cy"
    assert page.evaluate("cy.elements('.kb-focus').length") == 0
    assert page.evaluate("getComputedStyle(document.getElementById('graph-cy')).outlineStyle") == "none"
    tx, _ = position(page, target)
    page.keyboard.press("ArrowRight")
    moved = page.evaluate(FOCUSED_NODE_JS)
    assert moved and moved != target
    assert position(page, moved)[0] > tx
    assert page.evaluate("getComputedStyle(document.getElementById('graph-cy')).outlineStyle") == "solid"
