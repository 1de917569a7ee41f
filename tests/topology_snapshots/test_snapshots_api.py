"""Snapshots stored by the snapshot service and served by the REST API, with a scripted telemetry source."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.prometheus import GraphRows
from inventory.sync import sync_cluster
from tests.topology.bookinfo import bookinfo_requests, both_reporters
from topology.graph.filtering import BOX_KINDS, filter_graph
from topology.graph.model import GRAPH_TYPES
from topology.models import GraphSnapshot, MetricsSourceStatus, SnapshotGraph, SnapshotGraphPart, SnapshotWindow
from topology.snapshots import (
    WINDOW_ATTEMPTS,
    build_snapshot_window,
    building_deadline,
    start_snapshot,
    take_snapshot,
    thin_snapshots,
)
from topology.sources import TelemetryError

pytestmark = pytest.mark.django_db


def _rows(samples) -> GraphRows:
    return GraphRows(requests=[{"metric": dict(s.labels), "value": [0, str(s.rate)]} for s in samples])


@dataclass
class ScriptedSource:
    """Returns the rows it is given (or raises), and counts calls."""

    samples: list = field(default_factory=bookinfo_requests)
    failure: str = ""
    kind: str = "prometheus"
    calls: int = 0

    def fetch_rows(self, namespaces, window, at):
        self.calls += 1
        if self.failure:
            raise TelemetryError(self.failure)
        return _rows(self.samples)


@pytest.fixture
def synced(cluster):
    sync_cluster(cluster.pk)
    return cluster


@dataclass
class FlakySource(ScriptedSource):
    """Fails its first ``failures`` calls."""

    failures: int = 0

    def fetch_rows(self, namespaces, window, at):
        if self.calls < self.failures:
            self.calls += 1
            raise TelemetryError("a hiccup")
        return super().fetch_rows(namespaces, window, at)


def _graph(client, **params):
    response = client.get("/api/v1/graph", params)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _node_names(graph, node_type="workload"):
    return {n["data"].get(node_type) for n in graph["elements"]["nodes"] if n["data"].get("nodeType") == node_type}


def test_snapshot_stores_every_graph_type_and_window_with_health(synced, settings):
    source = ScriptedSource()
    outcome = take_snapshot(synced.pk, source=source)

    snapshot = GraphSnapshot.objects.get(pk=outcome.snapshot_id)
    windows = settings.MESH_UI_GRAPH_WINDOWS
    assert source.calls == len(windows)
    # Bookinfo: every service has one caller or one backend, so collapsing the graphs with service nodes gives those
    # without them exactly, and none of those is stored.
    assert SnapshotGraph.objects.filter(snapshot=snapshot).count() == len(GRAPH_TYPES) * len(windows)
    assert not SnapshotGraph.objects.filter(snapshot=snapshot, inject_service_nodes=False).exists()
    assert snapshot.size_bytes > 0
    assert snapshot.health["workload"]["bookinfo/reviews-v2"]["status"] == "Failure"  # 0.5 of 3 rps are 503s
    assert snapshot.health["workload"]["bookinfo/reviews-v1"]["status"] == "Healthy"
    # The namespace summary counts apps: app reviews sees 0.5 of 10 rps fail (5%), degraded.
    assert snapshot.health["namespaces"]["bookinfo"]["status"] == "Degraded"
    assert MetricsSourceStatus.objects.get(cluster=synced).last_success is not None


def test_graph_api_serves_the_latest_snapshot_in_kiali_shape(synced, client):
    take_snapshot(synced.pk, source=ScriptedSource())
    graph = _graph(client, namespaces="bookinfo", graphType="workload", duration="5m")

    assert graph["graphType"] == "workload" and graph["duration"] == 300
    assert {"productpage-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1", "details-v1"} <= _node_names(
        graph
    )
    gateway = [n["data"] for n in graph["elements"]["nodes"] if n["data"].get("workload") == "istio-ingressgateway"]
    assert gateway and gateway[0].get("isOutside") is True
    assert graph["snapshot"]["stale"] is False and graph["snapshot"]["source"] == "prometheus"
    assert all({"id", "source", "target", "traffic"} <= set(e["data"]) for e in graph["elements"]["edges"])


def test_scoped_graph_reads_slice_one_namespace_and_equal_the_filtered_whole(synced, client):
    outcome = take_snapshot(synced.pk, source=ScriptedSource())
    stored = SnapshotGraph.objects.get(
        snapshot_id=outcome.snapshot_id, graph_type="versionedApp", window=300, inject_service_nodes=True
    )
    whole = stored.load_graph()
    assert json.loads(stored.json_bytes())["elements"]["edges"]  # the spliced whole graph parses
    for namespaces in (["bookinfo"], ["istio-system"], ["bookinfo", "istio-system"], ["nowhere"]):
        expected = filter_graph(whole, namespaces, include_idle=False, box_by=BOX_KINDS)
        graph = _graph(client, namespaces=",".join(namespaces), graphType="versionedApp", duration="5m")
        assert graph["elements"]["nodes"] == expected["elements"]["nodes"], namespaces
        key = lambda e: e["data"]["id"]  # noqa: E731
        assert sorted(graph["elements"]["edges"], key=key) == sorted(expected["elements"]["edges"], key=key)
    # One query hands over only the asked-for namespace's part (and the cluster boxes'), not the whole graph.
    with CaptureQueriesContext(connection) as queries:
        head, owns, extras = SnapshotGraph.read_parts(["bookinfo"], pk=stored.pk)
    assert len(queries.captured_queries) == 1 and head == stored.head
    assert len(owns) == SnapshotGraphPart.objects.filter(graph=stored, namespace__in=["", "bookinfo"]).count()
    assert extras and SnapshotGraphPart.objects.filter(graph=stored).count() > len(owns)


def test_idle_workloads_are_hidden_unless_asked_for(synced, client, simulator):
    samples = [s for s in bookinfo_requests() if s.labels["destination_workload"] != "reviews-v3"]
    samples = [s for s in samples if s.labels["source_workload"] != "reviews-v3"]
    take_snapshot(synced.pk, source=ScriptedSource(samples=samples))

    assert "reviews-v3" not in _node_names(_graph(client, graphType="workload", namespaces="bookinfo"))
    with_idle = _graph(client, graphType="workload", namespaces="bookinfo", idleNodes="true")
    idle = [n["data"] for n in with_idle["elements"]["nodes"] if n["data"].get("workload") == "reviews-v3"]
    assert idle and idle[0]["isIdle"] is True


def test_failed_source_keeps_serving_the_last_snapshot_marked_stale(synced, client, admin_client):
    good = take_snapshot(synced.pk, source=ScriptedSource())
    failing = ScriptedSource(failure="connection refused")
    outcome = take_snapshot(synced.pk, source=failing, force=True)

    # The first window used up its attempts; the others never ran: the snapshot is failed, not half stored.
    assert failing.calls == WINDOW_ATTEMPTS
    assert outcome.status == "failed" and "connection refused" in outcome.error
    failed = GraphSnapshot.every_snapshot.get(pk=outcome.snapshot_id)
    assert failed.status == "failed" and "after 3 attempts" in failed.error
    assert not SnapshotGraph.objects.filter(snapshot=failed).exists()
    assert not GraphSnapshot.objects.filter(pk=failed.pk).exists()
    status = MetricsSourceStatus.objects.get(cluster=synced)
    assert status.consecutive_failures == 1 and "connection refused" in status.last_error
    graph = _graph(client, graphType="workload")
    assert graph["snapshot"]["id"] == good.snapshot_id and graph["snapshot"]["stale"] is True
    assert graph["snapshot"]["sourceError"].startswith("Prometheus unavailable since")
    assert "connection refused" in _graph(admin_client, graphType="workload")["snapshot"]["sourceError"]
    assert "reviews-v1" in _node_names(graph)


def test_a_window_that_fails_once_is_retried_and_the_snapshot_completes(synced, client):
    flaky = FlakySource(failures=1)
    outcome = take_snapshot(synced.pk, source=flaky)

    assert outcome.status == "complete" and outcome.error == ""
    attempts = dict(SnapshotWindow.objects.filter(snapshot_id=outcome.snapshot_id).values_list("window", "attempts"))
    first, *others = sorted(attempts)
    assert attempts[first] == 2 and all(attempts[w] == 1 for w in others)
    assert _graph(client, graphType="workload")["snapshot"]["id"] == outcome.snapshot_id


def test_a_building_snapshot_is_invisible_until_its_last_window_is_stored(synced, client, settings):
    started = start_snapshot(synced.pk, force=True)
    assert started.snapshot_id is None and "no metrics source" in started.error  # neither URL is set here
    source = ScriptedSource()
    started = start_snapshot(synced.pk, source=source, force=True)
    first, *others = started.windows

    assert build_snapshot_window(started.snapshot_id, first, source).state == "done"
    assert build_snapshot_window(started.snapshot_id, first, source).state == "done"  # a redelivery: no-op
    assert source.calls == 1
    building = GraphSnapshot.every_snapshot.get(pk=started.snapshot_id)
    assert building.status == "building" and building.windows_pending == len(others)
    assert not GraphSnapshot.objects.exists() and _graph(client)["snapshot"] is None
    *middle, last = others
    for window in middle:
        assert not build_snapshot_window(started.snapshot_id, window, source).completed
    assert build_snapshot_window(started.snapshot_id, last, source).completed
    complete = GraphSnapshot.objects.get(pk=started.snapshot_id)
    assert complete.windows_pending == 0 and complete.health["workload"]
    assert SnapshotGraph.objects.filter(snapshot=complete).count() == len(GRAPH_TYPES) * len(started.windows)
    assert _graph(client)["snapshot"]["id"] == complete.pk


def test_a_window_whose_worker_keeps_being_lost_gives_up_and_fails_the_snapshot(synced):
    source = ScriptedSource()
    started = start_snapshot(synced.pk, source=source, force=True)
    window = started.windows[0]
    # Each redelivery after a lost worker finds the attempt before it still "running": it counts as one.
    SnapshotWindow.objects.filter(snapshot_id=started.snapshot_id, window=window).update(
        state="running", attempts=WINDOW_ATTEMPTS
    )

    outcome = build_snapshot_window(started.snapshot_id, window, source)

    assert outcome.state == "failed" and source.calls == 0
    snapshot = GraphSnapshot.every_snapshot.get(pk=started.snapshot_id)
    assert snapshot.status == "failed" and "worker was lost" in snapshot.error
    assert build_snapshot_window(started.snapshot_id, started.windows[1], source).state == "failed"
    assert source.calls == 0  # the other windows of a failed snapshot do not run


def test_thinning_fails_snapshots_stuck_building_and_never_touches_running_ones(synced, settings):
    source = ScriptedSource()
    stuck = start_snapshot(synced.pk, source=source, force=True)
    running = start_snapshot(synced.pk, source=source, force=True)
    build_snapshot_window(running.snapshot_id, running.windows[0], source)
    too_long = building_deadline(timezone.now()) - timedelta(minutes=1)
    GraphSnapshot.every_snapshot.filter(pk=stuck.snapshot_id).update(taken_at=too_long)

    thin_snapshots(synced.pk)

    assert GraphSnapshot.every_snapshot.get(pk=stuck.snapshot_id).status == "failed"
    assert "never finished" in MetricsSourceStatus.objects.get(cluster=synced).last_error
    # Kept for a while to say why, then deleted as it ages.
    GraphSnapshot.every_snapshot.filter(pk=stuck.snapshot_id).update(taken_at=timezone.now() - timedelta(days=2))
    assert thin_snapshots(synced.pk) == 1 and not GraphSnapshot.every_snapshot.filter(pk=stuck.snapshot_id).exists()
    running_row = GraphSnapshot.every_snapshot.get(pk=running.snapshot_id)
    assert running_row.status == "building"
    assert SnapshotGraph.objects.filter(snapshot=running_row).count() == len(GRAPH_TYPES)
    for window in running.windows[1:]:
        build_snapshot_window(running.snapshot_id, window, source)
    assert GraphSnapshot.objects.filter(pk=running.snapshot_id).exists()


def test_graph_api_answers_from_the_snapshot_closest_to_at_and_diffs_two(synced, client):
    first = take_snapshot(synced.pk, source=ScriptedSource())
    GraphSnapshot.objects.filter(pk=first.snapshot_id).update(taken_at=timezone.now() - timedelta(minutes=10))
    only_v1 = [s for s in bookinfo_requests() if s.labels["destination_workload"] not in {"reviews-v2", "reviews-v3"}]
    only_v1 = [s for s in only_v1 if s.labels["source_workload"] not in {"reviews-v2", "reviews-v3"}]
    only_v1 += both_reporters("productpage", "reviews-v1", "reviews", 7.0)
    take_snapshot(synced.pk, source=ScriptedSource(samples=only_v1), force=True)
    older_at = (timezone.now() - timedelta(minutes=9)).timestamp()

    old_graph = _graph(client, graphType="workload", at=str(older_at))
    new_graph = _graph(client, graphType="workload")
    assert old_graph["snapshot"]["id"] == first.snapshot_id
    assert "reviews-v2" in _node_names(old_graph) and "reviews-v2" not in _node_names(new_graph)

    diff = client.get("/api/v1/graph/diff", {"from": str(older_at), "graphType": "workload"}).json()
    removed = {(e["sourceLabel"], e["targetLabel"]) for e in diff["removed"]}
    assert ("bookinfo/reviews", "bookinfo/reviews-v2") in removed  # service node -> workload
    assert any(e["targetLabel"] == "bookinfo/reviews-v1" and e["delta"] > 0 for e in diff["changed"])


def test_health_api_returns_one_kind_for_the_namespaces(synced, client):
    take_snapshot(synced.pk, source=ScriptedSource())
    body = client.get("/api/v1/health", {"namespaces": "bookinfo", "type": "workload"}).json()

    assert body["items"]["bookinfo/reviews-v2"]["status"] == "Failure"
    assert "5xx" in body["items"]["bookinfo/reviews-v2"]["reason"]
    assert set(body["namespaces"]) == {"bookinfo"}
    assert all(key.startswith("bookinfo/") for key in body["items"])
    assert client.get("/api/v1/health", {"type": "bogus"}).status_code == 400


def test_graph_api_without_snapshot_or_with_bad_input_says_why(synced, client):
    body = client.get("/api/v1/graph").json()
    assert body["snapshot"] is None and "no snapshot" in body["warning"]
    take_snapshot(synced.pk, source=ScriptedSource())
    assert client.get("/api/v1/graph", {"graphType": "nope"}).status_code == 400
    assert client.get("/api/v1/graph", {"at": "yesterday"}).status_code == 400
    assert client.get("/api/v1/graph", {"cluster": "missing"}).status_code == 400


def test_thinning_keeps_one_snapshot_per_slot(synced, settings):
    settings.MESH_UI_SNAPSHOT_RETENTION = "15s:1h,1m:1d"
    now = timezone.now()
    ids = []
    for age in (5, 20, 3700, 3710, 3720, 90000):
        outcome = take_snapshot(synced.pk, source=ScriptedSource(), force=True)
        GraphSnapshot.objects.filter(pk=outcome.snapshot_id).update(taken_at=now - timedelta(seconds=age))
        ids.append(outcome.snapshot_id)

    deleted = thin_snapshots(synced.pk)

    remaining = set(GraphSnapshot.objects.values_list("id", flat=True))
    assert ids[5] not in remaining  # older than a day
    assert {ids[0], ids[1]} <= remaining  # the last hour keeps every 15 s slot
    assert deleted >= 1 and len(remaining & set(ids[2:5])) in {1, 2}
    assert not SnapshotGraph.objects.exclude(snapshot_id__in=remaining).exists()
    # Past the first tier only the health window's graphs stay.
    kept_old = GraphSnapshot.objects.filter(pk__in=remaining & set(ids[2:5])).first()
    assert kept_old.windows == [settings.MESH_UI_HEALTH_WINDOW]
    assert set(SnapshotGraph.objects.filter(snapshot=kept_old).values_list("window", flat=True)) == {
        settings.MESH_UI_HEALTH_WINDOW
    }
    recent = GraphSnapshot.objects.get(pk=ids[0])
    assert SnapshotGraph.objects.filter(snapshot=recent).count() == len(GRAPH_TYPES) * len(
        settings.MESH_UI_GRAPH_WINDOWS
    )
    # ...without the copies linking namespaces; a scoped read of it still gives what filtering the whole gives.
    old_graph = SnapshotGraph.objects.get(snapshot=kept_old, graph_type="workload", inject_service_nodes=True)
    assert not old_graph.linked and not old_graph.parts.exclude(extra=b"").exists()
    recent_graph = SnapshotGraph.objects.get(
        snapshot=recent, graph_type="workload", window=old_graph.window, inject_service_nodes=True
    )
    assert recent_graph.linked and recent_graph.parts.exclude(extra=b"").exists()
    for graph in (old_graph, recent_graph):
        scoped = filter_graph(graph.load_graph(["bookinfo"]), ["bookinfo"], False, BOX_KINDS)
        whole = filter_graph(graph.load_graph(), ["bookinfo"], False, BOX_KINDS)
        assert scoped["elements"]["nodes"] == whole["elements"]["nodes"]
        key = lambda e: e["data"]["id"]  # noqa: E731
        assert sorted(scoped["elements"]["edges"], key=key) == sorted(whole["elements"]["edges"], key=key)
        assert any(n["data"].get("isOutside") for n in scoped["elements"]["nodes"])  # the gateway, from elsewhere


def test_openapi_schema_lists_the_v1_endpoints(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/graph", "/api/v1/health", "/api/v1/graph/diff", "/api/v1/snapshots"} <= set(schema["paths"])


def _ratings_nodes(graph):
    return [
        n["data"]
        for n in graph["elements"]["nodes"]
        if n["data"].get("app") == "ratings" or n["data"].get("service") == "ratings"
    ]


def test_graph_api_hide_removes_matched_nodes_and_their_edges(synced, client):
    take_snapshot(synced.pk, source=ScriptedSource())
    # idleNodes=true and every box: the stored bytes would be sent as they are, but hide must filter them.
    params = {"graphType": "versionedApp", "idleNodes": "true"}
    full_response = client.get("/api/v1/graph", params)
    hidden_response = client.get("/api/v1/graph", {**params, "hide": "label:app=ratings"})
    assert hidden_response.status_code == 200, hidden_response.content
    full, hidden = json.loads(full_response.content), json.loads(hidden_response.content)

    assert _ratings_nodes(full) and not _ratings_nodes(hidden)
    ids = {n["data"]["id"] for n in hidden["elements"]["nodes"]}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in hidden["elements"]["edges"])
    assert len(hidden["elements"]["edges"]) < len(full["elements"]["edges"])
    assert {"reviews", "productpage"} <= {n["data"].get("app") for n in hidden["elements"]["nodes"]}
    assert len(hidden_response.content) < len(full_response.content)
    assert hidden["snapshot"]["id"] == full["snapshot"]["id"]

    # Combined with the other filters, and AND / OR as on the page.
    narrowed = _graph(client, graphType="workload", namespaces="bookinfo", hide="node=service OR name=reviews-v*")
    kinds = {n["data"]["nodeType"] for n in narrowed["elements"]["nodes"]}
    assert "service" not in kinds and not {"reviews-v1", "reviews-v2"} & _node_names(narrowed)
    assert "productpage-v1" in _node_names(narrowed)
    blank = _graph(client, graphType="workload", hide="  ")
    assert blank["elements"] == _graph(client, graphType="workload")["elements"]


def test_graph_api_refuses_hide_terms_it_cannot_evaluate_and_bad_syntax(synced, client):
    take_snapshot(synced.pk, source=ScriptedSource())
    response = client.get("/api/v1/graph", {"hide": "label:app=ratings OR rt>5"})
    assert response.status_code == 400
    assert 'hide: cannot evaluate "rt>5" on the server' in response.json()["error"]
    response = client.get("/api/v1/graph", {"hide": "mtls"})
    assert response.status_code == 400 and '"mtls"' in response.json()["error"]
    response = client.get("/api/v1/graph", {"hide": "latency >> 5"})
    assert response.status_code == 400 and 'hide: cannot read "latency >> 5"' in response.json()["error"]
    response = client.get("/api/v1/graph", {"hide": "label:colour=red"})
    assert response.status_code == 400 and 'unknown label "colour"' in response.json()["error"]


def test_openapi_schema_documents_the_hide_parameter(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/graph"]["get"]["parameters"]}
    assert "label:app=ratings" in params["hide"]["description"]


def test_the_default_whole_mesh_request_is_the_filtered_whole_graph_without_idle_nodes(synced, client):
    samples = [
        s
        for s in bookinfo_requests()
        if "reviews-v3" not in (s.labels["destination_workload"], s.labels["source_workload"])
    ]
    outcome = take_snapshot(synced.pk, source=ScriptedSource(samples=samples))
    stored = SnapshotGraph.objects.get(
        snapshot_id=outcome.snapshot_id, graph_type="workload", window=300, inject_service_nodes=True
    )
    whole = stored.load_graph()
    assert any(n["data"].get("isIdle") for n in whole["elements"]["nodes"])  # reviews-v3 is stored, idle
    expected = filter_graph(whole, None, include_idle=False, box_by=BOX_KINDS)
    graph = _graph(client, graphType="workload", duration="5m")  # every namespace, idle nodes left out: spliced
    as_text = lambda elements: sorted(json.dumps(e, sort_keys=True) for e in elements)  # noqa: E731
    assert as_text(graph["elements"]["nodes"]) == as_text(expected["elements"]["nodes"])
    assert as_text(graph["elements"]["edges"]) == as_text(expected["elements"]["edges"])
    assert "reviews-v3" not in _node_names(graph)
    with_idle = _graph(client, graphType="workload", duration="5m", idleNodes="true")
    assert as_text(with_idle["elements"]["nodes"]) == as_text(whole["elements"]["nodes"])
