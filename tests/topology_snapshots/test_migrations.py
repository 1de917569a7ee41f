"""The migration that splits stored graphs by namespace keeps the history stored before it."""

from __future__ import annotations

import json
import zlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.topology.test_partition import _graph
from topology.graph.filtering import filter_graph

BEFORE = [("topology", "0002_snapshot_metrics")]


@pytest.mark.django_db(transaction=True)
def test_graphs_stored_whole_are_split_into_namespace_parts():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    cluster = old.get_model("inventory", "Cluster").objects.create(name="old")
    snapshot = old.get_model("topology", "GraphSnapshot").objects.create(
        cluster=cluster, taken_at=timezone.now(), source="prometheus", namespaces=["bookinfo", "istio-system"]
    )
    graph = _graph("workload")
    old.get_model("topology", "SnapshotGraph").objects.create(
        snapshot=snapshot, graph_type="workload", window=60, body=zlib.compress(json.dumps(graph).encode())
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("topology"))  # through 0003_graph_parts, to the latest

    from topology.models import SnapshotGraph

    stored = SnapshotGraph.objects.get(snapshot_id=snapshot.pk)
    assert stored.head == {"timestamp": 1000, "duration": 60, "graphType": "workload"}
    assert stored.parts.count() >= 3 and stored.size_bytes > 0
    key = lambda e: e["data"]["id"]  # noqa: E731
    whole = json.loads(stored.json_bytes())
    assert sorted(whole["elements"]["edges"], key=key) == sorted(graph["elements"]["edges"], key=key)
    scoped = filter_graph(stored.load_graph(["bookinfo"]), ["bookinfo"], False, ["namespace"])
    assert scoped["elements"]["nodes"] == filter_graph(graph, ["bookinfo"], False, ["namespace"])["elements"]["nodes"]
