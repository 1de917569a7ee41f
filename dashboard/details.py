"""Read side of the detail pages of a workload, service or application: inventory rows, health with its reason,
pods, the Istio objects that apply, the findings of the config that routes to or selects it, and the node's
neighbours in the latest stored graph.

Charts are not rendered here: the page's script reads ``/api/v1/metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404

from accounts.access import NamespaceScope, scope_filter
from dashboard.common import latest_snapshot_part
from dashboard.neighbours import Neighbour, find_neighbours
from inventory.models import Cluster, IstioObject, Pod, Service, Workload
from istio_config.findings import findings_for_target
from istio_config.models import ConfigFinding
from topology.graph.restriction import restrict_graph
from topology.mesh_inputs import fqdn
from topology.models import GraphSnapshot, SnapshotGraph

ROUTING_KINDS = ("VirtualService", "DestinationRule")
# Which stored graph shows an entity kind as a node.
GRAPH_FOR_KIND = {"workload": "workload", "service": "service", "app": "app"}


@dataclass
class DetailPage:
    """Everything a detail template needs."""

    kind: str  # workload, service or app
    namespace: str
    name: str
    health: dict[str, Any]
    workloads: list[Workload] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    istio_objects: list[IstioObject] = field(default_factory=list)
    findings: list[ConfigFinding] = field(default_factory=list)
    inbound: list[Neighbour] = field(default_factory=list)
    outbound: list[Neighbour] = field(default_factory=list)
    graph_window: int | None = None
    obj: Any = None

    @property
    def mini_graph(self) -> dict[str, Any]:
        """The node and its neighbours as Cytoscape elements (embedded with ``json_script``)."""
        center = f"{self.kind}:{self.namespace}/{self.name}"
        nodes: dict[str, dict[str, Any]] = {
            center: {"data": {"id": center, "label": self.name, "kind": self.kind, "center": True}}
        }
        edges = []
        for direction, neighbours in (("in", self.inbound), ("out", self.outbound)):
            for n in neighbours:
                node_id = f"{n.node_type}:{n.namespace}/{n.name}"
                nodes.setdefault(node_id, {"data": {"id": node_id, "label": n.name, "kind": n.node_type, "url": n.url}})
                source, target = (node_id, center) if direction == "in" else (center, node_id)
                edge = {"id": f"{source}>{target}:{n.protocol}", "source": source, "target": target}
                edge["label"] = f"{n.rate:.2f} {n.unit}"
                edge["health"] = n.health
                edges.append({"data": edge})
        return {"nodes": list(nodes.values()), "edges": edges}


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def object_hosts(obj: IstioObject) -> set[str]:
    """The FQDNs a VirtualService (``hosts``) or DestinationRule (``host``) applies to."""
    spec = obj.spec or {}
    hosts = spec.get("hosts") if obj.kind == "VirtualService" else [spec.get("host")]
    return {fqdn(h, obj.namespace) for h in hosts or [] if isinstance(h, str) and h and h != "*"}


def find_routing_objects(cluster: Cluster, services: list[Service], scope: NamespaceScope) -> list[IstioObject]:
    """VirtualServices and DestinationRules (of the namespaces in ``scope``) whose hosts resolve to the services."""
    wanted = {fqdn(s.name, s.namespace) for s in services}
    if not wanted:
        return []
    candidates = IstioObject.objects.filter(scope_filter(scope), cluster=cluster, kind__in=ROUTING_KINDS)
    candidates = candidates.order_by("kind", "namespace")
    return [obj for obj in candidates if object_hosts(obj) & wanted]


def service_workloads(cluster: Cluster, service: Service) -> list[Workload]:
    """The workloads of the service's namespace its selector selects, by name."""
    candidates = Workload.objects.filter(cluster=cluster, namespace=service.namespace).order_by("name")
    return [w for w in candidates if _selects(service.selector, w.template_labels)]


def _services_selecting(cluster: Cluster, namespace: str, workloads: list[Workload]) -> list[Service]:
    services = Service.objects.filter(cluster=cluster, namespace=namespace).order_by("name")
    return [s for s in services if any(_selects(s.selector, w.template_labels) for w in workloads)]


def _pods(cluster: Cluster, namespace: str, workloads: list[Workload]) -> list[Pod]:
    names = [w.name for w in workloads]
    return list(Pod.objects.filter(cluster=cluster, namespace=namespace, workload_name__in=names).order_by("name"))


def _attach_graph(page: DetailPage, cluster: Cluster, scope: NamespaceScope) -> None:
    """Health and neighbours from the latest snapshot (one graph body read, the health window's); neighbours in
    namespaces outside ``scope`` are one opaque node."""
    _, health = latest_snapshot_part(cluster, "health", page.kind)
    page.health = health.get(f"{page.namespace}/{page.name}") or {}
    snapshot = GraphSnapshot.objects.filter(cluster=cluster).only("id", "health_window").order_by("-taken_at").first()
    if snapshot is None:
        return
    stored = SnapshotGraph.objects.filter(
        snapshot=snapshot,
        graph_type=GRAPH_FOR_KIND[page.kind],
        window=snapshot.health_window,
        inject_service_nodes=True,
    ).first()
    if stored is None:
        return
    page.graph_window = snapshot.health_window
    # The neighbours of one entity: only its namespace's share of the graph is read.
    graph = stored.load_graph([page.namespace])
    if not scope.all_namespaces:
        graph = restrict_graph(graph, scope.names)
    page.inbound, page.outbound = find_neighbours(graph, page.kind, page.namespace, page.name)


def load_workload_detail(cluster: Cluster, scope: NamespaceScope, namespace: str, name: str) -> DetailPage:
    workload = Workload.objects.filter(cluster=cluster, namespace=namespace, name=name).order_by("kind").first()
    if workload is None:
        raise Http404(f"no workload {namespace}/{name}")
    page = DetailPage("workload", namespace, name, health={}, obj=workload, workloads=[workload])
    page.pods = _pods(cluster, namespace, [workload])
    page.services = _services_selecting(cluster, namespace, [workload])
    page.istio_objects = find_routing_objects(cluster, page.services, scope)
    page.findings = findings_for_target(cluster, "workload", namespace, name)
    _attach_graph(page, cluster, scope)
    return page


def load_service_detail(cluster: Cluster, scope: NamespaceScope, namespace: str, name: str) -> DetailPage:
    service = Service.objects.filter(cluster=cluster, namespace=namespace, name=name).first()
    if service is None:
        raise Http404(f"no service {namespace}/{name}")
    page = DetailPage("service", namespace, name, health={}, obj=service, services=[service])
    page.workloads = service_workloads(cluster, service)
    page.istio_objects = find_routing_objects(cluster, [service], scope)
    page.findings = findings_for_target(cluster, "service", namespace, name)
    _attach_graph(page, cluster, scope)
    return page


def load_app_detail(cluster: Cluster, scope: NamespaceScope, namespace: str, app: str) -> DetailPage:
    workloads = list(Workload.objects.filter(cluster=cluster, namespace=namespace, app=app).order_by("name"))
    if not workloads:
        raise Http404(f"no application {namespace}/{app}")
    page = DetailPage("app", namespace, app, health={}, workloads=workloads)
    page.pods = _pods(cluster, namespace, workloads)
    page.services = _services_selecting(cluster, namespace, workloads)
    page.istio_objects = find_routing_objects(cluster, page.services, scope)
    seen: set[int] = set()
    for workload in workloads:
        for finding in findings_for_target(cluster, "workload", namespace, workload.name):
            if finding.pk not in seen:
                seen.add(finding.pk)
                page.findings.append(finding)
    _attach_graph(page, cluster, scope)
    return page
