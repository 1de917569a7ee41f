"""A snapshot taken by a real Celery worker: its windows run as separate tasks, over each broker mesh-ui supports.

The telemetry is the simulator's counters (the direct source), so no Prometheus is needed; a window that cannot
succeed is made by pointing the cluster at a Prometheus that is not there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from inventory.models import Cluster
from inventory.sync import sync_cluster
from tests.support.celery_worker import ROOT, call_task, celery_command, running_worker, worker_env
from tests.support.prometheus import find_free_port
from tests.support.wait import wait_until
from topology.graph.model import GRAPH_TYPES
from topology.models import GraphSnapshot, MetricsSourceStatus, SnapshotGraph, SnapshotWindow
from topology.snapshots import WINDOW_ATTEMPTS
from topology.sources import DirectScrapeSource

WINDOWS = [60, 300, 600]
SECRET = "s3cret-in-the-url"


@pytest.fixture
def stepped_simulator(tmp_path: Path) -> Iterator[Any]:
    """The Bookinfo simulator with its traffic advanced by hand."""
    from simulator import Simulator

    sim = Simulator(traffic=True, traffic_autostart=False, rps=20.0).start(host="127.0.0.1", port=0)
    sim.kubeconfig_path = sim.write_kubeconfig(tmp_path / "kubeconfig")  # type: ignore[attr-defined]
    try:
        yield sim
    finally:
        sim.stop()


@pytest.mark.parametrize("broker", ["filesystem", pytest.param("redis", marks=pytest.mark.redis)])
def test_worker_builds_each_window_as_its_own_task_and_a_failing_window_fails_its_snapshot(
    transactional_db, stepped_simulator, tmp_path: Path, request, client, broker
):
    simulator = stepped_simulator
    broker_url = request.getfixturevalue("redis_url") if broker == "redis" else "filesystem://"
    cluster = Cluster.objects.create(name="sim", kubeconfig_path=str(simulator.kubeconfig_path))
    sync_cluster(cluster.pk)
    # A scrape 30 s ago (simulated time): the worker's snapshot rates the counters against it.
    DirectScrapeSource(cluster, f"{simulator.url}/metrics").scrape(timezone.now() - timedelta(seconds=30))
    simulator.traffic.step(30)
    env = worker_env(
        tmp_path,
        CELERY_BROKER_URL=broker_url,
        MESH_UI_METRICS_URL=f"{simulator.url}/metrics",
        PROMETHEUS_URL="",
        PROMETHEUS_TIMEOUT="2",
        MESH_UI_SNAPSHOT_INTERVAL="1",
        MESH_UI_GRAPH_WINDOWS=",".join(f"{w}s" for w in WINDOWS),
        MESH_UI_HEALTH_WINDOW="300s",
    )
    if broker == "redis":  # messages an earlier run left in this test database's queues
        subprocess.run(celery_command("purge", "-f"), cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    log = tmp_path / "worker.log"
    with running_worker(env, log, "--concurrency", str(len(WINDOWS)), "--loglevel", "INFO") as worker:
        call_task(env, "topology.tasks.take_graph_snapshot", cluster.pk)
        wait_until(GraphSnapshot.objects.filter(cluster=cluster).exists, "a complete snapshot", timeout=90)
        good = GraphSnapshot.objects.filter(cluster=cluster).first()

        # The next snapshot's windows all fail: Prometheus is configured now, and it is not there. Its URL carries
        # a password and a token, which no log line of the worker may show.
        secret_url = f"http://mesh:{SECRET}@127.0.0.1:{find_free_port()}/?token={SECRET}"
        Cluster.objects.filter(pk=cluster.pk).update(prometheus_url=secret_url)
        call_task(env, "topology.tasks.take_graph_snapshot", cluster.pk)
        failed_snapshots = GraphSnapshot.every_snapshot.filter(cluster=cluster, status="failed")
        wait_until(failed_snapshots.exists, "the snapshot with failing windows was marked failed", timeout=90)
    full_log = log.read_text()
    assert good is not None and good.source == "direct" and good.windows == WINDOWS
    windows = SnapshotWindow.objects.filter(snapshot=good)
    assert sorted(windows.values_list("window", "state", "attempts")) == [(w, "done", 1) for w in WINDOWS]
    # Received, then succeeded: one task per window of each snapshot.
    assert full_log.count("Task topology.tasks.build_snapshot_window[") >= 4 * len(WINDOWS)
    assert all(
        row.worker.rsplit(":", 1)[1] != str(worker.process.pid) for row in windows
    )  # pool processes, not the parent
    # Bookinfo: collapsing the graphs with service nodes gives those without them exactly: none of those stored.
    assert SnapshotGraph.objects.filter(snapshot=good).count() == len(GRAPH_TYPES) * len(WINDOWS)
    assert good.processing_ms == sum(row.processing_ms for row in windows) and good.processing_ms > 0
    assert good.health["workload"]["bookinfo/reviews-v1"]["status"] == "Healthy" and good.metrics["workload"]

    failed = failed_snapshots.get()
    assert "Prometheus" in failed.error and f"after {WINDOW_ATTEMPTS} attempts" in failed.error
    assert not SnapshotGraph.objects.filter(snapshot=failed).exists()
    assert SnapshotWindow.objects.filter(snapshot=failed, attempts=WINDOW_ATTEMPTS).exists()
    assert not SnapshotWindow.objects.filter(snapshot=failed, state__in=["pending", "running", "done"]).exists()
    assert "Retry in" in full_log  # Celery's own retries, counted in the window's row
    # Redacted in mesh-ui's errors, and by the worker's log filter in what libraries log (urllib3's retries).
    assert SECRET not in full_log and SECRET not in failed.error
    assert "Prometheus at http://mesh:***@127.0.0.1" in full_log
    assert any("Retrying" in line and "token=***" in line for line in full_log.splitlines())
    status = MetricsSourceStatus.objects.get(cluster=cluster)
    assert status.failing and "Prometheus" in status.last_error
    graph = client.get("/api/v1/graph", {"graphType": "workload"}).json()
    assert graph["snapshot"]["id"] == good.pk and graph["snapshot"]["stale"] is True
    assert graph["elements"]["nodes"]
