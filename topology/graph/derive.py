"""Answers derived from stored graphs: focused on one node (and, where none is stored, without injected service
nodes); the rate options are in :mod:`topology.graph.rate_options`.

Snapshots store each graph the way Kiali draws it by default (``injectServiceNodes=true``, every protocol's default
rate), and the app, versioned app and workload graphs also without service nodes (``injectServiceNodes=false``,
built from the same rows: ``topology.graph.snapshot_build.STORED_GRAPHS``) where collapsing the first would not give
them exactly. These pure functions turn such wire-format graphs (``topology.graph.wire``) into the other answers
Kiali's graph API gives, without Prometheus:

- :func:`focus_graph` (Kiali's node graphs): one workload, app, versioned app or service with its callers and
  callees; through an injected service node, each caller's (or callee's) own traffic, read from the graph without
  service nodes, whose caller → workload edges are exactly what Kiali's node graph queries.
- :func:`collapse_service_nodes` (``injectServiceNodes=false``, and the pairs of node graphs, where no graph without
  service nodes is stored): an injected hop ``A → S → B`` becomes ``A → B``.

A stored edge through a service sums its traffic over the service's other side, so where no caller → workload edge
says what one caller sent through a service (old snapshots; a workload behind several services, or also reached
without one), these functions split a service's edges in proportion to each caller's share. That is exact whenever
the service has a single caller or a single backend (per protocol), which the rules below say case by case;
docs/graph.md lists them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from topology.graph.istio_flags import ROUTING_FLAGS
from topology.graph.wire import format_percent, format_rate

#: Node rate keys per protocol, recomputed from the edges of a focused graph.
_IN_KEYS: Final = {
    "http": (("http", "httpIn"), ("httpNoResponse", "httpInNoResponse"), ("http3xx", "httpIn3xx"),
             ("http4xx", "httpIn4xx"), ("http5xx", "httpIn5xx")),
    "grpc": (("grpc", "grpcIn"), ("grpcNoResponse", "grpcInNoResponse"), ("grpcErr", "grpcInErr")),
    "tcp": (("tcp", "tcpIn"),),
}  # fmt: skip
_OUT_KEYS: Final = {"http": "httpOut", "grpc": "grpcOut", "tcp": "tcpOut"}
#: Edge rate keys that are amounts (scaled with the traffic); the percentages are not.
_AMOUNT_KEYS: Final = frozenset(
    {"http", "httpNoResponse", "http3xx", "http4xx", "http5xx", "grpc", "grpcNoResponse", "grpcErr", "tcp"}
    | {"tcpSent", "tcpReceived", "grpcSent", "grpcReceived", "httpRequestBytes", "httpResponseBytes"}
)
#: A residual share of a caller's requests below this is rounding in the stored strings, not traffic.
RESIDUAL_SHARE: Final = 0.005

NodeKind = Literal["workload", "app", "service"]
NODE_KINDS: Final[tuple[str, ...]] = ("workload", "app", "service")


@dataclass(frozen=True)
class NodeRef:
    """The node of a node graph: Kiali's ``/namespaces/{ns}/{workloads|applications|services}/{name}/graph``.

    ``version`` only for an app (``/applications/{app}/versions/{version}/graph``).
    """

    kind: NodeKind
    namespace: str
    name: str
    version: str = ""
    cluster: str = ""

    def matches(self, data: Mapping[str, Any]) -> bool:
        """True for the graph nodes that are this node (every version of an app unless a version is named)."""
        if data.get("isBox") or data.get("namespace") != self.namespace:
            return False
        if self.cluster and data.get("cluster") != self.cluster:
            return False
        node_type = data.get("nodeType")
        if self.kind == "service":
            return node_type == "service" and data.get("service") == self.name
        if self.kind == "workload":
            return node_type in {"workload", "app"} and data.get("workload") == self.name
        if node_type not in {"app", "workload"} or data.get("app") != self.name:
            return False
        return not self.version or data.get("version") == self.version


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def edge_rate(data: Mapping[str, Any]) -> float:
    """The edge's rate of its protocol (requests/s, or bytes/s for tcp); 0 without traffic."""
    traffic = data.get("traffic") or {}
    return _num((traffic.get("rates") or {}).get(traffic.get("protocol", "")))


def _protocol(data: Mapping[str, Any]) -> str:
    return str((data.get("traffic") or {}).get("protocol", ""))


def _edge_id(source: str, target: str, protocol: str) -> str:
    """Kiali's edge id scheme, as the wire writes it (hashed ends and protocol)."""
    return hashlib.sha256(f"{source}.{target}.{protocol}".encode()).hexdigest()[:32]


def scale_edge(data: Mapping[str, Any], factor: float, source: str, target: str) -> dict[str, Any]:
    """A copy of an edge's data between other ends with its amounts multiplied by ``factor``.

    Percentages (errors, responses, mTLS) and response times describe the traffic's mix and stay; the request share
    (``…PercentReq``) is recomputed by :func:`_recompute_request_shares`.
    """
    out = {key: value for key, value in data.items() if key not in {"id", "source", "target"}}
    out = {"id": _edge_id(source, target, _protocol(data)), "source": source, "target": target, **out}
    traffic = data.get("traffic")
    if traffic and traffic.get("rates") and factor != 1.0:
        rates = {
            key: format_rate(_num(value) * factor) if key in _AMOUNT_KEYS else value
            for key, value in traffic["rates"].items()
        }
        out["traffic"] = {**traffic, "rates": rates}
    if "throughput" in data and factor != 1.0:
        out["throughput"] = f"{_num(data['throughput']) * factor:.0f}"
    return out


def _merge_into(existing: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Add ``extra``'s amounts to ``existing`` (two hops collapsing onto one edge); the mix of the larger stays."""
    rates = existing.get("traffic", {}).get("rates")
    extra_rates = (extra.get("traffic") or {}).get("rates") or {}
    if rates is None:
        if extra_rates:
            existing["traffic"] = dict(extra["traffic"])
        return
    for key, value in extra_rates.items():
        if key in _AMOUNT_KEYS:
            rates[key] = format_rate(_num(rates.get(key)) + _num(value))


def _recompute_request_shares(nodes: Mapping[str, dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """``…PercentReq`` of every http/grpc edge: its rate over its source's outgoing rate of the protocol."""
    out_rate: dict[tuple[str, str], float] = defaultdict(float)
    for data in edges:
        out_rate[(data["source"], _protocol(data))] += edge_rate(data)
    for data in edges:
        protocol = _protocol(data)
        rates = (data.get("traffic") or {}).get("rates")
        if protocol not in {"http", "grpc"} or not rates:
            continue
        total = out_rate[(data["source"], protocol)]
        if total > 0:
            rates[protocol + "PercentReq"] = format_percent(edge_rate(data) / total * 100)


def _recompute_node_traffic(nodes: Mapping[str, dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Node ``traffic`` as the sums of the edges drawn (Kiali's node rates of a filtered traffic map)."""
    sums: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for data in edges:
        protocol = _protocol(data)
        rates = (data.get("traffic") or {}).get("rates") or {}
        if protocol not in _IN_KEYS or not rates:
            continue
        for edge_key, node_key in _IN_KEYS[protocol]:
            sums[data["target"]][protocol][node_key] += _num(rates.get(edge_key))
        sums[data["source"]][protocol][_OUT_KEYS[protocol]] += _num(rates.get(protocol))
    for node_id, data in nodes.items():
        if data.get("isBox"):
            continue
        traffic = []
        for protocol in ("grpc", "http", "tcp"):
            numbers = sums.get(node_id, {}).get(protocol, {})
            keys = [key for _, key in _IN_KEYS[protocol]] + [_OUT_KEYS[protocol]]
            rates = {key: format_rate(numbers[key]) for key in keys if numbers.get(key, 0.0) > 0}
            if rates:
                traffic.append({"protocol": protocol, "rates": rates})
        if traffic:
            data["traffic"] = traffic
        else:
            data.pop("traffic", None)


def _with_boxes(by_id: Mapping[str, Mapping[str, Any]], kept: Iterable[str]) -> set[str]:
    """``kept`` and every box enclosing one of them."""
    result = set(kept)
    for node_id in list(result):
        parent = by_id[node_id].get("parent")
        while parent and parent in by_id and parent not in result:
            result.add(parent)
            parent = by_id[parent].get("parent")
    return result


def _assemble(
    graph: Mapping[str, Any], by_id: Mapping[str, dict[str, Any]], keep: set[str], edges: list[dict[str, Any]]
) -> dict[str, Any]:
    """The graph with the nodes ``keep`` (plus their boxes, in stored order) and ``edges`` (sorted as stored)."""
    keep = _with_boxes(by_id, keep)
    result = {key: value for key, value in graph.items() if key != "elements"}
    result["elements"] = {
        "nodes": [{"data": data} for node_id, data in by_id.items() if node_id in keep],
        "edges": [{"data": data} for data in sorted(edges, key=lambda d: (d["source"], d["target"], _protocol(d)))],
    }
    return result


def _copy_elements(graph: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Nodes by id and edges, as copies one level deep (their ``traffic`` copied where a step changes it)."""
    elements = graph.get("elements") or {}
    by_id = {n["data"]["id"]: dict(n["data"]) for n in elements.get("nodes") or []}
    edges = []
    for edge in elements.get("edges") or []:
        data = dict(edge["data"])
        if isinstance(data.get("traffic"), dict):
            data["traffic"] = dict(data["traffic"])
            if isinstance(data["traffic"].get("rates"), dict):
                data["traffic"]["rates"] = dict(data["traffic"]["rates"])
        edges.append(data)
    return by_id, edges


# --- injectServiceNodes=false ------------------------------------------------------------------------------------

_ROUTING_FLAGS: Final = ("hasVS", *ROUTING_FLAGS)


def collapse_service_nodes(graph: Mapping[str, Any]) -> dict[str, Any]:
    """The graph without injected service nodes (Kiali's ``injectServiceNodes=false``) where a snapshot stores none
    (``topology.reading``): skipped because this gives it exactly (``topology.graph.exactness``), or stored before
    those graphs were, or older than ``MESH_UI_EXACT_GRAPHS_MAX_AGE``.

    A service node with outgoing edges is an injected hop: each caller ``A`` of service ``S`` (protocol ``p``) gets
    edges ``A → B`` to the workloads behind it instead of ``A → S``:

    - one backend ``B`` that received all ``S`` did: ``A → S`` itself, re-targeted (exact);
    - one caller ``A``: each ``S → B`` itself, re-sourced (exact: all of it came from ``A``);
    - otherwise ``S → B`` scaled by ``A``'s share of ``S``'s incoming rate (each caller's requests spread over the
      backends as the service's do).

    What a caller sent that reached no backend (``404 NR``, ``503 UH``: Kiali draws it to the service node, which
    then stays as a terminal node) stays on ``A → S`` when it is more than :data:`RESIDUAL_SHARE` of ``A → S``.
    Edges that collapse onto an existing ``A → B`` add to it. ``B`` gets ``S`` in its ``destServices`` and ``S``'s
    VirtualService flags (``hasVS``…, as Kiali's istio appender sets them on destination nodes without service nodes),
    as does every app or workload node whose ``destServices`` name ``S``.
    Service nodes left without edges go (idle ones too: Kiali adds idle services only with service nodes), as do
    boxes left empty. The service graph is returned as it is.
    """
    if graph.get("graphType") == "service":
        return dict(graph)
    by_id, edges = _copy_elements(graph)
    outgoing: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    incoming: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    protocols_of: dict[str, set[str]] = defaultdict(set)
    senders: set[str] = set()
    for data in edges:
        protocol = _protocol(data)
        outgoing[(data["source"], protocol)].append(data)
        incoming[(data["target"], protocol)].append(data)
        protocols_of[data["source"]].add(protocol)
        protocols_of[data["target"]].add(protocol)
        senders.add(data["source"])
    hops = {node_id for node_id in senders if by_id[node_id].get("nodeType") == "service"}
    kept_edges = [d for d in edges if d["source"] not in hops and d["target"] not in hops]
    merged: dict[tuple[str, str, str], dict[str, Any]] = {
        (d["source"], d["target"], _protocol(d)): d for d in kept_edges
    }

    def add(data: dict[str, Any]) -> None:
        key = (data["source"], data["target"], _protocol(data))
        if key in merged:
            _merge_into(merged[key], data)
        else:
            merged[key] = data

    for service_id in sorted(hops):
        service = by_id[service_id]
        for protocol in sorted(protocols_of[service_id]):
            callers = incoming.get((service_id, protocol), [])
            backends = outgoing.get((service_id, protocol), [])
            for backend in backends:
                _adopt_service(by_id[backend["target"]], service)
            if not backends or not callers:
                for hop in (*callers, *backends):
                    add(hop)  # a terminal service (or one nobody calls) for this protocol: the edges stay
                continue
            total_in = sum(edge_rate(c) for c in callers)
            total_out = sum(edge_rate(b) for b in backends)
            residual = 1.0 - total_out / total_in if total_in > 0 else 0.0
            for caller in callers:
                if len(backends) == 1 and residual <= RESIDUAL_SHARE:
                    add(scale_edge(caller, 1.0, caller["source"], backends[0]["target"]))
                    continue
                share = edge_rate(caller) / total_in if total_in > 0 else 1.0 / len(callers)
                factor = 1.0 if len(callers) == 1 else share
                for backend in backends:
                    add(scale_edge(backend, factor, caller["source"], backend["target"]))
                if residual > RESIDUAL_SHARE:
                    add(scale_edge(caller, residual, caller["source"], service_id))
    _adopt_routing_flags(by_id)
    result_edges = list(merged.values())
    _recompute_request_shares(by_id, result_edges)
    linked = {d["source"] for d in result_edges} | {d["target"] for d in result_edges}
    keep = {
        node_id
        for node_id, data in by_id.items()
        if not data.get("isBox")
        and (data.get("nodeType") != "service" or node_id in linked or _terminal_without_traffic(data, node_id, hops))
    }
    return _assemble(graph, by_id, keep, result_edges)


def _terminal_without_traffic(data: Mapping[str, Any], node_id: str, hops: set[str]) -> bool:
    """A service node that stays without edges: a declared ServiceEntry that is no injected hop."""
    return node_id not in hops and bool(data.get("isServiceEntry")) and not data.get("isIdle")


def _adopt_service(target: dict[str, Any], service: Mapping[str, Any]) -> None:
    """Record ``service`` in ``target``'s ``destServices``."""
    entry = {
        "cluster": service.get("cluster", ""),
        "namespace": service.get("namespace", ""),
        "name": service["service"],
    }
    services = list(target.get("destServices") or [])
    if entry not in services:
        services.append(entry)
        services.sort(key=lambda s: (s["cluster"], s["namespace"], s["name"]))
        target["destServices"] = services


def _adopt_routing_flags(by_id: Mapping[str, dict[str, Any]]) -> None:
    """Give every app and workload node the VirtualService flags (``hasVS`` and the routing flags) of the service
    nodes its ``destServices`` name, as Kiali's istio appender sets them on destination nodes without service nodes
    (idle ones too). ``hasCB`` is not the service's: it is set on app and workload nodes either way, by version."""
    services = {
        (data.get("cluster", ""), data.get("namespace", ""), data.get("service")): data
        for data in by_id.values()
        if data.get("nodeType") == "service" and not data.get("isBox")
    }
    for target in by_id.values():
        if target.get("isBox") or target.get("nodeType") == "service":
            continue
        for entry in target.get("destServices") or []:
            service = services.get((entry.get("cluster", ""), entry.get("namespace", ""), entry.get("name")))
            if service is None:
                continue
            for flag in _ROUTING_FLAGS:
                value = service.get(flag)
                if not value:
                    continue
                if flag == "hasVS":
                    hosts = set((target.get("hasVS") or {}).get("hostnames") or []) | set(value.get("hostnames") or [])
                    target["hasVS"] = {"hostnames": sorted(hosts)}
                else:
                    target[flag] = True


# --- node graphs -------------------------------------------------------------------------------------------------


def focus_graph(graph: Mapping[str, Any], node: NodeRef, pairs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Kiali's node graph of ``node`` from a whole graph of the same type: the node, its callers and its callees.

    The focus is every node ``node`` matches (all versions of an app unless one is named). Kept: every edge into or
    out of the focus, and the hops through the service nodes next to it, each cut down to the focus's traffic as
    Kiali's node graph reads only the rows to or from the focus:

    - a caller's edge into a service in front of the focus carries what that caller sent the focus through it;
    - a service's edge to a workload behind it, when the focus calls the service, carries what the focus sent it.

    ``pairs`` is the same graph without service nodes (as stored): its caller → workload edge is that traffic exactly
    (rates, response mix, response times) wherever the pair's traffic went through that one service only. Otherwise
    (no ``pairs``: a snapshot stored before those graphs were; a workload behind several services, or also called
    without one, for the protocol) the hop's edge is scaled to the focus's share of the service's traffic. A service's
    node graph is every edge into and out of the service (exact). Node rates are then the sums of the edges drawn, as
    in Kiali's node graph; the focus nodes are marked ``isFocus`` (**ext**). A node the graph does not hold gives an
    empty graph.
    """
    by_id, edges = _copy_elements(graph)
    focus = {node_id for node_id, data in by_id.items() if node.matches(data)}
    kept: list[dict[str, Any]] = []
    through_in: dict[tuple[str, str], float] = defaultdict(float)  # (service, protocol) -> rate to the focus
    through_out: dict[tuple[str, str], float] = defaultdict(float)  # (service, protocol) -> rate from the focus
    behind: dict[tuple[str, str], list[str]] = defaultdict(list)  # (service, protocol) -> focus nodes it sends to
    callers: dict[tuple[str, str], list[str]] = defaultdict(list)  # (service, protocol) -> focus nodes calling it
    for data in edges:
        source, target = data["source"], data["target"]
        if source in focus or target in focus:
            kept.append(data)
            if target in focus and source not in focus and by_id[source].get("nodeType") == "service":
                through_in[(source, _protocol(data))] += edge_rate(data)
                behind[(source, _protocol(data))].append(target)
            if source in focus and target not in focus and by_id[target].get("nodeType") == "service":
                through_out[(target, _protocol(data))] += edge_rate(data)
                callers[(target, _protocol(data))].append(source)
    if node.kind != "service" and (through_in or through_out):
        exact = _PairTraffic(by_id, edges, pairs) if pairs is not None else None
        service_in: dict[tuple[str, str], float] = defaultdict(float)
        service_out: dict[tuple[str, str], float] = defaultdict(float)
        for data in edges:
            service_in[(data["target"], _protocol(data))] += edge_rate(data)
            service_out[(data["source"], _protocol(data))] += edge_rate(data)
        for data in edges:
            source, target, protocol = data["source"], data["target"], _protocol(data)
            if source in focus or target in focus:
                continue
            if (target, protocol) in through_in:  # caller -> service in front of the focus
                workloads = behind[(target, protocol)]
                if exact is not None and exact.through_only(target, [source], workloads, protocol):
                    kept.extend(exact.summed(source, workloads, protocol, source, target))
                    continue
                total = service_out[(target, protocol)]
                factor = through_in[(target, protocol)] / total if total > 0 else 1.0
                kept.append(scale_edge(data, min(factor, 1.0), source, target))
            elif (source, protocol) in through_out:  # service the focus calls -> workload behind it
                focus_callers = callers[(source, protocol)]
                if exact is not None and exact.through_only(source, focus_callers, [target], protocol):
                    kept.extend(exact.summed_from(focus_callers, target, protocol, source, target))
                    continue
                total = service_in[(source, protocol)]
                factor = through_out[(source, protocol)] / total if total > 0 else 1.0
                kept.append(scale_edge(data, min(factor, 1.0), source, target))
    linked = focus | {d["source"] for d in kept} | {d["target"] for d in kept}
    nodes = {node_id: data for node_id, data in by_id.items() if node_id in linked}
    _recompute_node_traffic(nodes, kept)
    _recompute_request_shares(nodes, kept)
    for node_id in focus:
        by_id[node_id]["isFocus"] = True
    return _assemble(graph, by_id, linked, kept)


class _PairTraffic:
    """The caller → workload edges of a graph without service nodes, and where they say what went through a service.

    Such an edge sums the pair's traffic over every service between them (and what went without one). It is the
    traffic through service ``S`` when ``S`` is the only service in front of the workload for the protocol and the
    graph with service nodes has no direct edge between the pair.
    """

    def __init__(
        self, by_id: Mapping[str, Mapping[str, Any]], edges: Iterable[Mapping[str, Any]], pairs: Mapping[str, Any]
    ) -> None:
        self._services_in_front: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._direct: set[tuple[str, str, str]] = set()
        for data in edges:
            key = (data["source"], data["target"], _protocol(data))
            if by_id[data["source"]].get("nodeType") == "service":
                self._services_in_front[(data["target"], key[2])].add(data["source"])
            elif by_id[data["target"]].get("nodeType") != "service":
                self._direct.add(key)
        # Read, not copied: :meth:`_sum` copies what it changes.
        pair_edges = ((pairs.get("elements") or {}).get("edges")) or []
        self._edges = {(e["data"]["source"], e["data"]["target"], _protocol(e["data"])): e["data"] for e in pair_edges}

    def through_only(self, service: str, callers: Iterable[str], workloads: Iterable[str], protocol: str) -> bool:
        """True when every pair of ``callers`` and ``workloads`` sent all its traffic through ``service``."""
        workloads = list(workloads)
        if any(self._services_in_front.get((w, protocol)) != {service} for w in workloads):
            return False
        return not any((c, w, protocol) in self._direct for c in callers for w in workloads)

    def summed(
        self, caller: str, workloads: Iterable[str], protocol: str, source: str, target: str
    ) -> list[dict[str, Any]]:
        """The pair edges from ``caller`` to ``workloads`` as one edge ``source → target`` (none without traffic)."""
        return self._sum([(caller, w, protocol) for w in workloads], source, target)

    def summed_from(
        self, callers: Iterable[str], workload: str, protocol: str, source: str, target: str
    ) -> list[dict[str, Any]]:
        """The pair edges from ``callers`` to ``workload`` as one edge ``source → target`` (none without traffic)."""
        return self._sum([(c, workload, protocol) for c in callers], source, target)

    def _sum(self, keys: Iterable[tuple[str, str, str]], source: str, target: str) -> list[dict[str, Any]]:
        found = [self._edges[key] for key in dict.fromkeys(keys) if key in self._edges]
        if not found:
            return []
        found.sort(key=edge_rate, reverse=True)  # the mix (percentages, response times) of the largest stays
        total = scale_edge(found[0], 1.0, source, target)
        if isinstance(total.get("traffic"), dict):  # merged into below: not the stored pair's own rates
            total["traffic"] = {**total["traffic"], "rates": dict(total["traffic"].get("rates") or {})}
        for extra in found[1:]:
            _merge_into(total, extra)
        return [total]
