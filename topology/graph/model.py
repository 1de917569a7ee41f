"""Typed in-memory model of the service graph: options, nodes, edges and the traffic map.

The traffic map is what the pipeline builds from Prometheus samples and what every step decorates or prunes.
Nodes are keyed by a readable internal id (see :func:`build_node_id`); edges by ``(source id, target id,
protocol)``.  Nothing here knows about Prometheus, Django or the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

UNKNOWN: Final = "unknown"

GraphType = Literal["app", "versionedApp", "workload", "service"]
#: Every graph type, in the order a snapshot builds and stores them (the one list of them: import it from here).
GRAPH_TYPES: Final[tuple[GraphType, ...]] = ("app", "versionedApp", "workload", "service")

NodeType = Literal["app", "workload", "service", "unknown", "box"]
BoxBy = Literal["app", "namespace", "cluster"]
BOX_KINDS: Final[tuple[str, ...]] = ("cluster", "namespace", "app")

Protocol = Literal["http", "grpc", "tcp"]
PROTOCOLS: Final[tuple[str, ...]] = ("grpc", "http", "tcp")  # Kiali's order for node traffic

ResponseTimeStat = Literal["avg", "p50", "p95", "p99"]


def is_known(value: str) -> bool:
    """Return True when a label value carries information (not empty and not Istio's ``"unknown"``)."""
    return bool(value) and value != UNKNOWN


@dataclass(frozen=True, slots=True)
class ServiceName:
    """A Kubernetes (or ServiceEntry) service a node serves requests for; Kiali's ``destServices`` item."""

    cluster: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class GatewayInfo:
    """Gateway details for a node: ``kind`` is ``"ingress"`` or ``"egress"``, plus the hostnames it serves."""

    kind: Literal["ingress", "egress"] = "ingress"
    hostnames: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceEntryInfo:
    """ServiceEntry details for a node: Istio location (``MESH_EXTERNAL``/``MESH_INTERNAL``) and hosts."""

    location: Literal["MESH_EXTERNAL", "MESH_INTERNAL"] = "MESH_EXTERNAL"
    hosts: tuple[str, ...] = ()
    namespace: str = ""


@dataclass(slots=True)
class ResponseTimes:
    """Response time of an edge in milliseconds, plus the request weight used to merge several samples."""

    avg: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    weight: float = 0.0

    def get(self, stat: ResponseTimeStat) -> float | None:
        """Return one statistic by name (``avg``, ``p50``, ``p95`` or ``p99``)."""
        value: float | None = getattr(self, stat)
        return value


@dataclass(frozen=True, slots=True)
class HealthAnnotation:
    """Health status computed for a node or edge, with a human reason (see ``topology.health``)."""

    status: str
    reason: str = ""
    warnings: tuple[str, ...] = ()
    config: dict[str, str] | None = None  # the per-object annotations that changed the thresholds


@dataclass(slots=True)
class ResponseDetail:
    """Traffic (rate) for one response code, split by Envoy response flags and by destination host."""

    flags: dict[str, float] = field(default_factory=dict)
    hosts: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Edge:
    """Traffic from one node to another for one protocol.

    ``rate`` is requests/s for http and grpc and bytes/s for tcp.  ``mtls_rate`` is the part of ``rate``
    secured by mutual TLS.  ``responses`` maps a response code (gRPC status for grpc, ``"-"`` for tcp) to its
    flag and host breakdown, in absolute rates; the wire format turns them into percentages.  ``rate_no_response``
    is the part of an http or grpc ``rate`` that got no response (code ``-``), an error like 4xx/5xx.
    ``sent``/``received`` split the traffic by direction: bytes/s for tcp (``rate`` is their sum), messages/s for
    grpc (``istio_request_messages_total`` / ``istio_response_messages_total``).  ``request_bytes``/``response_bytes``
    are an http edge's body throughput (bytes/s, ``istio_request_bytes`` / ``istio_response_bytes``).
    """

    source: str
    target: str
    protocol: str
    rate: float = 0.0
    rate_3xx: float = 0.0
    rate_4xx: float = 0.0
    rate_5xx: float = 0.0
    rate_grpc_err: float = 0.0
    rate_no_response: float = 0.0
    mtls_rate: float = 0.0
    sent: float = 0.0
    received: float = 0.0
    request_bytes: float = 0.0
    response_bytes: float = 0.0
    responses: dict[str, ResponseDetail] = field(default_factory=dict)
    response_times: ResponseTimes | None = None
    throughput: float | None = None
    source_principals: set[str] = field(default_factory=set)
    dest_principals: set[str] = field(default_factory=set)
    health: HealthAnnotation | None = None
    #: The traffic of rows some ``ambientTraffic`` values count and others not, by the mask of the values that count
    #: them (:func:`topology.graph.reporters.build_option_masks`); None for the edges of every option alike.
    ambient_parts: dict[int, Edge] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The edge key in the traffic map: ``(source id, target id, protocol)``."""
        return (self.source, self.target, self.protocol)

    @property
    def error_rate(self) -> float:
        """Error requests/s: 4xx + 5xx for http, non-OK gRPC status for grpc, plus requests without a response; 0 for
        tcp."""
        if self.protocol == "grpc":
            return self.rate_grpc_err + self.rate_no_response
        if self.protocol == "http":
            return self.rate_4xx + self.rate_5xx + self.rate_no_response
        return 0.0

    def add_security(self, rate: float, secured: bool, source_principal: str, dest_principal: str) -> None:
        """Count one row's traffic: its mTLS share, and its principals (unknown ones are not kept)."""
        if secured:
            self.mtls_rate += rate
        if source_principal != UNKNOWN:
            self.source_principals.add(source_principal)
        if dest_principal != UNKNOWN:
            self.dest_principals.add(dest_principal)

    def merge_from(self, other: Edge, factor: float = 1.0) -> None:
        """Add ``other``'s traffic (scaled by ``factor``) to this edge; used when edges collapse into one."""
        self.rate += other.rate * factor
        self.rate_3xx += other.rate_3xx * factor
        self.rate_4xx += other.rate_4xx * factor
        self.rate_5xx += other.rate_5xx * factor
        self.rate_grpc_err += other.rate_grpc_err * factor
        self.rate_no_response += other.rate_no_response * factor
        self.mtls_rate += other.mtls_rate * factor
        self.sent += other.sent * factor
        self.received += other.received * factor
        self.request_bytes += other.request_bytes * factor
        self.response_bytes += other.response_bytes * factor
        responses = self.responses
        for code, detail in other.responses.items():
            mine = responses.get(code)
            if mine is None:
                mine = responses[code] = ResponseDetail()
            flags, hosts = mine.flags, mine.hosts
            for flag, value in detail.flags.items():
                flags[flag] = flags.get(flag, 0.0) + value * factor
            for host, value in detail.hosts.items():
                hosts[host] = hosts.get(host, 0.0) + value * factor
        if other.throughput is not None:
            self.throughput = (self.throughput or 0.0) + other.throughput * factor
        if other.source_principals:
            self.source_principals |= other.source_principals
        if other.dest_principals:
            self.dest_principals |= other.dest_principals
        if other.response_times is not None:
            self.response_times = merge_response_times(self.response_times, other.response_times, factor)
        if other.ambient_parts:
            for mask, part in other.ambient_parts.items():
                self.ambient_part(mask).merge_from(part, factor)

    def ambient_part(self, mask: int) -> Edge:
        """This edge's part of the rows whose ``ambientTraffic`` mask is ``mask`` (created empty when missing)."""
        parts = self.ambient_parts
        if parts is None:
            parts = self.ambient_parts = {}
        part = parts.get(mask)
        if part is None:
            part = parts[mask] = Edge(self.source, self.target, self.protocol)
        return part


def merge_response_times(current: ResponseTimes | None, extra: ResponseTimes, factor: float = 1.0) -> ResponseTimes:
    """Combine two response-time measurements of traffic that collapses into one edge.

    ``avg`` is the request-weighted mean (exact).  Quantiles cannot be combined exactly, so the merged
    quantile is the larger of the two: an upper bound, never an under-report.
    """
    weight = extra.weight * factor
    if current is None:
        return ResponseTimes(extra.avg, extra.p50, extra.p95, extra.p99, weight)
    total = current.weight + weight
    avg: float | None
    if current.avg is None or extra.avg is None:
        avg = current.avg if extra.avg is None else extra.avg
    elif total > 0:
        avg = (current.avg * current.weight + extra.avg * weight) / total
    else:
        avg = (current.avg + extra.avg) / 2
    return ResponseTimes(
        avg=avg,
        p50=_max_optional(current.p50, extra.p50),
        p95=_max_optional(current.p95, extra.p95),
        p99=_max_optional(current.p99, extra.p99),
        weight=total,
    )


def _max_optional(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass(slots=True)
class Node:
    """One vertex of the graph.  ``rates`` holds Kiali's node rate keys (``httpIn``, ``httpIn5xx``, ...)."""

    id: str
    node_type: str
    cluster: str
    namespace: str
    workload: str = ""
    app: str = ""
    version: str = ""
    service: str = ""
    dest_services: dict[tuple[str, str, str], ServiceName] = field(default_factory=dict)
    workloads: set[str] = field(default_factory=set)  # every workload folded into this node
    rates: dict[str, float] = field(default_factory=dict)
    is_gateway: GatewayInfo | None = None
    is_waypoint: bool = False
    is_service_entry: ServiceEntryInfo | None = None
    is_idle: bool = False
    is_root: bool = False
    is_outside: bool = False
    is_dead: bool = False
    has_vs: tuple[str, ...] | None = None
    has_missing_sidecar: bool = False
    health: HealthAnnotation | None = None
    parent: str | None = None
    #: Kiali's Istio-config flags (``hasCB``, ``hasTrafficShifting``...; see ``topology.graph.istio_flags``).
    config_flags: frozenset[str] = frozenset()

    def copy(self) -> Node:
        """A copy with its own containers (``dest_services``, ``workloads``, ``rates``)."""
        return Node(
            self.id,
            self.node_type,
            self.cluster,
            self.namespace,
            self.workload,
            self.app,
            self.version,
            self.service,
            dict(self.dest_services),
            set(self.workloads),
            dict(self.rates),
            self.is_gateway,
            self.is_waypoint,
            self.is_service_entry,
            self.is_idle,
            self.is_root,
            self.is_outside,
            self.is_dead,
            self.has_vs,
            self.has_missing_sidecar,
            self.health,
            self.parent,
            self.config_flags,
        )

    def add_dest_service(self, service: ServiceName) -> None:
        """Record that this node serves ``service`` (deduplicated)."""
        key = (service.cluster, service.namespace, service.name)
        if key not in self.dest_services:
            self.dest_services[key] = service


@dataclass(slots=True)
class BoxNode:
    """A compound (parent) node grouping children by cluster, namespace or app (Kiali ``isBox``)."""

    id: str
    box: str
    cluster: str
    namespace: str = ""
    app: str = ""
    parent: str | None = None
    health: HealthAnnotation | None = None
    is_outside: bool = False
    has_missing_sidecar: bool = False


@dataclass(slots=True)
class TrafficMap:
    """The graph under construction: nodes by id, edges by ``(source, target, protocol)`` and boxes by id."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)
    boxes: dict[str, BoxNode] = field(default_factory=dict)

    def add_node(self, node: Node) -> Node:
        """Insert ``node`` unless a node with the same id exists; return the node stored in the map."""
        existing = self.nodes.get(node.id)
        if existing is not None:
            return existing
        self.nodes[node.id] = node
        return node

    def get_edge(self, source: str, target: str, protocol: str) -> Edge:
        """Return the edge for ``(source, target, protocol)``, creating an empty one when missing."""
        key = (source, target, protocol)
        edge = self.edges.get(key)
        if edge is None:
            edge = Edge(source, target, protocol)
            self.edges[key] = edge
        return edge

    def copy(self) -> TrafficMap:
        """A copy whose nodes are new objects (with their own containers); edges and boxes are shared.

        The steps change nodes (flags, rates, health) and an edge's health annotation, which each graph sets anew,
        but never an existing edge's traffic: :class:`~topology.graph.steps.ServiceGraphStep` merges traffic into
        new edges only. So a copy taken before the steps can start another graph type's steps.
        """
        nodes = {node_id: node.copy() for node_id, node in self.nodes.items()}
        return TrafficMap(nodes=nodes, edges=dict(self.edges), boxes=dict(self.boxes))

    def remove_node(self, node_id: str) -> None:
        """Remove a node and every edge touching it."""
        self.nodes.pop(node_id, None)
        for key in [k for k in self.edges if k[0] == node_id or k[1] == node_id]:
            del self.edges[key]

    def remove_nodes(self, node_ids: set[str]) -> None:
        """Remove several nodes and their edges in one pass over the edges."""
        if not node_ids:
            return
        for node_id in node_ids:
            self.nodes.pop(node_id, None)
        for key in [k for k in self.edges if k[0] in node_ids or k[1] in node_ids]:
            del self.edges[key]


@dataclass(frozen=True, slots=True)
class GraphOptions:
    """What graph to build.

    ``namespaces``/``clusters`` are the requested scope (nodes elsewhere get ``isOutside``; an empty
    ``clusters`` means every cluster).  ``inject_service_nodes`` puts a service node between a caller and the
    workloads behind a service (Kiali's ``injectServiceNodes``, default on).  ``box_by`` lists compound boxes
    to build.  ``response_time_stat`` picks the statistic shown as ``responseTime``.
    """

    graph_type: GraphType = "versionedApp"
    namespaces: frozenset[str] = frozenset()
    clusters: frozenset[str] = frozenset()
    inject_service_nodes: bool = True
    include_idle: bool = False
    box_by: frozenset[str] = frozenset()
    response_time_stat: ResponseTimeStat = "p95"
    cluster_domain: str = "svc.cluster.local"
    id_style: Literal["hash", "readable"] = "hash"

    def __post_init__(self) -> None:
        if self.graph_type not in GRAPH_TYPES:
            raise ValueError(f"graph_type: {self.graph_type!r} is not one of {sorted(GRAPH_TYPES)}")
        unknown_boxes = set(self.box_by) - set(BOX_KINDS)
        if unknown_boxes:
            raise ValueError(f"box_by: unknown box kinds {sorted(unknown_boxes)}")

    @property
    def with_service_nodes(self) -> bool:
        """True when service nodes sit between callers and workloads (always for the service graph)."""
        return self.inject_service_nodes or self.graph_type == "service"


def build_node_id(
    node_type: str,
    cluster: str,
    namespace: str,
    name: str = "",
    version: str = "",
    *,
    versioned: bool = False,
) -> str:
    """Return the readable internal id of a node; the wire format hashes it unless ids are kept readable.

    Shapes: ``unknown``, ``svc|<cluster>|<ns>|<service>``, ``wl|<cluster>|<ns>|<workload>``,
    ``app|<cluster>|<ns>|<app>`` and, for versioned app nodes, ``vapp|<cluster>|<ns>|<app>|<version>``.
    """
    if node_type == "unknown":
        return UNKNOWN
    if node_type == "service":
        return f"svc|{cluster}|{namespace}|{name}"
    if node_type == "workload":
        return f"wl|{cluster}|{namespace}|{name}"
    if versioned:
        return f"vapp|{cluster}|{namespace}|{name}|{version}"
    return f"app|{cluster}|{namespace}|{name}"
