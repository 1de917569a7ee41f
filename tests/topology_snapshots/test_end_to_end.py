"""End to end: simulator traffic → real Prometheus scraping it → Celery snapshot task → stored snapshot → API.

Applying Istio's all-v1 routing through the simulator's Kubernetes API stops traffic to reviews v2/v3 in a later
snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from inventory.models import Cluster
from inventory.sync import sync_cluster
from tests.support.prometheus import require_prometheus, running_prometheus
from topology.tasks import take_graph_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.prometheus]
WINDOW = 10  # seconds: short windows keep the test short; Prometheus scrapes every second

DESTINATION_RULE = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "DestinationRule",
    "metadata": {"name": "reviews", "namespace": "bookinfo"},
    "spec": {
        "host": "reviews",
        "subsets": [{"name": v, "labels": {"version": v}} for v in ("v1", "v2", "v3")],
    },
}
ALL_V1 = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "reviews", "namespace": "bookinfo"},
    "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]},
}


@pytest.fixture
def live_mesh(tmp_path: Path) -> Iterator[object]:
    require_prometheus()
    from simulator import Simulator

    sim = Simulator(traffic=True, rps=30.0).start(host="127.0.0.1", port=0)
    sim.kubeconfig_path = sim.write_kubeconfig(tmp_path / "kubeconfig")  # type: ignore[attr-defined]
    try:
        with running_prometheus([f"127.0.0.1:{sim.port}"], scrape_interval="1s") as prometheus:
            sim.prometheus_url = prometheus.url  # type: ignore[attr-defined]
            yield sim
    finally:
        sim.stop()


def _edges(client) -> dict[tuple[str, str], dict]:
    graph = client.get(
        "/api/v1/graph", {"namespaces": "bookinfo", "graphType": "versionedApp", "duration": f"{WINDOW}s"}
    ).json()
    assert graph["snapshot"]["source"] == "prometheus"
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}

    def name(node_id: str) -> str:
        data = nodes[node_id]
        base = data.get("app") or data.get("service") or data.get("workload") or data["nodeType"]
        return f"{base}-{data['version']}" if data.get("version") and data.get("nodeType") == "app" else base

    return {(name(e["data"]["source"]), name(e["data"]["target"])): e["data"] for e in graph["elements"]["edges"]}


def _rate(edge: dict) -> float:
    return float(edge["traffic"].get("rates", {}).get("http", 0))


def _snapshot(cluster: Cluster) -> None:
    outcome = take_graph_snapshot.apply(args=[cluster.pk]).get()
    assert outcome["snapshot_id"], outcome


def test_live_bookinfo_graph_and_routing_change(live_mesh, settings, client):
    settings.MESH_UI_GRAPH_WINDOWS = [WINDOW]
    settings.MESH_UI_HEALTH_WINDOW = WINDOW
    settings.MESH_UI_SNAPSHOT_INTERVAL = 0.001  # every call may take a snapshot
    cluster = Cluster.objects.create(
        name="live", kubeconfig_path=str(live_mesh.kubeconfig_path), prometheus_url=live_mesh.prometheus_url
    )
    sync_cluster(cluster.pk)
    time.sleep(WINDOW + 3)
    _snapshot(cluster)

    edges = _edges(client)
    split = {
        v: float(edges[("reviews", f"reviews-{v}")]["traffic"]["rates"]["httpPercentReq"]) for v in ["v1", "v2", "v3"]
    }
    assert all(abs(share - 100 / 3) < 8 for share in split.values()), split
    ratings_callers = {source for (source, target), edge in edges.items() if target == "ratings" and _rate(edge) > 0}
    assert ratings_callers == {"reviews-v2", "reviews-v3"}

    api = k8s_config.new_client_from_config(config_file=str(live_mesh.kubeconfig_path))
    objects = k8s.CustomObjectsApi(api)
    objects.create_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "destinationrules", DESTINATION_RULE
    )
    objects.create_namespaced_custom_object("networking.istio.io", "v1", "bookinfo", "virtualservices", ALL_V1)
    time.sleep(WINDOW + 3)
    _snapshot(cluster)

    edges = _edges(client)
    assert _rate(edges[("reviews", "reviews-v1")]) > 0
    assert _rate(edges.get(("reviews", "reviews-v2"), {"traffic": {}})) == 0
    assert _rate(edges.get(("reviews", "reviews-v3"), {"traffic": {}})) == 0
    assert not any(target == "ratings" and _rate(edge) > 0 for (_, target), edge in edges.items())


def test_windows_built_in_worker_processes_equal_those_built_in_process(live_mesh, settings):
    """``MESH_UI_SNAPSHOT_PROCESSES``: each window fetched and built in its own process gives the same snapshot."""
    from topology.models import GraphSnapshot
    from topology.snapshots import PrometheusSource, take_snapshot

    settings.MESH_UI_GRAPH_WINDOWS = [WINDOW, 2 * WINDOW]
    settings.MESH_UI_HEALTH_WINDOW = WINDOW
    cluster = Cluster.objects.create(
        name="live", kubeconfig_path=str(live_mesh.kubeconfig_path), prometheus_url=live_mesh.prometheus_url
    )
    sync_cluster(cluster.pk)
    time.sleep(WINDOW + 3)
    at = time.time() - 2  # a moment Prometheus has fully ingested: both builds read the same samples
    outcomes = {}
    for processes in (2, 1):
        settings.MESH_UI_SNAPSHOT_PROCESSES = processes
        outcomes[processes] = take_snapshot(cluster.pk, PrometheusSource(live_mesh.prometheus_url), force=True, at=at)
    snapshots = {n: GraphSnapshot.objects.get(pk=o.snapshot_id) for n, o in outcomes.items()}
    graphs = {n: {(g.graph_type, g.window): g.json_bytes() for g in s.graphs.all()} for n, s in snapshots.items()}
    assert len(graphs[2]) == 8 and graphs[2] == graphs[1]
    assert b"reviews-v2" in graphs[2][("workload", WINDOW)]
    assert snapshots[2].health == snapshots[1].health and snapshots[2].health["workload"]
    assert snapshots[2].metrics == snapshots[1].metrics
    assert (outcomes[2].processes, outcomes[1].processes) == (2, 1)
    assert outcomes[2].source_ms > 0 and outcomes[2].processing_ms >= 0
