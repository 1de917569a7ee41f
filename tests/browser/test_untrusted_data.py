"""Names, labels and annotations from the cluster are untrusted: XSS payloads in them render as inert text.

A cluster (or a compromised API server, which need not enforce Kubernetes' name rules) hands mesh-ui objects whose
names, labels, annotations, error texts and telemetry labels hold script. Every page, the graph with its side
panel, and the graph's exports are opened in Chromium under the real Content-Security-Policy; a payload that ran
would set ``window.__xss`` or open a dialog, and one that reached the DOM as HTML would be blocked by the policy and
reported through ``securitypolicyviolation``. None of that may happen, and the payloads must show as text.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from devtools.browser_wait import wait_for_js
from tests.browser.conftest import store_edited_snapshot

pytestmark = pytest.mark.browser

#: Each part tries another way in: a URL scheme (links), an attribute breakout, a tag with an inline handler, a
#: script element, a </script> that would end a json_script block, and template syntax.
HOSTILE = (
    "javascript:window.__xss='js'//"
    "<img src=x onerror=\"window.__xss='img'\">"
    "\"><script>window.__xss='script'</script>"
    "</script><svg onload=window.__xss='svg'>"
    "{{7*7}}"
)
#: A namespace name holds at most 63 characters.
HOSTILE_NS = '<img src=x onerror="window.__xss=1">{{7*7}}'

WATCH_PAGE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
INJECTED = "img[src='x'], svg[onload], [onerror], [onload], script:not([src]):not([type='application/json'])"


@pytest.fixture
def hostile_cluster(bookinfo: Any) -> Any:
    """Bookinfo plus hostile rows: a namespace, a workload with its pod, a service, a VirtualService, failing sync
    and metrics statuses whose errors quote them, and a snapshot whose reviews-v2 node carries them."""
    from inventory.models import IstioObject, Namespace, Pod, Service, SyncStatus, Workload
    from topology.models import MetricsSourceStatus

    cluster = bookinfo.cluster
    metadata = {"labels": {"app": HOSTILE, "version": HOSTILE, "x": HOSTILE}, "annotations": {HOSTILE: HOSTILE}}
    Namespace.objects.create(cluster=cluster, name=HOSTILE_NS, injection="enabled", **metadata)
    Workload.objects.create(
        cluster=cluster,
        namespace="bookinfo",
        name=HOSTILE,
        kind="Deployment",
        app=HOSTILE,
        version=HOSTILE,
        template_labels=metadata["labels"],
        desired_replicas=1,
        ready_replicas=1,
        available_replicas=1,
        sidecar_present=True,
        **metadata,
    )
    Pod.objects.create(
        cluster=cluster,
        namespace="bookinfo",
        name=f"{HOSTILE}-pod",
        phase="Running",
        ready=True,
        sidecar=True,
        containers_ready=2,
        containers_total=2,
        workload_kind="Deployment",
        workload_name=HOSTILE,
        **metadata,
    )
    Service.objects.create(
        cluster=cluster, namespace=HOSTILE_NS, name=HOSTILE, selector={"app": HOSTILE}, ports=[], **metadata
    )
    IstioObject.objects.create(
        cluster=cluster,
        namespace=HOSTILE_NS,
        name=HOSTILE,
        group="networking.istio.io",
        version="v1",
        kind="VirtualService",
        spec={"hosts": [HOSTILE], "http": [{"route": [{"destination": {"host": HOSTILE, "subset": HOSTILE}}]}]},
        **metadata,
    )
    SyncStatus.objects.update_or_create(
        cluster=cluster, kind="pods", defaults={"state": SyncStatus.State.FAILED, "last_error": HOSTILE}
    )
    MetricsSourceStatus.objects.filter(cluster=cluster).update(consecutive_failures=1, last_error=HOSTILE)

    def make_hostile(data: dict[str, Any]) -> None:
        if data.get("workload") == "reviews-v2":
            data.update(workload=HOSTILE, app=HOSTILE, version=HOSTILE, healthReason=HOSTILE)

    store_edited_snapshot(cluster, make_hostile)
    return cluster


def watch(page: Any) -> Any:
    """Record the page's dialogs and CSP violations (checked by :func:`assert_inert`)."""
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(WATCH_PAGE)
    return page


@pytest.fixture
def watched_page(page: Any) -> Any:
    """The page logged in as alice, watched."""
    return watch(page)


def assert_inert(page: Any) -> None:
    """Nothing ran, nothing was injected as markup, the policy had nothing to block."""
    assert page.evaluate("window.__xss") is None, page.url
    assert page.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0, page.url
    assert page.evaluate("window.__cspViolations") == [], page.url
    assert page.dialogs == [], page.url


def detail_url(name: str, namespace: str, object_name: str) -> str:
    from django.urls import reverse

    return reverse(f"dashboard:{name}", kwargs={"namespace": namespace, "name": object_name})


def test_pages_show_hostile_cluster_strings_as_text(hostile_cluster, live_server, watched_page):
    page = watched_page
    pages = {
        "/": HOSTILE_NS,
        "/applications/": HOSTILE,
        "/workloads/": HOSTILE,
        "/services/": HOSTILE,
        "/istio/": HOSTILE,
        "/inventory/": HOSTILE_NS,
        detail_url("workload", "bookinfo", HOSTILE): HOSTILE,
        detail_url("application", "bookinfo", HOSTILE): HOSTILE,
        detail_url("service", HOSTILE_NS, HOSTILE): HOSTILE,
    }
    for path, shown in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert shown in page.inner_text("main"), path
        # The header's banner says which kind fails; its error text is for admins only (the admin's sync status
        # list below shows it to one, as text).
        banner = page.inner_text('[data-banner="sync"]')
        assert "pods" in banner and HOSTILE not in banner, path
        assert_inert(page)


def test_the_graph_its_panel_and_links_keep_hostile_strings_inert(hostile_cluster, live_server, watched_page):
    page = watched_page
    page.goto(f"{live_server.url}/graph/?graphType=workload")
    wait_for_js(page, "window.graphReady === true")
    label = page.evaluate("(w) => cy.nodes().filter(n => n.data('workload') === w)[0].data('label')", HOSTILE)
    assert HOSTILE in label  # Cytoscape draws it on the canvas as text
    assert HOSTILE_NS in page.text_content("#ns-picker")  # a closed <details>: not rendered, still text
    page.evaluate("(w) => { cy.nodes().filter(n => n.data('workload') === w)[0].emit('tap'); }", HOSTILE)
    panel = page.locator("#graph-panel")
    panel.wait_for(state="visible")
    assert HOSTILE in panel.inner_text()
    assert_inert(page)

    # The panel's links lead to the detail pages by path, whatever the name: never to a javascript: URL.
    hrefs = panel.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs and all(href.startswith(f"{live_server.url}/namespaces/") for href in hrefs)
    with page.expect_navigation() as navigation:
        panel.get_by_role("link", name=f"Workload {HOSTILE}").click()
    assert navigation.value is not None and navigation.value.status == 200  # a "/" in the name stays in its segment
    assert HOSTILE in page.inner_text("h1")
    assert_inert(page)


def test_graph_exports_carry_hostile_strings_as_data(hostile_cluster, live_server, watched_page, tmp_path: Path):
    page = watched_page
    page.goto(f"{live_server.url}/graph/?graphType=workload")
    wait_for_js(page, "window.graphReady === true")

    with page.expect_download() as exported:
        page.click("[data-export=json]")
    body = json.loads(Path(exported.value.path()).read_text())  # the strings as data, exactly as stored
    assert HOSTILE in {node["data"].get("workload") for node in body["elements"]["nodes"]}

    with page.expect_download() as svg_download:
        page.click("[data-export=svg]")
    svg_path = tmp_path / "graph.svg"
    svg_download.value.save_as(svg_path)
    svg = ET.parse(svg_path).getroot()  # well-formed: the labels are escaped text
    assert any(HOSTILE in "".join(element.itertext()) for element in svg.iter())
    tags = {element.tag.rsplit("}", 1)[-1] for element in svg.iter()}
    assert not tags & {"script", "img", "foreignObject"}
    assert not [name for element in svg.iter() for name in element.attrib if name.lower().startswith("on")]
    assert_inert(page)

    # Opened on its own, as a user might open the download, the SVG runs nothing either.
    page.goto(svg_path.as_uri())
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_the_admin_lists_and_forms_keep_hostile_strings_inert(hostile_cluster, live_server, admin_page):
    """The admin (Django's own templates and scripts) runs under the same policy, on the same hostile rows."""
    from django.urls import reverse

    from inventory.models import IstioObject, Workload

    page = watch(admin_page)
    workload = Workload.objects.get(name=HOSTILE)
    istio = IstioObject.objects.get(name=HOSTILE)
    paths = [
        reverse("admin:index"),
        reverse("admin:inventory_workload_changelist"),
        reverse("admin:inventory_workload_change", args=[workload.pk]),
        reverse("admin:inventory_namespace_changelist"),
        reverse("admin:inventory_istioobject_change", args=[istio.pk]),
        reverse("admin:istio_config_virtualserviceobject_changelist"),
        reverse("admin:istio_config_virtualserviceobject_change", args=[istio.pk]),
        reverse("admin:istio_config_virtualserviceobject_delete", args=[istio.pk]),
        reverse("admin:inventory_syncstatus_changelist"),
        reverse("admin:inventory_cluster_change", args=[hostile_cluster.pk]),
        reverse("admin:inventory_cluster_add"),
    ]
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert_inert(page)
    page.goto(f"{live_server.url}{reverse('admin:inventory_workload_changelist')}")
    assert HOSTILE in page.inner_text("#result_list")
