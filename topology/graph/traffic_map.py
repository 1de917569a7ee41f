"""Build the traffic map from Istio samples: reporter de-duplication, node identity and edge accumulation.

Every sample row is mapped to a *path*: one hop (caller -> destination) or, when service nodes are injected,
two hops (caller -> service -> workload).  Paths are cached by the identity labels of the row, so a mesh
with thousands of edges and many response codes per edge costs one dictionary lookup per row.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

from topology.graph.model import (
    UNKNOWN,
    Edge,
    GraphOptions,
    Node,
    ResponseDetail,
    ServiceName,
    TrafficMap,
    build_node_id,
    is_known,
)
from topology.graph.samples import IstioLabels, RequestSample, TcpSample

IDENTITY_LABELS: tuple[str, ...] = (
    "source_cluster",
    "source_workload_namespace",
    "source_workload",
    "source_app",
    "source_version",
    "destination_cluster",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_workload_namespace",
    "destination_workload",
    "destination_app",
    "destination_version",
)


class _Labelled(Protocol):
    @property
    def labels(self) -> IstioLabels: ...


SampleT = TypeVar("SampleT", bound=_Labelled)


def is_counted_row(labels: IstioLabels) -> bool:
    """Return True when this row is the one reporter whose numbers the graph counts.

    A request to a destination inside the mesh (``destination_workload`` known) is counted from the
    destination proxy's report; a request to anything else (service entries, external hosts, services
    without a sidecar, requests that never reached a workload) from the source proxy's report.  Each
    request is thus counted exactly once.
    """
    destination_workload = labels.get("destination_workload")
    if destination_workload and destination_workload != UNKNOWN:
        return labels.get("reporter") == "destination"
    return labels.get("reporter") == "source"


def request_protocol(labels: IstioLabels) -> str:
    """Return the edge protocol of a request row (``http`` unless Istio reports ``grpc``)."""
    return "grpc" if labels.get("request_protocol") == "grpc" else "http"


def dedupe_by_reporter(samples: Iterable[SampleT]) -> list[SampleT]:
    """Keep only the rows counted by :func:`is_counted_row` (reporter de-duplication)."""
    return [sample for sample in samples if is_counted_row(sample.labels)]


@dataclass(frozen=True, slots=True)
class Hop:
    """One edge of a sample's path, with fresh node prototypes for both ends (inserted on first use)."""

    source: Node
    target: Node


def _get(labels: IstioLabels, name: str) -> str:
    return labels.get(name) or UNKNOWN  # type: ignore[return-value]


class PathResolver:
    """Map a sample's labels to its path of hops for one graph type (cached by identity labels).

    Nodes are created once per id and shared by every hop that touches them, so the traffic map built
    with a resolver holds the resolver's node objects: use one resolver per traffic map.
    """

    def __init__(self, options: GraphOptions) -> None:
        """Create a resolver for ``options`` (graph type and service-node injection)."""
        self.options = options
        self._cache: dict[tuple[str, ...], tuple[Hop, ...]] = {}
        self._nodes: dict[str, Node] = {}
        #: ``(cluster, namespace, workload, app, version) -> node``: the node :meth:`workload_node` returns.
        self._workload_nodes: dict[tuple[str, str, str, str, str], Node] = {}
        self._identity = operator.itemgetter(*IDENTITY_LABELS)

    def resolve(self, labels: IstioLabels) -> tuple[Hop, ...]:
        """Return the hops for a sample row (empty when it carries no usable identity)."""
        try:
            key: tuple[str, ...] = self._identity(labels)
        except KeyError:
            get = labels.get
            key = tuple([get(name) or UNKNOWN for name in IDENTITY_LABELS])  # type: ignore[misc]
        hops = self._cache.get(key)
        if hops is None:
            hops = self._compute(labels)
            self._cache[key] = hops
        return hops

    def workload_node(self, cluster: str, namespace: str, workload: str, app: str, version: str) -> Node:
        """Return the node standing for a workload in this graph type (app, versioned app or workload)."""
        key = (cluster, namespace, workload, app, version)
        node = self._workload_nodes.get(key)
        if node is None:
            node = self._workload_nodes[key] = self._new_workload_node(cluster, namespace, workload, app, version)
        node.workloads.add(workload)
        return node

    def _new_workload_node(self, cluster: str, namespace: str, workload: str, app: str, version: str) -> Node:
        graph_type = self.options.graph_type
        if graph_type != "workload" and is_known(app):
            versioned = graph_type in ("versionedApp", "service") and is_known(version)
            node_id = build_node_id("app", cluster, namespace, app, version, versioned=versioned)
        else:
            node_id = build_node_id("workload", cluster, namespace, workload)
        node = self._nodes.get(node_id)
        if node is None:
            if node_id.startswith("wl|"):
                node = Node(
                    id=node_id,
                    node_type="workload",
                    cluster=cluster,
                    namespace=namespace,
                    workload=workload,
                    app=app if is_known(app) else "",
                    version=version if is_known(version) else "",
                )
            else:
                node = Node(
                    id=node_id,
                    node_type="app",
                    cluster=cluster,
                    namespace=namespace,
                    workload=workload if graph_type != "app" else "",
                    app=app,
                    version=version if node_id.startswith("vapp|") else "",
                )
            self._nodes[node_id] = node
        return node

    def service_node(self, cluster: str, namespace: str, name: str) -> Node:
        """Return the service node for ``name`` in ``namespace``."""
        node_id = build_node_id("service", cluster, namespace, name)
        node = self._nodes.get(node_id)
        if node is None:
            node = Node(id=node_id, node_type="service", cluster=cluster, namespace=namespace, service=name)
            node.add_dest_service(ServiceName(cluster, namespace, name))
            self._nodes[node_id] = node
        return node

    def unknown_node(self) -> Node:
        """Return the single ``unknown`` node (callers, or destinations, Istio could not identify)."""
        node = self._nodes.get(UNKNOWN)
        if node is None:
            node = self._nodes[UNKNOWN] = Node(id=UNKNOWN, node_type="unknown", cluster=UNKNOWN, namespace=UNKNOWN)
        return node

    def _compute(self, labels: IstioLabels) -> tuple[Hop, ...]:
        get = cast("Callable[[str], str | None]", labels.get)
        source_workload = get("source_workload") or UNKNOWN
        if source_workload == UNKNOWN:
            source = self.unknown_node()
        else:
            source = self.workload_node(
                get("source_cluster") or UNKNOWN,
                get("source_workload_namespace") or UNKNOWN,
                source_workload,
                get("source_app") or UNKNOWN,
                get("source_version") or UNKNOWN,
            )

        dest_cluster = get("destination_cluster") or UNKNOWN
        svc_namespace = get("destination_service_namespace") or UNKNOWN
        svc_name = get("destination_service_name") or UNKNOWN
        if svc_name == UNKNOWN:
            svc_name = get("destination_service") or UNKNOWN
        dest_workload = get("destination_workload") or UNKNOWN

        if dest_workload == UNKNOWN:
            if svc_name == UNKNOWN:
                if source.id == UNKNOWN:
                    return ()
                return (Hop(source, self.unknown_node()),)
            return (Hop(source, self.service_node(dest_cluster, svc_namespace, svc_name)),)

        workload_namespace = get("destination_workload_namespace") or UNKNOWN
        if workload_namespace == UNKNOWN:
            workload_namespace = svc_namespace
        dest = self.workload_node(
            dest_cluster,
            workload_namespace,
            dest_workload,
            get("destination_app") or UNKNOWN,
            get("destination_version") or UNKNOWN,
        )
        if svc_name == UNKNOWN:
            return (Hop(source, dest),)
        dest.add_dest_service(ServiceName(dest_cluster, svc_namespace, svc_name))
        if not self.options.with_service_nodes:
            return (Hop(source, dest),)
        service = self.service_node(dest_cluster, svc_namespace, svc_name)
        return (Hop(source, service), Hop(service, dest))


def _attach(tm: TrafficMap, hop: Hop, protocol: str) -> Edge:
    """Insert the hop's (shared) nodes when missing and return its edge."""
    nodes = tm.nodes
    if hop.source.id not in nodes:
        nodes[hop.source.id] = hop.source
    if hop.target.id not in nodes:
        nodes[hop.target.id] = hop.target
    return tm.get_edge(hop.source.id, hop.target.id, protocol)


def _add_request(edge: Edge, labels: IstioLabels, rate: float, protocol: str) -> None:
    edge.rate += rate
    code = labels.get("response_code") or UNKNOWN
    if protocol == "grpc":
        status = labels.get("grpc_response_status") or UNKNOWN
        if status != UNKNOWN:
            is_error = status != "0"
            response_key = status
        else:  # older telemetry: Istio reports only the HTTP code for gRPC
            is_error = code[:1] in ("4", "5")
            response_key = code
        if is_error:
            edge.rate_grpc_err += rate
    else:
        first = code[:1]
        if first == "5":
            edge.rate_5xx += rate
        elif first == "4":
            edge.rate_4xx += rate
        elif first == "3":
            edge.rate_3xx += rate
        response_key = code
    _add_response(edge, labels, response_key, rate)


def _add_response(edge: Edge, labels: IstioLabels, code: str, rate: float) -> None:
    detail = edge.responses.get(code)
    if detail is None:
        detail = edge.responses[code] = ResponseDetail()
    flags = labels.get("response_flags") or "-"
    detail.flags[flags] = detail.flags.get(flags, 0.0) + rate
    host = labels.get("destination_service") or UNKNOWN
    detail.hosts[host] = detail.hosts.get(host, 0.0) + rate


def build_traffic_map(
    options: GraphOptions,
    requests: Sequence[RequestSample] = (),
    tcp: Sequence[TcpSample] = (),
    resolver: PathResolver | None = None,
) -> TrafficMap:
    """Build the raw traffic map for ``options.graph_type`` from request and TCP samples.

    Rows are de-duplicated by reporter first; zero-rate rows still create their nodes and edges (an edge
    without traffic in the window) but add no traffic.  Node rates are computed from the edges at the end.
    """
    resolver = resolver or PathResolver(options)
    tm = TrafficMap()
    edge_cache: dict[tuple[int, str], tuple[Edge, ...]] = {}
    for sample in requests:
        labels = sample.labels
        if not is_counted_row(labels):
            continue
        protocol = request_protocol(labels)
        edges = _edges_for(tm, resolver, labels, protocol, edge_cache)
        if sample.rate > 0:
            for edge in edges:
                _add_request(edge, labels, sample.rate, protocol)
    for tcp_sample in tcp:
        labels = tcp_sample.labels
        if not is_counted_row(labels):
            continue
        edges = _edges_for(tm, resolver, labels, "tcp", edge_cache)
        rate = tcp_sample.sent_bytes + tcp_sample.received_bytes
        if rate > 0:
            for edge in edges:
                edge.rate += rate
                edge.throughput = (edge.throughput or 0.0) + rate
                _add_response(edge, labels, "-", rate)
    compute_node_rates(tm)
    return tm


def _edges_for(
    tm: TrafficMap,
    resolver: PathResolver,
    labels: IstioLabels,
    protocol: str,
    cache: dict[tuple[int, str], tuple[Edge, ...]],
) -> tuple[Edge, ...]:
    hops = resolver.resolve(labels)
    key = (id(hops), protocol)
    edges = cache.get(key)
    if edges is None:
        edges = tuple(_attach(tm, hop, protocol) for hop in hops)
        cache[key] = edges
    return edges


def compute_node_rates(tm: TrafficMap) -> None:
    """(Re)compute every node's Kiali rate keys from the edges: ``<proto>In``, ``<proto>Out`` and errors.

    Besides Kiali's keys (``httpIn``, ``httpIn3xx``, ``httpIn4xx``, ``httpIn5xx``, ``httpOut``, ``grpcIn``,
    ``grpcInErr``, ``grpcOut``, ``tcpIn``, ``tcpOut``) nodes keep ``httpOut4xx``, ``httpOut5xx`` and
    ``grpcOutErr`` for outbound health.
    """
    nodes = tm.nodes
    for node in nodes.values():
        node.rates = {}
    for edge in tm.edges.values():
        rate = edge.rate
        if rate <= 0:
            continue
        source = nodes[edge.source].rates
        target = nodes[edge.target].rates
        out_key, in_key = _DIRECTION_KEYS[edge.protocol]
        source[out_key] = source.get(out_key, 0.0) + rate
        target[in_key] = target.get(in_key, 0.0) + rate
        protocol = edge.protocol
        if protocol == "http":
            if edge.rate_3xx > 0 or edge.rate_4xx > 0 or edge.rate_5xx > 0:
                _bump(target, "httpIn3xx", edge.rate_3xx)
                _bump(target, "httpIn4xx", edge.rate_4xx)
                _bump(target, "httpIn5xx", edge.rate_5xx)
                _bump(source, "httpOut4xx", edge.rate_4xx)
                _bump(source, "httpOut5xx", edge.rate_5xx)
        elif protocol == "grpc" and edge.rate_grpc_err > 0:
            _bump(target, "grpcInErr", edge.rate_grpc_err)
            _bump(source, "grpcOutErr", edge.rate_grpc_err)


class _DirectionKeys(dict[str, tuple[str, str]]):
    """``protocol -> (protocol + "Out", protocol + "In")``, built on first use of a protocol."""

    def __missing__(self, protocol: str) -> tuple[str, str]:
        keys = self[protocol] = (protocol + "Out", protocol + "In")
        return keys


_DIRECTION_KEYS = _DirectionKeys()


def _bump(rates: dict[str, float], key: str, value: float) -> None:
    if value > 0:
        rates[key] = rates.get(key, 0.0) + value
