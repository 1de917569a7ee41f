"""Prometheus loses its scrape target: a real Prometheus scrapes the simulator, whose metrics endpoint is taken down
through the simulator's control surface (``metrics_down``: ``/metrics`` answers 503, Prometheus records ``up == 0``).

Before, the next snapshot was an empty graph served as fresh. Now the snapshot is refused with the reason, the API
keeps serving the last graph with traffic marked stale with that reason, the header says so, and the first
snapshot after the target answers again (scraped twice) is fresh and has traffic again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inventory.models import Cluster
from inventory.sync import sync_cluster
from simulator import control
from tests.faults.probes import banner_kinds, measure, record_timing
from tests.support.prometheus import scraped_simulator
from topology.models import GraphSnapshot
from topology.snapshots import take_snapshot
from topology.telemetry.targets import TARGETS_DOWN

pytestmark = [pytest.mark.faults, pytest.mark.serial, pytest.mark.prometheus, pytest.mark.django_db]

WINDOW = 10  # seconds: Prometheus scrapes every second, so a 10 s window has traffic after two scrapes
#: Bounds with a 1 s scrape interval and a snapshot taken on every probe: a scrape fails within 1 s of the fault,
#: and after it clears two scrapes (2 s) make a window usable again.
DETECT_SECONDS = 5.0
RECOVER_SECONDS = 10.0


@pytest.fixture
def scraped_mesh(tmp_path: Path) -> Iterator[Any]:
    with scraped_simulator(tmp_path, rps=20.0) as sim:
        yield sim


def _graph(client: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/graph", {"namespaces": "bookinfo", "duration": f"{WINDOW}s"})
    assert answer.status_code == 200, answer.content[:300]
    graph: dict[str, Any] = answer.json()
    return graph


def _probe(cluster: Cluster, client: Any, seen: list[dict[str, Any]]) -> dict[str, Any]:
    """One beat of the schedule: take a snapshot (or fail to), then read the graph as the page would."""
    take_snapshot(cluster.pk, force=True)
    graph = _graph(client)
    seen.append(graph)
    return graph


def test_lost_scrape_target_marks_the_graph_stale_and_keeps_the_last_graph_with_traffic(
    scraped_mesh, settings, client, admin_client
):
    settings.MESH_UI_GRAPH_WINDOWS = [WINDOW]
    settings.MESH_UI_HEALTH_WINDOW = WINDOW
    settings.MESH_UI_PROMETHEUS_TARGET_SELECTOR = 'job="target0"'
    cluster = Cluster.objects.create(
        name="live", kubeconfig_path=str(scraped_mesh.kubeconfig_path), prometheus_url=scraped_mesh.prometheus_url
    )
    sync_cluster(cluster.pk)
    seen: list[dict[str, Any]] = []
    measure(lambda: _probe(cluster, client, seen)["elements"]["nodes"], "a first graph with traffic", timeout=20)
    assert "metrics" not in banner_kinds(client)

    control.set_faults(scraped_mesh.url, metrics_down=True)
    down_at = time.monotonic()
    seen.clear()
    detect = measure(
        lambda: _probe(cluster, client, seen)["snapshot"].get("sourceError", "").startswith(TARGETS_DOWN),
        "the graph is marked stale because the target is down",
        timeout=20,
    )
    stale = seen[-1]
    assert stale["snapshot"]["stale"] is True
    assert stale["elements"]["nodes"], "the last graph with traffic stays served"
    # Every graph served since the fault had traffic: none was replaced by the empty one lost telemetry gives.
    assert all(graph["elements"]["nodes"] for graph in seen)
    kept = stale["snapshot"]["id"]
    for _ in range(3):  # and it stays so while the target is down
        again = _probe(cluster, client, seen)
        assert again["snapshot"]["id"] == kept and again["snapshot"]["stale"] and again["elements"]["nodes"]
    admin_error = _graph(admin_client)["snapshot"]["sourceError"]
    assert 'job="target0"' in admin_error and "up == 0" in admin_error, admin_error
    assert f"127.0.0.1:{scraped_mesh.port}" not in stale["snapshot"]["sourceError"]  # hosts are for admins
    header = banner_kinds(admin_client)["metrics"]
    assert "Metrics source failing" in header and TARGETS_DOWN in header
    failed_at = GraphSnapshot.every_snapshot.filter(cluster=cluster).count()

    control.set_faults(scraped_mesh.url, metrics_down=False)
    seen.clear()
    recover = measure(
        lambda: not _probe(cluster, client, seen)["snapshot"]["stale"], "a fresh graph after the target is back"
    )
    fresh = seen[-1]
    assert fresh["snapshot"]["id"] != kept and fresh["elements"]["nodes"], "the first fresh graph has traffic"
    assert "metrics" not in banner_kinds(client)
    # No snapshot was stored while the telemetry was lost (none failed, none empty).
    assert GraphSnapshot.every_snapshot.filter(cluster=cluster).count() == failed_at + 1

    record_timing("Prometheus loses its scrape target", detect=detect, recover=recover)
    assert time.monotonic() - down_at < 60
    assert detect <= DETECT_SECONDS
    assert recover <= RECOVER_SECONDS
