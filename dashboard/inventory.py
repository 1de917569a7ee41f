"""Read side of the inventory page: the chosen cluster's namespaces with their workloads, services, Istio objects,
sync status and traffic edges; one query per table, grouped by namespace in Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.access import NamespaceScope, scope_filter
from dashboard.traffic import EdgeRow, TrafficOverview, load_traffic_overview
from inventory.models import Cluster, IstioObject, Namespace, Service, SyncStatus, Workload


def describe_sync_failure(status: SyncStatus, detailed: bool) -> str:
    """What a reader is told of a kind's last sync error: its text for mesh admins, only when for everyone else."""
    if not status.last_error:
        return ""
    if detailed:
        return status.last_error
    when = status.last_error_at.isoformat(timespec="seconds") if status.last_error_at else "recently"
    return f"list failed at {when}"


@dataclass
class NamespaceView:
    name: str
    injection: str = ""
    present: bool = True  # False when objects exist but the namespace list failed or lags
    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    istio_objects: list[IstioObject] = field(default_factory=list)
    edges: list[EdgeRow] = field(default_factory=list)
    health: dict[str, Any] | None = None


@dataclass
class ClusterView:
    cluster: Cluster
    statuses: list[SyncStatus]
    namespaces: list[NamespaceView]
    traffic: TrafficOverview

    @property
    def failing(self) -> list[SyncStatus]:
        return [s for s in self.statuses if s.state == SyncStatus.State.FAILED]

    @property
    def last_success(self) -> Any:
        times = [s.last_success for s in self.statuses if s.last_success]
        return min(times) if times else None


def load_inventory_overview(
    cluster: Cluster | None, scope: NamespaceScope, detailed_errors: bool = False
) -> dict[str, Any]:
    """The inventory of ``cluster`` in the namespaces of ``scope`` as ``view`` (None, an empty page, when no cluster
    is configured).

    ``detailed_errors``: the reader may see the text of sync and metrics errors (mesh admins); each status gets
    ``shown_error``, what the page says of its last error.
    """
    if cluster is None:
        return {"view": None, "now": timezone.now()}
    namespaces: dict[str, NamespaceView] = {}

    def namespace_view(name: str) -> NamespaceView:
        if name not in namespaces:
            namespaces[name] = NamespaceView(name=name, present=False)
        return namespaces[name]

    readable = scope_filter(scope)
    for ns in Namespace.objects.filter(scope_filter(scope, "name"), cluster=cluster).order_by("name"):
        namespaces[ns.name] = NamespaceView(name=ns.name, injection=ns.injection)
    for workload in Workload.objects.filter(readable, cluster=cluster).order_by("namespace", "name"):
        namespace_view(workload.namespace).workloads.append(workload)
    for service in Service.objects.filter(readable, cluster=cluster).order_by("namespace", "name"):
        namespace_view(service.namespace).services.append(service)
    for obj in IstioObject.objects.filter(readable, cluster=cluster).order_by("namespace", "kind", "name"):
        namespace_view(obj.namespace).istio_objects.append(obj)
    statuses = list(SyncStatus.objects.filter(cluster=cluster).order_by("kind"))
    for status in statuses:
        status.shown_error = describe_sync_failure(status, detailed_errors)  # type: ignore[attr-defined]
    traffic = load_traffic_overview(cluster, None if scope.all_namespaces else scope.names, detailed_errors)
    namespace_views = [namespaces[name] for name in sorted(namespaces)]
    for ns_view in namespace_views:
        ns_view.edges = traffic.edges_by_namespace.get(ns_view.name, [])
        ns_view.health = traffic.namespace_health.get(ns_view.name)
        for workload in ns_view.workloads:
            workload.health = traffic.workload_health.get(f"{workload.namespace}/{workload.name}")  # type: ignore[attr-defined]
    view = ClusterView(cluster=cluster, statuses=statuses, namespaces=namespace_views, traffic=traffic)
    return {"view": view, "now": timezone.now()}
