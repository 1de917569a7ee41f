"""Graphs for a window or moment no periodic snapshot holds, built on demand by the window task (topology.on_demand).

The worker is this test: the queued task is recorded, then run inline with the scripted Bookinfo source
(``tests.topology.bookinfo``: productpage → reviews 10/s in all, whatever the window).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inventory.sync import sync_cluster
from tests.topology_snapshots.test_snapshots_api import ScriptedSource
from topology import on_demand, tasks
from topology.models import GraphSnapshot, MetricsSourceStatus
from topology.snapshots import WINDOW_ATTEMPTS, build_snapshot_window, take_snapshot, thin_snapshots

pytestmark = pytest.mark.django_db


@pytest.fixture
def periodic(cluster):
    sync_cluster(cluster.pk)
    outcome = take_snapshot(cluster.pk, source=ScriptedSource())
    return GraphSnapshot.objects.get(pk=outcome.snapshot_id)


@pytest.fixture
def queued(monkeypatch, django_capture_on_commit_callbacks):
    """The build tasks queued (their arguments), instead of a broker; on-commit callbacks run at once."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.build_snapshot_window, "delay", lambda *args: calls.append(args))

    class Recorder(list):
        def __enter__(self):
            calls.clear()
            self._ctx = django_capture_on_commit_callbacks(execute=True)
            self._ctx.__enter__()
            return calls

        def __exit__(self, *exc):
            return self._ctx.__exit__(*exc)

    return Recorder()


def _get(client, **params: Any):
    return client.get("/api/v1/graph", {"graphType": "workload", **params})


def _rates(body: dict[str, Any]) -> dict[tuple[str, str], str]:
    names = {n["data"]["id"]: n["data"].get("workload") or n["data"].get("service") for n in body["elements"]["nodes"]}
    return {
        (names[e["data"]["source"]], names[e["data"]["target"]]): e["data"]["traffic"]["rates"]["http"]
        for e in body["elements"]["edges"]
    }


def test_a_window_no_snapshot_holds_is_built_by_a_task_then_served(periodic, client, queued):
    with queued as calls:
        first = _get(client, duration="2m")
    assert first.status_code == 202
    build = first.json()["build"]
    assert build["status"] == "building" and build["window"] == 120
    assert first["Location"] == build["statusUrl"] == f"/api/v1/graph/builds/{build['id']}"
    assert calls == [(build["id"], 120)]
    # Asked again while building: the same build, nothing queued again.
    with queued as calls:
        again = _get(client, duration="120s")
    assert again.status_code == 202 and again.json()["build"]["id"] == build["id"] and calls == []
    assert client.get(build["statusUrl"]).json()["status"] == "building"

    build_snapshot_window(build["id"], 120, source=ScriptedSource())  # the worker

    assert client.get(build["statusUrl"]).json()["status"] == "complete"
    answer = _get(client, duration="2m")
    assert answer.status_code == 200
    body = json.loads(answer.content)
    assert body["duration"] == 120 and body["snapshot"]["onDemand"] is True and body["snapshot"]["id"] == build["id"]
    assert _rates(body)[("productpage-v1", "reviews")] == "10.00"  # 3 + 3 + 4 to reviews v1, v2, v3
    # Derived answers read it too: the node graph of reviews-v3 over the on-demand window.
    node = client.get(
        "/api/v1/namespaces/bookinfo/workloads/reviews-v3/graph", {"graphType": "workload", "duration": "2m"}
    )
    assert node.status_code == 200 and _rates(json.loads(node.content))[("reviews", "reviews-v3")] == "4.00"
    # The periodic snapshots are what they were: the default answer, the replay list, the stored windows.
    default = json.loads(_get(client).content)["snapshot"]
    assert default["id"] == periodic.pk and "onDemand" not in default
    listed = client.get("/api/v1/snapshots").json()["snapshots"]
    assert [s["id"] for s in listed] == [periodic.pk]
    assert json.loads(_get(client, duration="5m").content)["snapshot"]["id"] == periodic.pk
    # A newer periodic snapshot: the live 2 minutes are reused within a snapshot interval (or 1/20 of a long window).
    later = take_snapshot(periodic.cluster_id, source=ScriptedSource(), force=True)
    GraphSnapshot.objects.filter(pk=later.snapshot_id).update(telemetry_at=periodic.telemetry_at + timedelta(seconds=5))
    assert _get(client, duration="2m").status_code == 200
    GraphSnapshot.objects.filter(pk=later.snapshot_id).update(telemetry_at=periodic.telemetry_at + timedelta(minutes=1))
    with queued as calls:
        assert _get(client, duration="2m").status_code == 202 and len(calls) == 1


def test_a_moment_far_from_every_snapshot_is_built_and_a_near_one_is_not(periodic, client, queued, settings):
    near = periodic.taken_at - timedelta(seconds=settings.MESH_UI_SNAPSHOT_INTERVAL / 2)
    with queued as calls:
        answer = _get(client, queryTime=near.isoformat())
    assert answer.status_code == 200 and calls == []
    far = periodic.taken_at - timedelta(hours=1)
    with queued as calls:
        answer = _get(client, queryTime=str(far.timestamp()))
    assert answer.status_code == 202
    build = GraphSnapshot.every_snapshot.get(pk=answer.json()["build"]["id"])
    assert build.on_demand and build.telemetry_at == far and build.windows == [periodic.health_window]
    assert calls == [(build.pk, periodic.health_window)]


def test_a_build_past_its_timeout_fails_without_marking_the_source_failing(periodic, client, queued, settings):
    settings.MESH_UI_ON_DEMAND_TIMEOUT = 5
    with queued:
        build_id = _get(client, duration="2m").json()["build"]["id"]
    GraphSnapshot.every_snapshot.filter(pk=build_id).update(taken_at=timezone.now() - timedelta(seconds=10))
    status = client.get(f"/api/v1/graph/builds/{build_id}").json()
    assert status["status"] == "failed" and status["error"] == "not built within 5 s"
    answer = _get(client, duration="2m")
    assert answer.status_code == 503 and answer.json()["build"]["id"] == build_id
    assert "not built within 5 s" in answer.json()["message"]
    assert not MetricsSourceStatus.objects.get(cluster=periodic.cluster).failing
    assert json.loads(_get(client).content)["snapshot"]["stale"] is False
    # Once the failure is older than RETRY_AFTER, a request starts another build.
    old = timezone.now() - timedelta(seconds=on_demand.RETRY_AFTER + 10)
    GraphSnapshot.every_snapshot.filter(pk=build_id).update(taken_at=old)
    with queued as calls:
        retry = _get(client, duration="2m")
    assert retry.status_code == 202 and retry.json()["build"]["id"] != build_id and len(calls) == 1


def test_a_build_whose_source_fails_is_failed_and_old_builds_are_thinned(periodic, client, queued):
    with queued:
        build_id = _get(client, duration="2m").json()["build"]["id"]
    for _ in range(WINDOW_ATTEMPTS):
        build_snapshot_window(build_id, 120, source=ScriptedSource(failure="Prometheus: down"))
    assert client.get(f"/api/v1/graph/builds/{build_id}").json()["status"] == "failed"
    assert not MetricsSourceStatus.objects.get(cluster=periodic.cluster).failing
    with queued:
        done_id = _get(client, duration="3m").json()["build"]["id"]
    build_snapshot_window(done_id, 180, source=ScriptedSource())
    assert GraphSnapshot.every_snapshot.get(pk=done_id).status == "complete"
    GraphSnapshot.every_snapshot.filter(pk=done_id).update(taken_at=timezone.now() - timedelta(hours=2))
    thin_snapshots(periodic.cluster_id)
    assert not GraphSnapshot.every_snapshot.filter(pk=done_id).exists()
    assert GraphSnapshot.objects.filter(pk=periodic.pk).exists()


def test_an_unknown_build_is_not_found(periodic, client):
    assert client.get("/api/v1/graph/builds/999999").status_code == 404
    assert client.get(f"/api/v1/graph/builds/{periodic.pk}").status_code == 404  # a periodic snapshot is no build
