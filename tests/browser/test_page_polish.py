"""Details a Kiali user notices: table headers that never split a word, a mini-graph whose labels do not overlap,
a namespace picker that closes when focus leaves it, and styled 404/500 pages."""

from __future__ import annotations

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

#: Table cells (`th` or `td`) with a word laid out on more than one line (a Range over the word has several line
#: boxes). A break after a hyphen, slash, colon, comma or dot is a break between words.
SPLIT_WORDS_JS = """(selector) => {
  const split = [];
  for (const th of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s\\-\\/:,.]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) split.push(match[0]);
      }
    }
  }
  return split;
}"""


@pytest.mark.parametrize("width", [420, 800, 1280])
def test_table_headers_never_break_inside_a_word(bookinfo, live_server, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    for path in ["/inventory/", "/namespaces/bookinfo/workloads/details-v1/", "/services/", "/workloads/"]:
        page.goto(f"{live_server.url}{path}")
        assert page.locator("table.grid th").count() > 3
        assert page.evaluate(SPLIT_WORDS_JS, "table.grid th") == [], path
        if width >= 800:
            # Nor do short words in cells ("Deployment", "Healthy") where the page is wide enough for them.
            assert page.evaluate(SPLIT_WORDS_JS, "table.grid td") == [], path
    page.goto(f"{live_server.url}/inventory/")
    page.screenshot(path=str(ARTIFACTS / f"inventory-tables-{width}.png"), full_page=True)


#: Label boxes of the mini-graph that overlap another label or another node's body.
OVERLAPPING_LABELS_JS = """() => {
  const cy = window.miniCy;
  const labelled = cy.elements().filter(e => e.data('label'));
  const labelOnly = { includeNodes: false, includeEdges: false, includeLabels: true };
  const labels = labelled.map(e => [e.id(), e.boundingBox(labelOnly)]);
  const bodies = cy.nodes().map(n => [n.id(), n.boundingBox({ includeLabels: false })]);
  const hit = (p, q) => p.x1 < q.x2 && q.x1 < p.x2 && p.y1 < q.y2 && q.y1 < p.y2;
  const out = [];
  labels.forEach(([a, p], i) => {
    labels.forEach(([b, q], j) => { if (j > i && hit(p, q)) out.push([a, b]); });
    bodies.forEach(([b, q]) => { if (b !== a && hit(p, q)) out.push([a, b]); });
  });
  return { labels: labels.length, overlaps: out };
}"""


@pytest.mark.parametrize(
    "path", ["/namespaces/bookinfo/services/reviews/", "/namespaces/bookinfo/workloads/productpage-v1/"]
)
def test_the_mini_graph_lays_out_without_overlapping_labels(bookinfo, live_server, page, path):
    page.goto(f"{live_server.url}{path}")
    wait_for_js(page, "window.miniCy !== undefined")
    result = page.evaluate(OVERLAPPING_LABELS_JS)
    assert result["labels"] >= 5, result  # the node, three or more neighbours and their edges
    assert result["overlaps"] == [], result
    page.locator("#mini-graph").screenshot(path=str(ARTIFACTS / f"mini-graph-{path.strip('/').replace('/', '-')}.png"))


def test_the_namespace_picker_closes_when_focus_leaves_it(bookinfo, live_server, page):
    page.goto(f"{live_server.url}/graph/")
    wait_for_js(page, "window.graphReady === true")
    picker = page.locator("#ns-picker")
    page.locator("#ns-summary").click()
    assert picker.evaluate("d => d.open")
    # Ticking a namespace keeps it open (a click on the label moves focus for a moment).
    page.locator("#ns-picker label", has_text="bookinfo").click()
    assert picker.evaluate("d => d.open")
    wait_for_js(page, "location.search.includes('namespaces=bookinfo')")
    # Tabbing out of it closes it.
    page.locator('#ns-picker input[value="bookinfo"]').focus()
    for _ in range(page.locator("#ns-picker input").count() + 1):
        if not picker.evaluate("d => d.contains(document.activeElement)"):
            break
        page.keyboard.press("Tab")
    wait_for_js(page, "!document.getElementById('ns-picker').open")
    # Escape closes it and gives focus back to its summary; so does a click elsewhere.
    page.locator("#ns-summary").click()
    assert picker.evaluate("d => d.open")
    page.keyboard.press("Escape")
    wait_for_js(page, "!document.getElementById('ns-picker').open")
    assert page.evaluate("document.activeElement.id") == "ns-summary"
    page.locator("#ns-summary").click()
    page.locator("#graph-counts").click()
    wait_for_js(page, "!document.getElementById('ns-picker').open")


def test_the_404_and_500_pages_look_like_the_rest_of_mesh_ui(bookinfo, live_server, page, settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.dashboard.error_urls"
    response = page.goto(f"{live_server.url}/namespaces/bookinfo/no-such-page/")
    assert response is not None and response.status == 404
    card = page.locator(".error-page")
    assert card.is_visible()
    assert page.locator("h1").inner_text() == "Page not found"
    # Styled: the card is white on the page's grey, centred, and the header's nav is there.
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    assert page.locator("nav.mainnav").is_visible()
    page.screenshot(path=str(ARTIFACTS / "error-404.png"), full_page=True)
    page.locator(".error-button").click()
    page.wait_for_url(f"{live_server.url}/")

    response = page.goto(f"{live_server.url}/test-failure/")
    assert response is not None and response.status == 500
    assert page.locator(".error-page[data-status='500']").is_visible()
    assert page.locator(".error-code").inner_text() == "500"
    assert page.locator("nav.mainnav").count() == 0  # no user context on a 500
    page.screenshot(path=str(ARTIFACTS / "error-500.png"), full_page=True)
    # Chromium logs the documents' own statuses as console errors; those two are what this test asked for.
    expected = {"404 (Not Found)", "500 (Internal Server Error)"}
    page.console_errors[:] = [e for e in page.console_errors if not any(s in e for s in expected)]
