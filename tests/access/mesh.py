"""A small two-namespace mesh for access tests: ``bookinfo`` (marker ``productpage``) and ``istio-system`` (marker
``ingressgateway``), with inventory rows, a snapshot built by the real graph pipeline, and one user per role.

A page or answer that shows a namespace shows its marker; one that must not show it must not hold the marker
anywhere (names, ids, hosts, principals).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from accounts.models import RoleGrant
from inventory.models import Cluster, SyncStatus
from istio_config.validation import validate_cluster
from tests.dashboard.factories import (
    make_cluster,
    make_istio,
    make_namespace,
    make_pod,
    make_service,
    make_snapshot,
    make_workload,
)
from tests.topology.bookinfo import bookinfo_requests
from topology.entity_metrics import build_snapshot_metrics
from topology.graph import GraphInputs, GraphOptions, build_graph
from topology.graph.model import GRAPH_TYPES
from topology.health_summary import build_snapshot_health
from topology.models import GraphSnapshot

GRANTED, HIDDEN = "bookinfo", "istio-system"
#: A name found in everything shown of the namespace, and nowhere else.
MARKERS = {GRANTED: "productpage", HIDDEN: "ingressgateway"}
#: One object per namespace, for detail pages and the metrics API: (workload, app, service).
OBJECTS = {
    GRANTED: ("productpage-v1", "productpage", "productpage"),
    HIDDEN: ("istio-ingressgateway", "istio-ingressgateway", "istio-ingressgateway"),
}

#: The roles of the access tests: user name → grants as (role, namespace or "" for all).
ROLES: dict[str, list[tuple[str, str]]] = {
    "viewer": [("viewer", "")],
    "editor": [("editor", "")],
    "admin": [("admin", "")],
    "bookinfo_editor": [("editor", GRANTED)],
    "no_grant": [],
}


@dataclass
class Mesh:
    cluster: Cluster
    snapshot: GraphSnapshot


@functools.cache
def build_graphs() -> dict[str, dict[str, Any]]:
    """Bookinfo's traffic (the ingress gateway in istio-system calls productpage) as each stored graph type.

    Built once per run (pure and never changed by storing); callers must not change it.
    """
    graphs: dict[str, dict[str, Any]] = {}
    for graph_type in GRAPH_TYPES:
        options = GraphOptions(
            graph_type=graph_type,
            namespaces=frozenset({GRANTED, HIDDEN}),
            include_idle=True,
            box_by=frozenset({"cluster", "namespace", "app"}),
        )
        graphs[graph_type] = build_graph(GraphInputs(requests=bookinfo_requests()), options, 1000, 300)
    return graphs


def make_mesh(name: str = "east") -> Mesh:
    cluster = make_cluster(name)
    for namespace, (workload_name, app, service) in OBJECTS.items():
        make_namespace(cluster, namespace)
        workload = make_workload(cluster, namespace, workload_name, app=app)
        make_pod(cluster, workload, f"{workload_name}-abc")
        make_service(cluster, namespace, service, selector={"app": app})
    make_istio(cluster, GRANTED, "VirtualService", "productpage", {"hosts": ["productpage"]})
    make_istio(cluster, HIDDEN, "Gateway", "ingressgateway", {"selector": {"istio": "ingressgateway"}})
    SyncStatus.objects.create(cluster=cluster, kind="pods", state="ok")
    validate_cluster(cluster)  # findings on both namespaces' objects (the gateway's selector selects nothing)
    graphs = build_graphs()
    snapshot = make_snapshot(
        cluster, health=build_snapshot_health(graphs), metrics=build_snapshot_metrics(graphs), graphs=graphs
    )
    GraphSnapshot.objects.filter(pk=snapshot.pk).update(namespaces=[GRANTED, HIDDEN])
    snapshot.refresh_from_db()
    return Mesh(cluster=cluster, snapshot=snapshot)


def make_role_user(role: str) -> Any:
    """A user named after ``role`` with its grants (``superuser``: a superuser without grants)."""
    users = get_user_model().objects
    if role == "superuser":
        return users.create_superuser("superuser", "root@example.com", "pw")
    user = users.create_user(role, f"{role}@example.com", "pw")
    for grant_role, namespace in ROLES[role]:
        cluster = Cluster.objects.order_by("pk").first() if namespace else None
        RoleGrant.objects.create(user=user, role=grant_role, cluster=cluster, namespace=namespace)
    return user
