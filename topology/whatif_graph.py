"""The graph the what-if preview starts from (``topology.whatif``): a stored versioned-app graph's nodes and edges
as numbers, indexed by the services and workloads they stand for; the match shares today's traffic measures
(``measure_route_shares``); and what older graphs tell of a workload that received nothing in the current window
(its calls per request and its error ratio). Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from topology.whatif_model import EPSILON, EdgeTraffic, Estimate
from topology.whatif_routing import RoutingConfig, ServiceKey, WorkloadKey, http_routes, match_key

REQUEST_PROTOCOLS = ("http", "grpc")


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class GraphEdge:
    """An edge of a graph with its traffic and response times (ms, by statistic)."""

    edge_id: str
    source: str
    target: str
    protocol: str
    traffic: EdgeTraffic
    response_times: Mapping[str, float] = field(default_factory=dict)
    #: Not in the graph: a call learned from an older one, ``traffic`` per request into ``source``.
    learned: bool = False


def read_edge(data: Mapping[str, Any]) -> GraphEdge:
    """An edge's wire data (``docs/graph.md``) as numbers."""
    traffic = data.get("traffic") or {}
    protocol = str(traffic.get("protocol", "http"))
    rates = traffic.get("rates") or {}
    if protocol == "grpc":
        rate = _number(rates.get("grpc"))
        errors = _number(rates.get("grpcErr")) + _number(rates.get("grpcNoResponse"))
    elif protocol == "tcp":
        rate, errors = _number(rates.get("tcp")), 0.0
    else:
        rate = _number(rates.get("http"))
        errors = sum(_number(rates.get(k)) for k in ("http4xx", "http5xx", "httpNoResponse"))
    times = {k: _number(v) for k, v in (data.get("responseTimes") or {}).items()}
    if "responseTime" in data and "p95" not in times:
        times["p95"] = _number(data["responseTime"])
    return GraphEdge(
        str(data.get("id", "")),
        str(data["source"]),
        str(data["target"]),
        protocol,
        EdgeTraffic(Estimate.exact(rate), Estimate.exact(min(errors, rate))),
        times,
    )


class GraphIndex:
    """The current graph's nodes and edges, by id and by the service or workload they stand for."""

    def __init__(self, graph: Mapping[str, Any]) -> None:
        elements = graph.get("elements") or {}
        self.nodes: dict[str, Mapping[str, Any]] = {}
        self.service_node: dict[ServiceKey, str] = {}
        self.workload_node: dict[WorkloadKey, str] = {}
        for wrapper in elements.get("nodes") or []:
            data = wrapper.get("data") or {}
            node_id, kind = str(data.get("id", "")), data.get("nodeType")
            if kind == "box" or not node_id:
                continue
            self.nodes[node_id] = data
            if kind == "service" and data.get("service"):
                self.service_node.setdefault((str(data.get("namespace", "")), str(data["service"])), node_id)
            elif kind in ("app", "workload") and data.get("workload"):
                self.workload_node.setdefault((str(data.get("namespace", "")), str(data["workload"])), node_id)
        self.edges = [read_edge(w["data"]) for w in elements.get("edges") or [] if w.get("data", {}).get("source")]
        self.edges = [e for e in self.edges if e.source in self.nodes and e.target in self.nodes]
        self.requests = [e for e in self.edges if e.protocol in REQUEST_PROTOCOLS]
        self.incoming: dict[str, list[GraphEdge]] = {}
        self.outgoing: dict[str, list[GraphEdge]] = {}
        for edge in self.requests:
            self.incoming.setdefault(edge.target, []).append(edge)
            self.outgoing.setdefault(edge.source, []).append(edge)
        self._inbound: dict[str, EdgeTraffic] = {}
        self.cluster_of_namespace: dict[str, str] = {}
        for data in self.nodes.values():
            if data.get("namespace") and data.get("cluster"):
                self.cluster_of_namespace.setdefault(str(data["namespace"]), str(data["cluster"]))

    def is_service(self, node_id: str) -> bool:
        return self.nodes.get(node_id, {}).get("nodeType") == "service"

    def service_of(self, node_id: str) -> ServiceKey | None:
        data = self.nodes.get(node_id, {})
        if data.get("nodeType") != "service":
            return None
        return (str(data.get("namespace", "")), str(data.get("service", "")))

    def inbound(self, node_id: str) -> EdgeTraffic:
        """Today's requests into a node (the sum of its incoming request edges)."""
        found = self._inbound.get(node_id)
        if found is None:
            found = EdgeTraffic()
            for edge in self.incoming.get(node_id, []):
                found = found + edge.traffic
            self._inbound[node_id] = found
        return found

    def label(self, node_id: str, extra: Mapping[str, Mapping[str, Any]]) -> str:
        data = self.nodes.get(node_id) or extra.get(node_id) or {}
        if data.get("nodeType") == "service":
            return f"{data.get('service')} (service)"
        name = data.get("workload") or data.get("app") or node_id
        return str(name)


@dataclass(frozen=True)
class CallProfile:
    """What one request into a workload gives, learned from a graph where it had traffic: its calls to each
    service (``(service, protocol, calls per request, failing calls per request)``) and its error ratio."""

    calls: tuple[tuple[ServiceKey, str, float, float], ...]
    error_ratio: float
    learned_from: str


def learn_call_profiles(history: Sequence[Mapping[str, Any]]) -> dict[WorkloadKey, CallProfile]:
    """The call profile of every workload that had traffic in one of the ``history`` graphs (newest first: the
    newest graph where a workload had traffic is the one used)."""
    profiles: dict[WorkloadKey, CallProfile] = {}
    for graph in history:
        index = GraphIndex(graph)
        snapshot = graph.get("snapshot") or {}
        when = _describe_snapshot(snapshot) if snapshot else "an older graph"
        for key, node_id in index.workload_node.items():
            inbound = index.inbound(node_id)
            if key in profiles or (inbound.rate.value or 0.0) <= EPSILON:
                continue
            total = inbound.rate.value or 0.0
            calls = []
            for edge in index.outgoing.get(node_id, []):
                service = index.service_of(edge.target)
                if service is not None:
                    rate, errors = edge.traffic.rate.value or 0.0, edge.traffic.errors.value or 0.0
                    calls.append((service, edge.protocol, rate / total, errors / total))
            errors = inbound.errors.value or 0.0
            profiles[key] = CallProfile(tuple(calls), errors / total, when)
    return profiles


def _describe_snapshot(snapshot: Mapping[str, Any]) -> str:
    """``snapshot #14 (10:13:42 UTC)`` from a graph's ``snapshot`` member."""
    try:
        taken = datetime.fromisoformat(str(snapshot.get("takenAt"))).astimezone(UTC).strftime("%H:%M:%S UTC")
    except ValueError:
        taken = "?"
    return f"snapshot #{snapshot.get('id')} ({taken})"


def measure_route_shares(
    graph: GraphIndex, today: RoutingConfig, proposed: RoutingConfig, service: ServiceKey
) -> dict[int, float]:
    """The shares of the proposed routes of ``service`` that today's traffic measures, by route index.

    A proposed route's share is measured when today's VirtualService has the same matches up to it and sends that
    route to workloads no other route of today reaches: its share is what those workloads receive of all the
    requests for ``service`` (the same for every caller).
    """
    today_vs, _ = today.virtual_service_for(service)
    proposed_vs, _ = proposed.virtual_service_for(service)
    today_routes, proposed_routes = http_routes(today_vs), http_routes(proposed_vs)
    node_id = graph.service_node.get(service)
    if today_vs is None or node_id is None:
        return {}
    total = graph.inbound(node_id).rate.value or 0.0
    if total <= EPSILON:
        return {}
    reached = {e.target: e.traffic.rate.value or 0.0 for e in graph.outgoing.get(node_id, [])}
    workloads_of = [_route_workloads(today, route, today_vs.namespace, service) for route in today_routes]
    shares: dict[int, float] = {}
    for index, route in enumerate(proposed_routes):
        if index >= len(today_routes) or match_key(route) != match_key(today_routes[index]):
            break
        mine = workloads_of[index]
        others = set().union(*(w for i, w in enumerate(workloads_of) if i != index and w is not None))
        if not mine or mine & others:
            continue
        nodes = {graph.workload_node.get(w) for w in mine}
        shares[index] = sum(reached.get(n, 0.0) for n in nodes if n) / total
    return shares


def _route_workloads(
    config: RoutingConfig, route: Mapping[str, Any], namespace: str, service: ServiceKey
) -> set[WorkloadKey] | None:
    """The workloads a route sends to, when all of its destinations are ``service`` (else None)."""
    found: set[WorkloadKey] = set()
    for entry in route.get("route") or []:
        destination = entry.get("destination") if isinstance(entry, Mapping) else None
        if not isinstance(destination, Mapping) or config.resolve_host(destination.get("host"), namespace) != service:
            return None
        subset = destination.get("subset")
        labels = config.subset_labels(service, subset) if isinstance(subset, str) else None
        found.update(w for w, _ in config.endpoints(service, labels))
    return found
