"""End to end: simulator traffic → real Prometheus scraping it → Celery snapshot tasks → stored snapshot → API.

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
from tests.support.prometheus import scraped_simulator
from topology.models import GraphSnapshot, SnapshotWindow
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
    with scraped_simulator(tmp_path, rps=30.0) as sim:
        yield sim


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


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks (and the window tasks a snapshot fans out) run in this process as they are sent."""
    from mesh_ui.celery import app

    # The app reads Django's settings with the CELERY_ namespace: its keys carry the prefix.
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    try:
        yield
    finally:
        app.conf.CELERY_TASK_ALWAYS_EAGER = False


def _snapshot_edges(cluster: Cluster, client) -> dict[tuple[str, str], dict]:
    """Take a snapshot through the Celery task (its windows fanned out as tasks) and read its edges from the API."""
    outcome = take_graph_snapshot.apply(args=[cluster.pk]).get()
    assert outcome["snapshot_id"], outcome
    assert GraphSnapshot.objects.filter(pk=outcome["snapshot_id"]).exists(), "the snapshot did not complete"
    return _edges(client)


def _eventually(snapshot, condition, seconds: float):
    """Snapshots taken until ``condition`` holds for one (returned), or the last one once ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    while True:
        edges = snapshot()
        if condition(edges) or time.monotonic() > deadline:
            return edges
        time.sleep(1)


def _ratings_callers(edges) -> set[str]:
    return {source for (source, target), edge in edges.items() if target == "ratings" and _rate(edge) > 0}


def test_live_bookinfo_graph_and_routing_change(live_mesh, settings, client, eager_celery):
    settings.MESH_UI_GRAPH_WINDOWS = [WINDOW, 2 * WINDOW]
    settings.MESH_UI_HEALTH_WINDOW = WINDOW
    settings.MESH_UI_SNAPSHOT_INTERVAL = 0.001  # every call may take a snapshot
    cluster = Cluster.objects.create(
        name="live", kubeconfig_path=str(live_mesh.kubeconfig_path), prometheus_url=live_mesh.prometheus_url
    )
    sync_cluster(cluster.pk)
    versions = {f"reviews-{v}" for v in ("v1", "v2", "v3")}

    def snapshot():
        return _snapshot_edges(cluster, client)

    def split(edges) -> dict[str, float]:
        return {
            v: float(edges.get(("reviews", v), {"traffic": {}})["traffic"].get("rates", {}).get("httpPercentReq", 0))
            for v in versions
        }

    def even(edges) -> bool:
        return all(abs(share - 100 / 3) < 8 for share in split(edges).values())

    # Until Prometheus holds enough traffic to every version for the split to settle (about a window).
    edges = _eventually(snapshot, even, 4 * WINDOW)
    assert even(edges), split(edges)
    assert _ratings_callers(edges) == {"reviews-v2", "reviews-v3"}
    stored = GraphSnapshot.objects.latest()
    windows = SnapshotWindow.objects.filter(snapshot=stored)
    assert sorted(windows.values_list("window", "state")) == [(WINDOW, "done"), (2 * WINDOW, "done")]
    # processing_ms is the windows' CPU time summed; source_ms the slowest window's wait for its rows.
    assert stored.processing_ms == sum(w.processing_ms for w in windows) and stored.processing_ms > 0
    assert stored.source_ms == max(w.source_ms for w in windows) and stored.source_ms > 0

    api = k8s_config.new_client_from_config(config_file=str(live_mesh.kubeconfig_path))
    objects = k8s.CustomObjectsApi(api)
    objects.create_namespaced_custom_object(
        "networking.istio.io", "v1", "bookinfo", "destinationrules", DESTINATION_RULE
    )
    objects.create_namespaced_custom_object("networking.istio.io", "v1", "bookinfo", "virtualservices", ALL_V1)

    # Until the window no longer holds traffic to v2 or v3 (it slides past the change in about WINDOW seconds).
    edges = _eventually(
        snapshot,
        lambda e: not any(_rate(e.get(("reviews", v), {"traffic": {}})) > 0 for v in versions - {"reviews-v1"}),
        4 * WINDOW,
    )
    assert _rate(edges[("reviews", "reviews-v1")]) > 0
    assert _rate(edges.get(("reviews", "reviews-v2"), {"traffic": {}})) == 0
    assert _rate(edges.get(("reviews", "reviews-v3"), {"traffic": {}})) == 0
    assert not _ratings_callers(edges)
