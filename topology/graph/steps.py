"""Pipeline steps that decorate or prune a traffic map (Kiali's appenders, as small pure classes).

Each step has a ``name`` and an ``apply(tm, ctx)`` method that mutates the traffic map in place; the
pipeline runs them in the order of :func:`topology.graph.pipeline.build_default_steps`, after the traffic map is
built with its rates, response times and mTLS (:mod:`topology.graph.traffic_map`).  Every step can be run alone
on a literal traffic map, which is how the tests exercise them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from topology.graph.istio_flags import breaks_circuit
from topology.graph.model import (
    UNKNOWN,
    Edge,
    GatewayInfo,
    GraphOptions,
    ServiceEntryInfo,
    ServiceName,
    TrafficMap,
    is_known,
)
from topology.graph.paths import PathResolver
from topology.graph.quirks import ENVOY_CLUSTERS
from topology.graph.samples import MeshContext, WorkloadInfo, is_waypoint_workload
from topology.graph.traffic_map import compute_node_rates


@dataclass
class StepContext:
    """Everything a step may read besides the traffic map: options, mesh facts and the map's path resolver."""

    options: GraphOptions
    mesh: MeshContext = field(default_factory=MeshContext)
    #: The resolver that built the traffic map (its node objects), so steps adding nodes add the same objects.
    resolver: PathResolver | None = None

    def get_resolver(self) -> PathResolver:
        """Return the traffic map's path resolver, or a new one for ``options`` when none was given."""
        if self.resolver is None:
            self.resolver = PathResolver(self.options)
        return self.resolver


class GraphStep(Protocol):
    """A named transformation of the traffic map."""

    name: str

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Decorate or prune ``tm`` in place."""
        ...


class ServiceGraphStep:
    """Reduce a graph with service nodes to Kiali's service graph (service -> service edges).

    A non-service node reached from service nodes is removed; its outgoing traffic is re-attributed to the
    services in front of it, split in proportion to the traffic each service sends it (so a request is
    never counted twice).  Then, as Kiali's ``ReduceToServiceGraph``, the graph holds services only, plus the
    callers nobody calls (roots: gateways, the ``unknown`` caller, workloads of other namespaces calling in) with
    their edges to services: a non-service node reached directly (workload-to-workload traffic without a service)
    goes with its edges, and a caller left without an edge goes too.
    """

    name = "serviceGraph"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Collapse workload/app nodes behind services; no-op unless the graph type is ``service``."""
        if ctx.options.graph_type != "service":
            return
        incoming_from_services: dict[str, list[Edge]] = {}
        for edge in tm.edges.values():
            if tm.nodes[edge.source].node_type == "service" and tm.nodes[edge.target].node_type != "service":
                incoming_from_services.setdefault(edge.target, []).append(edge)
        outgoing: dict[str, list[Edge]] = {}
        for edge in tm.edges.values():
            outgoing.setdefault(edge.source, []).append(edge)
        reduced: list[tuple[Edge, Edge, float]] = []
        for node_id, service_edges in incoming_from_services.items():
            weights = [_edge_weight(e) for e in service_edges]
            total = sum(weights)
            for service_edge, weight in zip(service_edges, weights, strict=True):
                share = weight / total if total > 0 else 1.0 / len(service_edges)
                for out_edge in outgoing.get(node_id, []):
                    if out_edge.target in incoming_from_services:
                        continue  # workload -> workload hop without a service: dropped with its target
                    reduced.append((service_edge, out_edge, share))
        tm.remove_nodes(set(incoming_from_services))
        for service_edge, out_edge, share in reduced:
            tm.get_edge(service_edge.source, out_edge.target, out_edge.protocol).merge_from(out_edge, share)
        called = {edge.target for edge in tm.edges.values()}
        tm.remove_nodes({node.id for node in tm.nodes.values() if node.node_type != "service" and node.id in called})
        linked = {edge.source for edge in tm.edges.values()}
        tm.remove_nodes(
            {node.id for node in tm.nodes.values() if node.node_type != "service" and node.id not in linked}
        )
        compute_node_rates(tm)


def _edge_weight(edge: Edge) -> float:
    return edge.rate if edge.protocol != "tcp" else edge.rate / 1e9  # requests dominate bytes when mixed


class ServiceEntryStep:
    """Flag service nodes that are ServiceEntries or external hosts (``isServiceEntry``).

    A service node is a ServiceEntry when its host is declared by one (``mesh.service_entries``), when Istio
    could not place it in a namespace (``destination_service_namespace="unknown"``, e.g. passthrough to an
    external host), or when its name is a host outside the cluster domain (Kubernetes service names never
    contain a dot).  Envoy's ``PassthroughCluster`` and ``BlackHoleCluster`` never are: they name no host, only that
    Envoy let the request through to an address it has no service for, or blocked it (``REGISTRY_ONLY``).
    """

    name = "serviceEntry"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Set ``is_service_entry`` on matching service nodes."""
        entries = ctx.mesh.service_entries
        domain = "." + ctx.options.cluster_domain
        for node in tm.nodes.values():
            if node.node_type != "service" or node.service == UNKNOWN or node.service in ENVOY_CLUSTERS:
                continue  # an unknown destination, or an Envoy cluster, is no ServiceEntry
            host = node.service
            declared = entries.get(host)
            if declared is not None:
                node.is_service_entry = declared
            elif node.namespace == UNKNOWN or ("." in host and not host.endswith(domain)):
                node.is_service_entry = ServiceEntryInfo("MESH_EXTERNAL", (host,), "")


def _workload_index(workloads: Sequence[WorkloadInfo]) -> dict[tuple[str, str, str], WorkloadInfo]:
    return {(w.cluster, w.namespace, w.name): w for w in workloads}


def _find_workload(
    index: dict[tuple[str, str, str], WorkloadInfo], cluster: str, namespace: str, name: str
) -> WorkloadInfo | None:
    return index.get((cluster, namespace, name)) or index.get(("", namespace, name))


class DeadNodeStep:
    """Prune nodes that carry nothing (Kiali's DeadNode appender) and flag workloads without pods.

    - A service node that is not a ServiceEntry, received no traffic and has no outgoing edge (no workload
      behind it) is removed with its edges.
    - A workload/app node whose inventory workloads all run 0 pods gets ``isDead``; when it also has no
      traffic it is removed.
    Idle nodes (added on purpose) are never pruned.
    """

    name = "deadNode"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Remove dead nodes and flag workloads without pods."""
        has_out = {edge.source for edge in tm.edges.values()}
        index = _workload_index(ctx.mesh.workloads)
        dead: set[str] = set()
        for node in tm.nodes.values():
            if node.is_idle:
                continue
            has_traffic = any(value > 0 for value in node.rates.values())
            if node.node_type == "service":
                if node.is_service_entry is None and not has_traffic and node.id not in has_out:
                    dead.add(node.id)
            elif node.node_type in ("workload", "app") and index and node.workloads:
                infos = [_find_workload(index, node.cluster, node.namespace, w) for w in node.workloads]
                if infos and all(i is not None and i.pods == 0 for i in infos):
                    node.is_dead = True
                    if not has_traffic:
                        dead.add(node.id)
        tm.remove_nodes(dead)


class IdleNodeStep:
    """Add inventory workloads and services that had no traffic, flagged ``isIdle`` (optional).

    Only objects in the requested namespaces (and clusters, when given) are added.  Service nodes are added
    only when the graph shows service nodes; the service graph adds only services.
    """

    name = "idleNode"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Add the idle nodes when ``options.include_idle`` is set."""
        options = ctx.options
        if not options.include_idle:
            return
        resolver = ctx.get_resolver()
        # Inventory without a cluster name joins the cluster the telemetry names, when it names just one.
        seen_clusters = {node.cluster for node in tm.nodes.values() if node.cluster and node.cluster != UNKNOWN}
        if len(options.clusters) == 1:
            default_cluster = next(iter(options.clusters))
        elif len(seen_clusters) == 1:
            default_cluster = next(iter(seen_clusters))
        else:
            default_cluster = UNKNOWN

        def in_scope(cluster: str, namespace: str) -> bool:
            in_namespaces = not options.namespaces or namespace in options.namespaces
            in_clusters = not options.clusters or not cluster or cluster in options.clusters
            return in_namespaces and in_clusters

        if options.graph_type != "service":
            for workload in ctx.mesh.workloads:
                if not in_scope(workload.cluster, workload.namespace):
                    continue
                cluster = workload.cluster or default_cluster
                prototype = resolver.workload_node(
                    cluster, workload.namespace, workload.name, workload.app, workload.version
                )
                node = tm.nodes.get(prototype.id)
                if node is None:
                    prototype.is_idle = True
                    node = tm.add_node(prototype)
                node.workloads.add(workload.name)
                if node.is_idle:
                    for service in workload.services:
                        node.add_dest_service(ServiceName(cluster, workload.namespace, service))
        if options.with_service_nodes:
            for service_info in ctx.mesh.services:
                if not in_scope(service_info.cluster, service_info.namespace):
                    continue
                cluster = service_info.cluster or default_cluster
                service_node = resolver.service_node(cluster, service_info.namespace, service_info.name)
                if service_node.id not in tm.nodes:
                    service_node.is_idle = True
                    tm.add_node(service_node)


_GATEWAY_NAME = re.compile(r"(ingress|egress)-?gateway")


class GatewayStep:
    """Flag Istio gateway nodes (``isGateway``) from ``mesh.gateways``, workload labels or names, and ambient waypoint
    proxies (``isWaypoint``), which are Gateway API gateways too but never ``isGateway`` (as in Kiali)."""

    name = "gateway"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Set ``is_waypoint`` or ``is_gateway`` on nodes backed by a waypoint or a gateway workload."""
        index = _workload_index(ctx.mesh.workloads)
        for node in tm.nodes.values():
            if node.node_type not in ("workload", "app"):
                continue
            for workload in sorted(node.workloads):
                found = _find_workload(index, node.cluster, node.namespace, workload)
                if is_waypoint_workload(found):
                    node.is_waypoint = True
                    break
                info = ctx.mesh.gateways.get((node.namespace, workload)) or self._detect(found, workload, node.app)
                if info is not None:
                    node.is_gateway = info
                    break

    @staticmethod
    def _detect(workload: WorkloadInfo | None, name: str, app: str) -> GatewayInfo | None:
        istio_label = workload.labels.get("istio", "") if workload else ""
        if istio_label in ("ingressgateway", "egressgateway"):
            return GatewayInfo("egress" if istio_label == "egressgateway" else "ingress")
        if workload is not None and "gateway.networking.k8s.io/gateway-name" in workload.labels:
            return GatewayInfo("ingress")
        for candidate in (name, app):
            match = _GATEWAY_NAME.search(candidate or "")
            if match:
                return GatewayInfo("egress" if match.group(1) == "egress" else "ingress")
        return None


class SidecarStep:
    """Flag workload/app nodes with a workload running without an Istio sidecar (``hasMissingSC``)."""

    name = "sidecarsCheck"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Set ``has_missing_sidecar`` from ``mesh.missing_sidecars``."""
        missing = ctx.mesh.missing_sidecars
        if not missing:
            return
        for node in tm.nodes.values():
            if node.node_type in ("workload", "app") and node.is_gateway is None and not node.is_waypoint:
                node.has_missing_sidecar = any((node.namespace, w) in missing for w in node.workloads)


def service_host_forms(name: str, namespace: str, cluster_domain: str) -> set[str]:
    """Return the host spellings that can name a service in a VirtualService ``hosts`` list."""
    if "." in name:
        return {name}
    return {name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.{cluster_domain}"}


class VirtualServiceStep:
    """Kiali's istio appender: ``hasVS`` (with the matching hostnames) and the routing flags of those
    VirtualServices, and ``hasCB`` from DestinationRules (``topology.graph.istio_flags``)."""

    name = "virtualService"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """``hasVS`` and routing flags on service nodes (on destination nodes when no service nodes are drawn);
        ``hasCB`` on service nodes and on app/workload nodes through the services they serve (by version)."""
        hosts = ctx.mesh.virtual_service_hosts
        routing = ctx.mesh.routing_flags
        breakers = ctx.mesh.circuit_breakers
        if not hosts and not breakers:
            return
        domain = ctx.options.cluster_domain
        for node in tm.nodes.values():
            flags: set[str] = set()
            if breakers:
                version = "" if node.node_type == "service" or not is_known(node.version) else node.version
                if node.node_type == "service" or version or node.node_type == "app":
                    for service in node.dest_services.values():
                        host = service.name if "." in service.name else f"{service.name}.{service.namespace}.{domain}"
                        if breaks_circuit(breakers.get(host, ()), version):
                            flags.add("hasCB")
                            break
            if hosts and (node.node_type == "service" or not ctx.options.with_service_nodes):
                matched: set[str] = set()
                for service in node.dest_services.values():
                    matched |= service_host_forms(service.name, service.namespace, domain) & hosts
                if matched:
                    node.has_vs = tuple(sorted(matched))
                    for host in matched:
                        flags |= routing.get(host, frozenset())
            if flags:
                node.config_flags = node.config_flags | flags


class RootStep:
    """Flag traffic generators (``isRoot``): nodes with outgoing edges and no incoming edge."""

    name = "root"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Set ``is_root`` on every node."""
        targets = {edge.target for edge in tm.edges.values()}
        sources = {edge.source for edge in tm.edges.values()}
        for node in tm.nodes.values():
            node.is_root = node.id in sources and node.id not in targets


class OutsideStep:
    """Flag nodes outside the requested namespaces or clusters (``isOutside``); never ``unknown`` ones."""

    name = "outsider"

    def apply(self, tm: TrafficMap, ctx: StepContext) -> None:
        """Set ``is_outside`` from ``options.namespaces`` and ``options.clusters``."""
        namespaces = ctx.options.namespaces
        clusters = ctx.options.clusters
        for node in tm.nodes.values():
            outside_namespace = bool(namespaces) and is_known(node.namespace) and node.namespace not in namespaces
            outside_cluster = bool(clusters) and is_known(node.cluster) and node.cluster not in clusters
            node.is_outside = outside_namespace or outside_cluster
