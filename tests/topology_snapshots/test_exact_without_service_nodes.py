"""Graphs without service nodes and node graphs as Kiali builds them: from each caller → workload pair's own rows.

A real Prometheus serves ``shared_service_series`` (backfilled by promtool): service ``reviews`` has two callers and
two backends with unequal splits, which no graph with service nodes can split back (``web-v1`` sent 4/s of its 7.5/s,
and ``reviews-v1`` got 3.5/s of it, say nothing of how much of web's traffic went to v1). Snapshots are taken from it
and read through the API; every expected rate is worked out by hand from the series' rates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from inventory.models import Cluster, Namespace
from tests.support.prometheus import RunningPrometheus, backfill_openmetrics, require_prometheus, running_prometheus
from tests.topology_snapshots.shared_service_series import AT, NS, build_openmetrics
from topology import tasks
from topology.graph import snapshot_build
from topology.models import GraphSnapshot, SnapshotGraph
from topology.snapshots import build_snapshot_window, take_snapshot, thin_snapshots

pytestmark = [pytest.mark.django_db, pytest.mark.prometheus]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    require_prometheus()
    data: Path = tmp_path_factory.mktemp("shared-service-tsdb")
    backfill_openmetrics(build_openmetrics(), data)
    with running_prometheus([], tsdb_dir=data) as server:
        yield server


@pytest.fixture
def snapshot(prometheus: RunningPrometheus, settings: Any) -> GraphSnapshot:
    settings.MESH_UI_PROMETHEUS_TARGET_SELECTOR = ""  # the backfilled Prometheus scrapes nothing
    cluster = Cluster.objects.create(name="shop", prometheus_url=prometheus.url)
    Namespace.objects.create(cluster=cluster, name=NS)
    outcome = take_snapshot(cluster.pk, at=AT)
    assert outcome.status == GraphSnapshot.Status.COMPLETE and outcome.snapshot_id is not None, outcome.error
    return GraphSnapshot.objects.get(pk=outcome.snapshot_id)


def _get(client: Any, path: str = "/api/v1/graph", **params: Any) -> dict[str, Any]:
    response = client.get(path, {"graphType": "workload", "duration": "5m", **params})
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _name(data: dict[str, Any]) -> str:
    if data["nodeType"] == "service":
        return f"svc:{data['service']}"
    if data["nodeType"] == "app":
        return f"{data['app']}:{data['version']}" if data.get("version") else data["app"]
    return data["workload"]


def _edges(graph: dict[str, Any], key: str = "http") -> dict[tuple[str, str], str]:
    """``(source, target) -> rate`` (workloads by name, apps as ``app[:version]``, services as ``svc:<name>``)."""
    names = {n["data"]["id"]: _name(n["data"]) for n in graph["elements"]["nodes"] if not n["data"].get("isBox")}
    return {
        (names[e["data"]["source"]], names[e["data"]["target"]]): e["data"]["traffic"]["rates"].get(key, "-")
        for e in graph["elements"]["edges"]
    }


def test_without_service_nodes_each_caller_gets_what_it_sent_each_workload(snapshot, client):
    graph = _get(client, injectServiceNodes="false")
    assert _edges(graph) == {
        # Straight from the pairs' rows. Splitting reviews' edges by each caller's share of its 7.5/s would give web
        # 4/7.5 of v1's 3.5 (1.87) and of v2's 4 (2.13), loadgen 3.5/7.5 of them (1.63 and 1.87).
        ("web-v1", "reviews-v1"): "3.00",
        ("web-v1", "reviews-v2"): "1.00",
        ("loadgen-v1", "reviews-v1"): "0.50",
        ("loadgen-v1", "reviews-v2"): "3.00",  # 2.5 answered 200 and 0.5 answered 503
        # One backend (ratings) or one caller (details): exact either way.
        ("reviews-v1", "ratings-v1"): "1.00",
        ("reviews-v2", "ratings-v1"): "2.00",
        ("web-v1", "details-v1"): "2.00",
    }
    assert _edges(graph, "http5xx")[("loadgen-v1", "reviews-v2")] == "0.50"
    assert _edges(graph, "http5xx")[("web-v1", "reviews-v2")] == "-"  # none of the 503s were web's
    assert not [n for n in graph["elements"]["nodes"] if n["data"]["nodeType"] == "service"]
    # The versioned app graph draws the same pairs; the app graph has one node per app, so each caller's edge is all
    # it sent the service: 4 and 3.5 (what the graph with service nodes says too).
    versioned = _edges(_get(client, injectServiceNodes="false", graphType="versionedApp"))
    assert versioned[("web:v1", "reviews:v1")] == "3.00" and versioned[("loadgen:v1", "reviews:v2")] == "3.00"
    apps = _edges(_get(client, injectServiceNodes="false", graphType="app"))
    assert apps[("web", "reviews")] == "4.00" and apps[("loadgen", "reviews")] == "3.50"
    assert apps[("reviews", "ratings")] == "3.00"
    # The default graph still has the service between them, unchanged.
    default = _edges(_get(client))
    assert default[("web-v1", "svc:reviews")] == "4.00" and default[("svc:reviews", "reviews-v1")] == "3.50"


def test_a_workload_node_graph_holds_only_its_own_traffic_through_each_service(snapshot, client):
    behind = _get(client, "/api/v1/namespaces/shop/workloads/reviews-v2/graph")
    assert _edges(behind) == {
        # What each caller sent reviews-v2 through reviews (the focus's 4/7.5 of each caller's edge would be 2.13 and
        # 1.87).
        ("web-v1", "svc:reviews"): "1.00",
        ("loadgen-v1", "svc:reviews"): "3.00",
        ("svc:reviews", "reviews-v2"): "4.00",
        # reviews-v2's own 2/s to ratings-v1 (one backend: exact either way).
        ("reviews-v2", "svc:ratings"): "2.00",
        ("svc:ratings", "ratings-v1"): "2.00",
    }
    assert _edges(behind, "http5xx")[("loadgen-v1", "svc:reviews")] == "0.50"
    [focus] = [n["data"] for n in behind["elements"]["nodes"] if n["data"].get("isFocus")]
    assert focus["traffic"] == [
        {"protocol": "http", "rates": {"httpIn": "4.00", "httpIn5xx": "0.50", "httpOut": "2.00"}}
    ]
    caller = _get(client, "/api/v1/namespaces/shop/workloads/web-v1/graph")
    assert _edges(caller) == {
        ("web-v1", "svc:reviews"): "4.00",
        # What web sent each backend through reviews (its 4/7.5 of 3.5 and of 4 would be 1.87 and 2.13).
        ("svc:reviews", "reviews-v1"): "3.00",
        ("svc:reviews", "reviews-v2"): "1.00",
        ("web-v1", "svc:details"): "2.00",
        ("svc:details", "details-v1"): "2.00",
    }
    # Without service nodes: the pairs themselves.
    direct = _get(client, "/api/v1/namespaces/shop/workloads/reviews-v2/graph", injectServiceNodes="false")
    assert _edges(direct) == {
        ("web-v1", "reviews-v2"): "1.00",
        ("loadgen-v1", "reviews-v2"): "3.00",
        ("reviews-v2", "ratings-v1"): "2.00",
    }
    # A service's node graph is every edge into and out of it (exact with or without the pairs).
    service = _get(client, "/api/v1/namespaces/shop/services/reviews/graph", injectServiceNodes="false")
    assert _edges(service) == {
        ("web-v1", "svc:reviews"): "4.00",
        ("loadgen-v1", "svc:reviews"): "3.50",
        ("svc:reviews", "reviews-v1"): "3.50",
        ("svc:reviews", "reviews-v2"): "4.00",
    }


def test_a_snapshot_stores_only_the_graphs_the_collapse_would_not_give(snapshot, client):
    # reviews has two callers and two backends in the workload and versioned app graphs; in the app graph its one
    # backend is the reviews app, ratings has one backend and details one caller: nothing to tell apart there.
    stored = SnapshotGraph.objects.filter(snapshot=snapshot, window=snapshot.health_window, inject_service_nodes=False)
    assert sorted(stored.values_list("graph_type", flat=True)) == ["versionedApp", "workload"]


def _answers(client: Any) -> list[dict[str, Any]]:
    """The app graph without service nodes and the app node graphs, without what names the snapshot."""
    paths = [
        ("/api/v1/graph", {"graphType": "app", "injectServiceNodes": "false"}),
        ("/api/v1/graph", {"graphType": "app", "injectServiceNodes": "false", "namespaces": NS, "idleNodes": "true"}),
        ("/api/v1/namespaces/shop/applications/reviews/graph", {"graphType": "app"}),
        ("/api/v1/namespaces/shop/applications/web/graph", {"graphType": "app"}),
        ("/api/v1/namespaces/shop/applications/reviews/graph", {"graphType": "app", "injectServiceNodes": "false"}),
    ]
    answers = []
    for path, params in paths:
        answer = _get(client, path, **params)
        del answer["snapshot"]
        answers.append(answer)
    return answers


def test_the_app_graph_answers_the_same_collapsed_as_stored(prometheus, settings, client, monkeypatch):
    settings.MESH_UI_PROMETHEUS_TARGET_SELECTOR = ""
    cluster = Cluster.objects.create(name="shop", prometheus_url=prometheus.url)
    Namespace.objects.create(cluster=cluster, name=NS)
    skipped = take_snapshot(cluster.pk, at=AT)
    app_flat = {"graph_type": "app", "inject_service_nodes": False}
    assert not SnapshotGraph.objects.filter(snapshot_id=skipped.snapshot_id, **app_flat).exists()
    collapsed = _answers(client)
    GraphSnapshot.objects.filter(pk=skipped.snapshot_id).delete()
    # The same snapshot storing every graph without service nodes.
    monkeypatch.setattr(snapshot_build, "collapse_is_exact", lambda paths: False)
    every = take_snapshot(cluster.pk, at=AT, force=True)
    assert SnapshotGraph.objects.filter(snapshot_id=every.snapshot_id, **app_flat).exists()
    assert _answers(client) == collapsed
    edges = _edges(collapsed[0])
    assert (edges[("web", "reviews")], edges[("loadgen", "reviews")], edges[("reviews", "ratings")]) == (
        "4.00",
        "3.50",
        "3.00",
    )


def test_a_snapshot_past_the_exact_graphs_age_drops_them_and_answers_proportionally(snapshot, client, settings):
    settings.MESH_UI_SNAPSHOT_RETENTION = "15s:1h,1m:1d"
    settings.MESH_UI_EXACT_GRAPHS_MAX_AGE = 3600
    GraphSnapshot.objects.filter(pk=snapshot.pk).update(taken_at=timezone.now() - timedelta(hours=2))
    thin_snapshots(snapshot.cluster_id)
    assert GraphSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert not SnapshotGraph.objects.filter(snapshot=snapshot, inject_service_nodes=False).exists()
    assert _edges(_get(client, injectServiceNodes="false")) == {
        # reviews' edges split by each caller's share of its 7.5/s: web 4/7.5 of v1's 3.5 and v2's 4, loadgen 3.5/7.5.
        ("web-v1", "reviews-v1"): "1.87",
        ("web-v1", "reviews-v2"): "2.13",
        ("loadgen-v1", "reviews-v1"): "1.63",
        ("loadgen-v1", "reviews-v2"): "1.87",
        # One backend (ratings) or one caller (details): still exact.
        ("reviews-v1", "ratings-v1"): "1.00",
        ("reviews-v2", "ratings-v1"): "2.00",
        ("web-v1", "details-v1"): "2.00",
    }


def test_an_on_demand_window_stores_the_graphs_without_service_nodes_too(
    snapshot, client, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.build_snapshot_window, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            "/api/v1/graph", {"graphType": "workload", "duration": "2m", "injectServiceNodes": "false"}
        )
    assert response.status_code == 202
    [(build_id, window)] = queued
    build_snapshot_window(build_id, window)  # the worker: reads the cluster's Prometheus at the periodic one's moment
    stored = SnapshotGraph.objects.filter(snapshot_id=build_id)
    # Not the app graph's: reviews has one backend there (the reviews app), so collapsing gives it exactly.
    assert sorted(stored.values_list("graph_type", "inject_service_nodes")) == sorted(
        [(t, True) for t in ("app", "versionedApp", "workload", "service")]
        + [(t, False) for t in ("versionedApp", "workload")]
    )
    graph = _get(client, duration="2m", injectServiceNodes="false")
    assert graph["snapshot"]["onDemand"] is True and graph["duration"] == 120
    edges = _edges(graph)
    assert (edges[("web-v1", "reviews-v1")], edges[("loadgen-v1", "reviews-v2")]) == ("3.00", "3.00")
