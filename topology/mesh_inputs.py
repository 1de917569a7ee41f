"""Read the inventory into the pure pipeline's inputs: mesh context (workloads, services, VirtualService hosts,
missing sidecars, ServiceEntries) and health inputs (replicas, annotations)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from inventory.models import Cluster, IstioObject, Namespace, Pod, Service, Workload
from topology.graph import GraphHealthInputs, MeshContext, ServiceInfo, WorkloadInfo
from topology.graph.istio_flags import circuit_breaker_versions, virtual_service_flags, virtual_service_route_hosts
from topology.graph.model import ServiceEntryInfo
from topology.health import HEALTH_RATE_ANNOTATION, HealthConfig, WorkloadReplicas

CLUSTER_DOMAIN = "svc.cluster.local"
#: The label that puts a namespace (or a pod) in Istio's ambient mesh: its workloads run without sidecars, in the mesh.
AMBIENT_LABEL = ("istio.io/dataplane-mode", "ambient")


def fqdn(host: str, namespace: str) -> str:
    """Resolve a host as Istio does: a short name lives in the object's namespace."""
    if "." not in host:
        return f"{host}.{namespace}.{CLUSTER_DOMAIN}"
    if host.count(".") == 1:
        return f"{host}.{CLUSTER_DOMAIN}"
    return host


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def load_graph_inputs(cluster: Cluster, config: HealthConfig) -> tuple[MeshContext, GraphHealthInputs]:
    """What the graph steps need from the inventory: the mesh context and the health inputs, read with one query
    per table (a snapshot's window task reads them once for all its graphs)."""
    services = list(Service.objects.filter(cluster=cluster).only("namespace", "name", "selector", "annotations"))
    workloads = list(Workload.objects.filter(cluster=cluster))
    return _load_mesh_context(cluster, services, workloads), _load_health_inputs(cluster, config, services, workloads)


def _load_mesh_context(cluster: Cluster, services: list[Service], workloads: list[Workload]) -> MeshContext:
    """Workloads with the services selecting them, missing sidecars, VirtualService hosts and ServiceEntries."""
    services_by_namespace: dict[str, list[Service]] = defaultdict(list)
    for service in services:
        services_by_namespace[service.namespace].append(service)
    workload_infos = []
    missing_sidecars = set()
    key, value = AMBIENT_LABEL
    ambient_namespaces = {ns.name for ns in Namespace.objects.filter(cluster=cluster) if ns.labels.get(key) == value}
    for workload in workloads:
        selecting = tuple(
            s.name for s in services_by_namespace[workload.namespace] if _selects(s.selector, workload.template_labels)
        )
        workload_infos.append(
            WorkloadInfo(
                namespace=workload.namespace,
                name=workload.name,
                app=workload.app or "unknown",
                version=workload.version or "unknown",
                services=selecting,
                pods=workload.ready_replicas,
                labels=workload.template_labels,
            )
        )
        # An ambient workload needs no sidecar (ztunnel captures it; Kiali's `isAmbient` nodes are not out of mesh).
        ambient = workload.namespace in ambient_namespaces or workload.template_labels.get(key) == value
        if not workload.sidecar_present and workload.desired_replicas > 0 and not ambient:
            missing_sidecars.add((workload.namespace, workload.name))
    vs_hosts: set[str] = set()
    routing: dict[str, frozenset[str]] = {}
    breakers: dict[str, frozenset[str]] = {}
    service_entries: dict[str, ServiceEntryInfo] = {}
    kinds = ["VirtualService", "ServiceEntry", "DestinationRule"]
    for obj in IstioObject.objects.filter(cluster=cluster, kind__in=kinds):
        hosts = [h for h in obj.spec.get("hosts") or [] if isinstance(h, str)]
        if obj.kind == "DestinationRule":
            host, versions = obj.spec.get("host"), circuit_breaker_versions(obj.spec)
            if isinstance(host, str) and versions:
                key = fqdn(host, obj.namespace)
                breakers[key] = breakers.get(key, frozenset()) | versions
        elif obj.kind == "VirtualService":
            # A VirtualService applies to the services it names and to those it routes to (Kiali matches routes).
            named = {fqdn(h, obj.namespace) for h in [*hosts, *virtual_service_route_hosts(obj.spec)] if h != "*"}
            vs_hosts |= named
            flags = virtual_service_flags(obj.spec)
            for host in named:
                routing[host] = routing.get(host, frozenset()) | flags
        else:
            location: Literal["MESH_EXTERNAL", "MESH_INTERNAL"] = (
                "MESH_INTERNAL" if obj.spec.get("location") == "MESH_INTERNAL" else "MESH_EXTERNAL"
            )
            info = ServiceEntryInfo(location=location, hosts=tuple(hosts), namespace=obj.namespace)
            for host in hosts:
                service_entries[host] = info
    return MeshContext(
        workloads=workload_infos,
        services=[ServiceInfo(namespace=s.namespace, name=s.name) for s in services],
        virtual_service_hosts=frozenset(vs_hosts),
        missing_sidecars=frozenset(missing_sidecars),
        service_entries=service_entries,
        routing_flags=routing,
        circuit_breakers=breakers,
    )


def _load_health_inputs(
    cluster: Cluster, config: HealthConfig, services: list[Service], workloads: list[Workload]
) -> GraphHealthInputs:
    """Replica counts (desired, created pods, ready pods) and health annotations of workloads and services."""
    pod_counts: dict[tuple[str, str], int] = defaultdict(int)
    for namespace, workload_name in Pod.objects.filter(cluster=cluster).values_list("namespace", "workload_name"):
        pod_counts[(namespace, workload_name)] += 1
    replicas: dict[tuple[str, str], WorkloadReplicas] = {}
    annotations: dict[tuple[str, str, str], dict[str, Any]] = {}
    for workload in workloads:
        key = (workload.namespace, workload.name)
        replicas[key] = WorkloadReplicas(
            name=workload.name,
            desired=workload.desired_replicas,
            current=pod_counts.get(key, 0),
            available=workload.available_replicas,
            has_sidecar=workload.sidecar_present,
        )
        if HEALTH_RATE_ANNOTATION in workload.annotations:
            annotations[("workload", workload.namespace, workload.name)] = workload.annotations
    for service in services:
        if HEALTH_RATE_ANNOTATION in service.annotations:
            annotations[("service", service.namespace, service.name)] = service.annotations
    return GraphHealthInputs(config=config, replicas=replicas, annotations=annotations)
