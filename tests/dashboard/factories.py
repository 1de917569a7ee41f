"""Small builders of inventory rows and stored snapshots for the dashboard tests (no simulator)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from inventory.models import Cluster, IstioObject, Namespace, Pod, Service, Workload
from topology.models import GraphSnapshot, MetricsSourceStatus, SnapshotGraph


def make_cluster(name: str = "prod") -> Cluster:
    cluster = Cluster.objects.create(name=name)
    MetricsSourceStatus.objects.create(cluster=cluster)
    return cluster


def make_namespace(cluster: Cluster, name: str, injection: str = "enabled") -> Namespace:
    return Namespace.objects.create(cluster=cluster, name=name, injection=injection)


def make_workload(cluster: Cluster, namespace: str, name: str, app: str = "", **fields: Any) -> Workload:
    labels = {"app": app, "version": fields.pop("version", "v1")} if app else {}
    defaults: dict[str, Any] = {
        "kind": "Deployment",
        "desired_replicas": 1,
        "ready_replicas": 1,
        "available_replicas": 1,
        "sidecar_present": True,
        "labels": labels,
        "template_labels": labels,
        "version": labels.get("version", ""),
    }
    defaults.update(fields)
    return Workload.objects.create(cluster=cluster, namespace=namespace, name=name, app=app, **defaults)


def make_service(cluster: Cluster, namespace: str, name: str, selector: dict[str, str] | None = None) -> Service:
    return Service.objects.create(
        cluster=cluster,
        namespace=namespace,
        name=name,
        service_type="ClusterIP",
        ports=[{"name": "http", "port": 9080}],
        selector=selector if selector is not None else {"app": name},
        labels={"app": name},
    )


def make_pod(cluster: Cluster, workload: Workload, name: str, ready: bool = True) -> Pod:
    return Pod.objects.create(
        cluster=cluster,
        namespace=workload.namespace,
        name=name,
        phase="Running",
        ready=ready,
        sidecar=True,
        containers_ready=2 if ready else 1,
        containers_total=2,
        workload_kind=workload.kind,
        workload_name=workload.name,
    )


def make_istio(cluster: Cluster, namespace: str, kind: str, name: str, spec: dict[str, Any]) -> IstioObject:
    return IstioObject.objects.create(
        cluster=cluster, namespace=namespace, name=name, group="networking.istio.io", version="v1", kind=kind, spec=spec
    )


def make_snapshot(
    cluster: Cluster,
    health: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    age_seconds: float = 0.0,
    graphs: dict[str, dict[str, Any]] | None = None,
) -> GraphSnapshot:
    snapshot = GraphSnapshot.objects.create(
        cluster=cluster,
        taken_at=timezone.now() - timedelta(seconds=age_seconds),
        source=GraphSnapshot.Source.DIRECT,
        namespaces=[],
        windows=[300],
        health_window=300,
        health=health or {},
        metrics=metrics or {},
    )
    for graph_type, graph in (graphs or {}).items():
        SnapshotGraph.create_from_graph(graph, snapshot=snapshot, graph_type=graph_type, window=300)
    return snapshot
