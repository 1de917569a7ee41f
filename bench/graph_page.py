"""Benchmark: the graph page in headless Chromium on a synthetic graph of 1,000 nodes and 3,000 edges.

A Kiali-shaped versioned-app graph (100 namespaces x 5 apps x 2 versions, namespace and app boxes, 3,000 edges with
rates, response codes, latencies, mTLS and health; 80% of the edges inside a namespace) is stored as a snapshot in
a fresh SQLite database. ``manage.py runserver --nostatic`` serves it as deployed: ``collectstatic`` first, WhiteNoise
serving the pre-compressed static files and ``GZipMiddleware`` compressing the API answers; Playwright drives
Chromium with an empty cache.

It prints the machine-speed reference of the run (``bench/machine_speed.py``), then, per run and as the median
(of at least 5 runs):

1. time from navigation to an interactive graph: ``window.graphFirstReadyMs``, set by the page once the graph is
   drawn and laid out (``window.cy`` exists, layout done, ``graph:ready`` fired);
2. how responsive the drawn graph is: a tap that opens the side panel, a zoom and a hover (dimming all but the
   node's neighbourhood), each until the next painted frame;
3. the bytes the page downloaded (response bodies as transferred, i.e. compressed where the server compresses) and
   what gzip -6 makes of each response, against the graph JSON alone, raw and gzip-compressed.

    .venv/bin/python bench/graph_page.py [--nodes 1000 --edges 3000 --runs 5 --layout dagre]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from machine_speed import describe_machine_speed

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MESH_UI_CHROMIUM", "/usr/bin/chromium")
CLUSTER = "bench"
WINDOW = 300
APPS_PER_NAMESPACE = 5
VERSIONS = ("v1", "v2")


def node_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def build_synthetic_graph(nodes: int, edges: int, seed: int) -> dict[str, Any]:
    """A versioned-app graph as ``topology.graph.build_graph`` would send it (boxes first, numbers as strings)."""
    rng = random.Random(seed)
    per_namespace = APPS_PER_NAMESPACE * len(VERSIONS)
    namespaces = [f"ns-{i:03d}" for i in range(max(1, nodes // per_namespace))]
    box_nodes: list[dict[str, Any]] = []
    leaves: list[dict[str, Any]] = []
    for ns in namespaces:
        ns_box = node_id("box", CLUSTER, ns)
        box_nodes.append({"id": ns_box, "nodeType": "box", "cluster": CLUSTER, "isBox": "namespace", "namespace": ns})
        for a in range(APPS_PER_NAMESPACE):
            app = f"app-{a}"
            app_box = node_id("box", CLUSTER, ns, app)
            box_nodes.append(
                {
                    "id": app_box,
                    "nodeType": "box",
                    "cluster": CLUSTER,
                    "isBox": "app",
                    "namespace": ns,
                    "app": app,
                    "parent": ns_box,
                    "healthStatus": "Healthy",
                }
            )
            for version in VERSIONS:
                leaves.append(
                    {
                        "id": node_id("vapp", CLUSTER, ns, app, version),
                        "nodeType": "app",
                        "cluster": CLUSTER,
                        "namespace": ns,
                        "parent": app_box,
                        "workload": f"{app}-{version}",
                        "app": app,
                        "version": version,
                        "destServices": [{"cluster": CLUSTER, "namespace": ns, "name": app}],
                        "healthStatus": "Healthy",
                    }
                )
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for leaf in leaves:
        by_ns.setdefault(leaf["namespace"], []).append(leaf)
    rates_in: dict[str, float] = {}
    rates_out: dict[str, float] = {}
    edge_rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    while len(edge_rows) < edges:
        ns_index = rng.randrange(len(namespaces))
        source = rng.choice(by_ns[namespaces[ns_index]])
        target_ns = namespaces[ns_index if rng.random() < 0.8 else (ns_index + 1) % len(namespaces)]
        target = rng.choice(by_ns[target_ns])
        key = (source["id"], target["id"])
        if source is target or key in seen:
            continue
        seen.add(key)
        rate = rng.randint(1, 200) / 4
        error = 5.0 if rng.random() < 0.05 else 0.0
        rates_in[target["id"]] = rates_in.get(target["id"], 0) + rate
        rates_out[source["id"]] = rates_out.get(source["id"], 0) + rate
        host = f"{target['app']}.{target['namespace']}.svc.cluster.local"
        responses: dict[str, Any] = {
            "200": {"flags": {"-": f"{100 - error:.1f}"}, "hosts": {host: f"{100 - error:.1f}"}}
        }
        http_rates = {"http": f"{rate:.2f}", "httpPercentReq": "10.0"}
        if error:
            responses["503"] = {"flags": {"UF": f"{error:.1f}"}, "hosts": {host: f"{error:.1f}"}}
            http_rates |= {"http5xx": f"{rate * error / 100:.2f}", "httpPercentErr": f"{error:.1f}"}
        p95 = rng.choice((4, 12, 40, 180, 700))
        edge_rows.append(
            {
                "id": node_id(*key, "http"),
                "source": source["id"],
                "target": target["id"],
                "isMTLS": "100",
                "traffic": {"protocol": "http", "rates": http_rates, "responses": responses},
                "responseTime": str(p95),
                "responseTimes": {"avg": f"{p95 / 2:.2f}", "p50": f"{p95 / 2.5:.2f}", "p95": f"{p95:.2f}"},
                "healthStatus": "Degraded" if error else "Healthy",
            }
        )
    for leaf in leaves:
        rates = {}
        if leaf["id"] in rates_in:
            rates["httpIn"] = f"{rates_in[leaf['id']]:.2f}"
        if leaf["id"] in rates_out:
            rates["httpOut"] = f"{rates_out[leaf['id']]:.2f}"
        if rates:
            leaf["traffic"] = [{"protocol": "http", "rates": rates}]
    edge_rows.sort(key=lambda e: (e["source"], e["target"]))
    return {
        "timestamp": int(time.time()),
        "duration": WINDOW,
        "graphType": "versionedApp",
        "elements": {"nodes": [{"data": n} for n in box_nodes + leaves], "edges": [{"data": e} for e in edge_rows]},
    }


def store_snapshot(graph: dict[str, Any]) -> None:
    from django.utils import timezone

    from inventory.models import Cluster, Namespace
    from topology.models import GraphSnapshot, SnapshotGraph

    cluster = Cluster.objects.create(name=CLUSTER)
    namespaces = sorted({n["data"]["namespace"] for n in graph["elements"]["nodes"]})
    Namespace.objects.bulk_create([Namespace(cluster=cluster, name=ns) for ns in namespaces])
    snapshot = GraphSnapshot.objects.create(
        cluster=cluster,
        taken_at=timezone.now(),
        source="direct",
        namespaces=namespaces,
        windows=[WINDOW],
        health_window=WINDOW,
    )
    SnapshotGraph.create_from_graph(graph, snapshot=snapshot, graph_type="versionedApp", window=WINDOW)


def log_in_bench_user() -> str:
    """A session of a fresh user in the bench's database: every page and API endpoint needs a login (and a role)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import RoleGrant

    user = get_user_model().objects.create_user("bench")
    RoleGrant.objects.create(user=user, role="viewer")
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


def wait_for_server(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url}")


def fetch(url: str, session: str) -> bytes:
    """GET as the bench user: every page, API answer and static file is fetched with her session cookie."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


RESPONSIVENESS_JS = """async () => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  let t = performance.now();
  cy.nodes().filter((n) => !n.isParent())[0].emit("tap");
  await frame();
  const tapMs = performance.now() - t;
  t = performance.now();
  cy.zoom({ level: cy.zoom() * 1.5, renderedPosition: { x: 300, y: 300 } });
  await frame();
  await frame();
  const zoomMs = performance.now() - t;
  // Hover highlighting (graph-interact.js): the neighbourhood stays, the rest dims, until the painted frame.
  const hovered = cy.nodes().filter((n) => !n.isParent())[1];
  t = performance.now();
  hovered.emit("mouseover");
  await frame();
  await frame();
  const hoverMs = performance.now() - t;
  hovered.emit("mouseout");
  await frame();
  return { tapMs, zoomMs, hoverMs, panelOpen: !document.getElementById("graph-panel").hidden };
}"""


def run_page(browser: Any, url: str, session: str) -> dict[str, Any]:
    from devtools.browser_wait import wait_for_js  # on sys.path once main() has put the project there

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # Scoped to the site's root: a cookie set for the page's URL would keep the path /graph/ from the API calls.
    context.add_cookies([{"name": "sessionid", "value": session, "domain": "127.0.0.1", "path": "/"}])
    page = context.new_page()
    errors: list[str] = []
    urls: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: urls.append(r.url))
    page.goto(url)
    wait_for_js(page, "window.graphReady === true", timeout=120)
    ready_ms = float(page.evaluate("window.graphFirstReadyMs"))
    counts = page.evaluate("[cy.nodes().length, cy.edges().length]")
    responsiveness = page.evaluate(RESPONSIVENESS_JS)
    entries = page.evaluate(
        """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                 .map((e) => ({name: e.name, transfer: e.transferSize, body: e.encodedBodySize}))"""
    )
    context.close()
    if errors:
        raise SystemExit(f"console errors: {errors}")
    return {"ready_ms": ready_ms, "counts": counts, "entries": entries, "urls": urls, **responsiveness}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5, help="page loads; the figures are their medians (at least 5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--layout", default="dagre", help="the page's layout (dagre, cose, breadthfirst, concentric)")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5: the figures are medians")
    print(describe_machine_speed())

    workdir = Path(tempfile.mkdtemp(prefix="mesh-ui-graph-page-"))
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    env = {**os.environ, "MESH_UI_VAR_DIR": str(workdir), "DJANGO_SETTINGS_MODULE": "mesh_ui.settings"}
    env.pop("DATABASE_URL", None)
    os.environ.update(MESH_UI_VAR_DIR=str(workdir), DJANGO_SETTINGS_MODULE="mesh_ui.settings")
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from devtools.prometheus_server import find_free_port

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        env["MESH_UI_STATIC_COLLECTED"] = "1"
        graph = build_synthetic_graph(args.nodes, args.edges, args.seed)
        store_snapshot(graph)
        session = log_in_bench_user()

        port = find_free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--nostatic", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/healthz")
        graph_json = fetch(f"{base}/api/v1/graph?graphType=versionedApp&boxBy=cluster%2Cnamespace%2Capp", session)
        json_raw, json_gzip = len(graph_json), len(gzip.compress(graph_json, 6))

        from playwright.sync_api import sync_playwright

        runs = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            try:
                for _ in range(args.runs):
                    runs.append(run_page(browser, f"{base}/graph/?refresh=0&layout={args.layout}", session))
            finally:
                browser.close()

        first = runs[0]
        page_raw = sum(e["body"] for e in first["entries"])
        page_transfer = sum(e["transfer"] for e in first["entries"])
        page_gzip = 0
        rows = []
        for entry in first["entries"]:
            body = fetch(entry["name"], session)
            packed = len(gzip.compress(body, 6))
            page_gzip += packed
            rows.append((entry["name"].replace(base, ""), len(body), packed))

        nodes, edges = first["counts"]
        print(
            f"Synthetic graph: {nodes} Cytoscape nodes (incl. boxes), {edges} edges; layout {args.layout}; "
            f"{args.runs} runs, cold cache"
        )
        for i, run in enumerate(runs, 1):
            print(
                f"  run {i}: interactive {run['ready_ms']:.0f} ms, tap->panel {run['tapMs']:.0f} ms, "
                f"zoom->frame {run['zoomMs']:.0f} ms, hover->frame {run['hoverMs']:.0f} ms"
            )
        print(f"Median time to interactive graph: {statistics.median(r['ready_ms'] for r in runs):.0f} ms")
        print(f"Median tap->panel: {statistics.median(r['tapMs'] for r in runs):.0f} ms; ", end="")
        print(f"zoom->frame: {statistics.median(r['zoomMs'] for r in runs):.0f} ms; ", end="")
        print(f"hover->frame: {statistics.median(r['hoverMs'] for r in runs):.0f} ms")
        print("\nDownloads of one page load (bytes): raw / gzip -6")
        for name, raw, packed in rows:
            print(f"  {raw:>10,} {packed:>10,}  {name[:90]}")
        print(f"  {page_raw:>10,} {page_gzip:>10,}  total (as transferred, with headers: {page_transfer:,})")
        print(f"Graph JSON alone: {json_raw:,} raw, {json_gzip:,} gzip")
        print(
            f"Page / gzip graph JSON: {page_raw / json_gzip:.2f}x as served, "
            f"{page_gzip / json_gzip:.2f}x with gzip -6 on all"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
