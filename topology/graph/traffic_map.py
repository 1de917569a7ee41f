"""Build the traffic map of one graph type from a window's rows: the counted rows compiled once, then accumulated.

Every graph mesh-ui builds goes through the two stages of this module (driven by
:class:`~topology.graph.pipeline.GraphBuilder`):

1. :class:`SampleCompiler` compiles the rows once for every graph type built from them.  It keeps only the rows the
   graph counts (reporter de-duplication, :mod:`topology.graph.reporters`), numbers each row's identity (the labels
   :class:`~topology.graph.paths.PathResolver` reads, :data:`~topology.graph.paths.IDENTITY_LABELS`) and works out
   what does not depend on the graph type: protocol, response key and class, flags, host, mTLS and principals.
2. :func:`build_traffic_map` resolves each identity once to its path of nodes for one graph type and accumulates the
   rows into the edges: rates, error rates, the response breakdown by code, flags and host, TCP throughput, the
   traffic by direction (TCP bytes, gRPC messages, HTTP body bytes sent and received), node rates, then each edge's
   mTLS share and principals.  :func:`add_response_times` merges the latency rows into the
   http and grpc edges they describe.

Both stages work in two phases, so a snapshot builds its traffic maps while Prometheus still computes the latency
histogram (its slowest query): :meth:`SampleCompiler.add_traffic` and :func:`build_traffic_map` need only the request
and TCP rows; :meth:`SampleCompiler.add_latencies` and :func:`add_response_times` complete them.  Response times are
independent of rates, node rates, mTLS and principals, so when the latency rows arrive does not change the result.

Rows are added to each edge in the order they come, and nodes and edges are inserted in the order their rows are
first met (requests, then TCP; identities met only in latency rows are resolved last), so the same rows always give
the same map, down to the last bit of every float.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from topology.graph.model import (
    UNKNOWN,
    Edge,
    GraphOptions,
    ResponseDetail,
    ResponseTimes,
    TrafficMap,
    merge_response_times,
)
from topology.graph.paths import IDENTITY_LABELS, Hop, PathResolver, WaypointKeys
from topology.graph.reporters import (
    EVERY_OPTION,
    LATENCY_KEY_LABELS,
    REQUEST_KEY_LABELS,
    TCP_KEY_LABELS,
    TOTAL_BIT,
    build_counted_filter,
    build_option_masks,
)
from topology.graph.samples import DirectionSamples, IstioLabels, LatencySample, RequestSample, TcpSample


def request_protocol(labels: IstioLabels) -> str:
    """Return the edge protocol of a request row (``http`` unless Istio reports ``grpc``)."""
    return "grpc" if labels.get("request_protocol") == "grpc" else "http"


#: Response classes of a request row: which error (or 3xx) counter of its edge the rate also goes to.
NO_CLASS: Final = 0
GRPC_ERROR: Final = 1
NO_RESPONSE: Final = 2
HTTP_3XX: Final = 3
HTTP_4XX: Final = 4
HTTP_5XX: Final = 5
#: The response key of a request that got no response (Istio's ``response_code="0"``), as Kiali files it.
NO_RESPONSE_KEY: Final = "-"

#: ``(slot, rate, response key, class, flags, host, secured, source principal, destination principal)``;
#: ``slot`` numbers the row's ``(identity, protocol)`` pair (see :class:`CompiledSamples`).
CompiledRequest = tuple[int, float, str, int, str, str, bool, str, str]
#: ``(slot, bytes/s, flags, host, secured, source principal, destination principal, sent, received)``.
CompiledTcp = tuple[int, float, str, str, bool, str, str, float, float]
#: ``(slot, request direction, response direction)``: gRPC messages/s or HTTP body bytes/s of a request edge row.
CompiledDirection = tuple[int, float, float]
#: ``(identity, protocol, measured response times)``.
CompiledLatency = tuple[int, str, ResponseTimes]


@dataclass(frozen=True, slots=True)
class CompiledSamples:
    """The counted rows of one window in a graph-type-independent form.

    ``identities`` holds one label dict per distinct identity (the labels of the first row that had it), in the
    order they are first met: request rows, TCP rows, then latency rows. ``slots`` lists the ``(identity,
    protocol)`` pair of each slot: all rows of a slot land on the same edges in any graph type.  ``grpc_messages``
    (grpc slots) and ``http_bytes`` (http slots) are the request edges' traffic by direction.  ``requests`` and ``tcp``
    are the rows ``ambientTraffic=total`` counts (what snapshots store); ``request_parts`` and ``tcp_parts`` repeat,
    with their option mask, the rows that not every ``ambientTraffic`` value counts (ambient meshes only).
    """

    identities: list[IstioLabels]
    slots: list[tuple[int, str]]
    requests: list[CompiledRequest]
    tcp: list[CompiledTcp]
    latencies: list[CompiledLatency]
    grpc_messages: list[CompiledDirection] = field(default_factory=list)
    http_bytes: list[CompiledDirection] = field(default_factory=list)
    request_parts: list[tuple[int, CompiledRequest]] = field(default_factory=list)
    tcp_parts: list[tuple[int, CompiledTcp]] = field(default_factory=list)


def _response_class(labels: IstioLabels, protocol: str) -> tuple[str, int]:
    """The response key an edge files a request row under, and the row's class.

    A request that got no response (``response_code="0"``: the client went away, ``DC``; the upstream connection
    failed or was reset, ``UF``, ``URX``) is filed under ``-`` and is an error of its own class, for HTTP and gRPC
    alike (Kiali's ``HandleResponseCode`` and its ``httpNoResponse``/``grpcNoResponse`` rates).  gRPC rows are filed
    under their gRPC status and are errors unless it is ``0``; older telemetry reports only the HTTP code for gRPC,
    then 4xx and 5xx codes are errors.  HTTP rows are filed under their code and classed 3xx, 4xx or 5xx by its first
    digit.
    """
    code = labels.get("response_code") or UNKNOWN
    if code == "0":
        return NO_RESPONSE_KEY, NO_RESPONSE
    if protocol == "grpc":
        status = labels.get("grpc_response_status") or UNKNOWN
        if status != UNKNOWN:
            return status, GRPC_ERROR if status != "0" else NO_CLASS
        return code, GRPC_ERROR if code[:1] in ("4", "5") else NO_CLASS
    first = code[:1]
    if first == "5":
        return code, HTTP_5XX
    if first == "4":
        return code, HTTP_4XX
    if first == "3":
        return code, HTTP_3XX
    return code, NO_CLASS


class _Interner:
    """Numbers identities and ``(identity, protocol)`` slots in the order they are first met."""

    def __init__(self) -> None:
        self.identities: list[IstioLabels] = []
        self.slots: list[tuple[int, str]] = []
        self._identity_index: dict[tuple[str, ...], int] = {}
        self._slot_index: dict[tuple[int, str], int] = {}
        self._key: Callable[[IstioLabels], tuple[str, ...]] = operator.itemgetter(*IDENTITY_LABELS)

    def identity(self, labels: IstioLabels) -> int:
        try:
            key = self._key(labels)
        except KeyError:
            get = labels.get
            key = tuple([get(name) for name in IDENTITY_LABELS])  # type: ignore[misc]  # absent is not `unknown`
        index = self._identity_index.get(key)
        if index is None:
            index = self._identity_index[key] = len(self.identities)
            self.identities.append(labels)
        return index

    def find_slot(self, labels: IstioLabels, protocol: str) -> int | None:
        """The slot of ``(labels' identity, protocol)`` when numbered already, else None (nothing is numbered)."""
        get = labels.get
        identity = self._identity_index.get(tuple([get(name) for name in IDENTITY_LABELS]))  # type: ignore[misc]
        return None if identity is None else self._slot_index.get((identity, protocol))

    def slot(self, labels: IstioLabels, protocol: str) -> int:
        pair = (self.identity(labels), protocol)
        index = self._slot_index.get(pair)
        if index is None:
            index = self._slot_index[pair] = len(self.slots)
            self.slots.append(pair)
        return index


def _row_details(labels: IstioLabels) -> tuple[str, str, bool, str, str]:
    """What request and TCP rows both carry: ``(flags, host, secured, source principal, destination principal)``."""
    return (
        labels.get("response_flags") or "-",
        labels.get("destination_service") or UNKNOWN,
        labels.get("connection_security_policy") == "mutual_tls",
        labels.get("source_principal") or UNKNOWN,
        labels.get("destination_principal") or UNKNOWN,
    )


class SampleCompiler:
    """Compiles a window's counted rows into :class:`CompiledSamples`: traffic rows first, latency rows later.

    A row counts when :func:`~topology.graph.reporters.build_counted_filter` says so (reporter de-duplication); TCP
    rows carry the bytes sent plus received per second, and a latency row without a request weight weighs 1 when rows
    merge into one edge.
    """

    def __init__(self) -> None:
        """Start with no rows."""
        self._interner = _Interner()
        self.samples = CompiledSamples(self._interner.identities, self._interner.slots, [], [], [])

    def add_traffic(self, requests: Sequence[RequestSample], tcp: Sequence[TcpSample]) -> CompiledSamples:
        """Compile the counted request and TCP rows (call once, before :meth:`add_latencies`)."""
        interner, compiled_requests, compiled_tcp = self._interner, self.samples.requests, self.samples.tcp
        request_parts, tcp_parts = self.samples.request_parts, self.samples.tcp_parts
        mask_of = build_option_masks([sample.labels for sample in requests], REQUEST_KEY_LABELS)
        for sample in requests:
            labels = sample.labels
            mask = mask_of(labels)
            if not mask:
                continue
            protocol = request_protocol(labels)
            slot = interner.slot(labels, protocol)
            response_key, response_class = _response_class(labels, protocol)
            row = (slot, sample.rate, response_key, response_class, *_row_details(labels))
            if mask & TOTAL_BIT:
                compiled_requests.append(row)
            if mask != EVERY_OPTION:
                request_parts.append((mask, row))
        mask_of = build_option_masks([tcp_sample.labels for tcp_sample in tcp], TCP_KEY_LABELS)
        for tcp_sample in tcp:
            labels = tcp_sample.labels
            mask = mask_of(labels)
            if not mask:
                continue
            slot = interner.slot(labels, "tcp")
            sent, received = tcp_sample.sent_bytes, tcp_sample.received_bytes
            tcp_row = (slot, sent + received, *_row_details(labels), sent, received)
            if mask & TOTAL_BIT:
                compiled_tcp.append(tcp_row)
            if mask != EVERY_OPTION:
                tcp_parts.append((mask, tcp_row))
        return self.samples

    def add_latencies(
        self, latencies: Sequence[LatencySample], directions: DirectionSamples | None = None
    ) -> CompiledSamples:
        """Compile the counted latency rows, and the traffic by direction (gRPC message rows onto grpc slots, HTTP byte
        rows onto http slots: only slots the traffic rows numbered); identities first met in latency rows are numbered
        after the traffic's."""
        interner = self._interner
        directions = directions or DirectionSamples()
        for rows, protocol, compiled in (
            (directions.grpc_messages, "grpc", self.samples.grpc_messages),
            (directions.http_bytes, "http", self.samples.http_bytes),
        ):
            is_counted = build_counted_filter([row.labels for row in rows], LATENCY_KEY_LABELS)
            for row in rows:
                labels = row.labels
                if request_protocol(labels) != protocol or not is_counted(labels):
                    continue
                # Only onto the edges of request rows: traffic by direction creates no edge of its own.
                found = interner.find_slot(labels, protocol) if row.request > 0 or row.response > 0 else None
                if found is not None:
                    compiled.append((found, row.request, row.response))
        compiled_latencies = self.samples.latencies
        is_counted = build_counted_filter([latency.labels for latency in latencies], LATENCY_KEY_LABELS)
        for latency in latencies:
            labels = latency.labels
            if not is_counted(labels):
                continue
            protocol = request_protocol(labels)
            measured = ResponseTimes(latency.avg, latency.p50, latency.p95, latency.p99, latency.weight or 1.0)
            compiled_latencies.append((interner.identity(labels), protocol, measured))
        return self.samples


def _attach(tm: TrafficMap, hops: tuple[Hop, ...], protocol: str) -> tuple[Edge, ...]:
    """Insert the hops' nodes when missing and return their edges (created when missing), in hop order."""
    nodes, edges = tm.nodes, tm.edges
    found = []
    for hop in hops:
        source, target = hop.source, hop.target
        if source.id not in nodes:
            nodes[source.id] = source
        if target.id not in nodes:
            nodes[target.id] = target
        key = (source.id, target.id, protocol)
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = Edge(source.id, target.id, protocol)
        found.append(edge)
    return tuple(found)


def _add_request(edge: Edge, rate: float, code: str, response_class: int, flags: str, host: str) -> None:
    """Add one request row's rate to ``edge``: requests/s, the rate of its response class, its response detail."""
    edge.rate += rate
    if response_class == HTTP_5XX:
        edge.rate_5xx += rate
    elif response_class == HTTP_4XX:
        edge.rate_4xx += rate
    elif response_class == HTTP_3XX:
        edge.rate_3xx += rate
    elif response_class == GRPC_ERROR:
        edge.rate_grpc_err += rate
    elif response_class == NO_RESPONSE:
        edge.rate_no_response += rate
    _add_response(edge, code, flags, host, rate)


def _add_response(edge: Edge, code: str, flags: str, host: str, rate: float) -> None:
    detail = edge.responses.get(code)
    if detail is None:
        detail = edge.responses[code] = ResponseDetail()
    detail.flags[flags] = detail.flags.get(flags, 0.0) + rate
    detail.hosts[host] = detail.hosts.get(host, 0.0) + rate


@dataclass(slots=True)
class TrafficBuild:
    """A graph type's traffic map built from compiled rows, with the resolver that built it and each identity's hops
    (what :func:`add_response_times` needs)."""

    tm: TrafficMap
    resolver: PathResolver
    hops_of: list[tuple[Hop, ...]]


def build_traffic_map(
    samples: CompiledSamples, options: GraphOptions, waypoints: WaypointKeys = frozenset()
) -> TrafficBuild:
    """The traffic map of ``options.graph_type`` from the compiled request and TCP rows (no response times yet).

    Each row adds its rate to every edge of its path: requests/s (and the error or 3xx rate of its class) for http
    and grpc, bytes/s and throughput for tcp, and its rate under its response key, flags and host.  Rows without
    traffic (rate 0) still create their nodes and edges.  Node rates follow from the edges
    (:func:`compute_node_rates`), then every row with traffic adds its mTLS-secured rate and its known principals.
    ``waypoints`` are the mesh's ambient waypoint proxies (:func:`~topology.graph.samples.waypoint_keys`).
    """
    resolver = PathResolver(options, waypoints)
    hops_of = [resolver.resolve(labels) for labels in samples.identities]
    tm = TrafficMap()
    slot_edges: list[tuple[Edge, ...] | None] = [None] * len(samples.slots)
    slots = samples.slots

    def edges_of_slot(slot: int) -> tuple[Edge, ...]:
        edges = slot_edges[slot]
        if edges is None:
            identity, protocol = slots[slot]
            edges = slot_edges[slot] = _attach(tm, hops_of[identity], protocol)
        return edges

    # _add_request inlined: this loop runs once per row and edge of every graph type.
    rows: list[tuple[Edge, CompiledRequest]] = []
    for row in samples.requests:
        edges = edges_of_slot(row[0])
        if row[1] > 0:
            for edge in edges:
                rows.append((edge, row))
    for edge, (_, rate, code, response_class, flags, host, _, _, _) in rows:
        edge.rate += rate
        if response_class == HTTP_5XX:
            edge.rate_5xx += rate
        elif response_class == HTTP_4XX:
            edge.rate_4xx += rate
        elif response_class == HTTP_3XX:
            edge.rate_3xx += rate
        elif response_class == GRPC_ERROR:
            edge.rate_grpc_err += rate
        elif response_class == NO_RESPONSE:
            edge.rate_no_response += rate
        detail = edge.responses.get(code)
        if detail is None:
            detail = edge.responses[code] = ResponseDetail()
        by_flag, by_host = detail.flags, detail.hosts
        by_flag[flags] = by_flag.get(flags, 0.0) + rate
        by_host[host] = by_host.get(host, 0.0) + rate
    tcp_rows: list[tuple[Edge, CompiledTcp]] = []
    for tcp_row in samples.tcp:
        edges = edges_of_slot(tcp_row[0])
        if tcp_row[1] > 0:
            for edge in edges:
                tcp_rows.append((edge, tcp_row))
    for edge, (_, rate, flags, host, _, _, _, sent, received) in tcp_rows:
        edge.rate += rate
        edge.sent += sent
        edge.received += received
        edge.throughput = (edge.throughput or 0.0) + rate
        _add_response(edge, "-", flags, host, rate)
    _add_ambient_parts(samples, slot_edges)
    compute_node_rates(tm)
    # mTLS and principals: the counted rows with traffic, requests then TCP.
    for edge, (_, rate, _, _, _, _, secured, source_principal, dest_principal) in rows:
        edge.add_security(rate, secured, source_principal, dest_principal)
    for edge, (_, rate, _, _, secured, source_principal, dest_principal, _, _) in tcp_rows:
        edge.add_security(rate, secured, source_principal, dest_principal)
    return TrafficBuild(tm, resolver, hops_of)


def _add_ambient_parts(samples: CompiledSamples, slot_edges: list[tuple[Edge, ...] | None]) -> None:
    """Add the rows not every ``ambientTraffic`` value counts to their edges' parts (:meth:`Edge.ambient_part`).

    Such a row shares its key, so its path, with a row ``total`` counts (the report that outranks it, or itself): its
    edges exist already; a row whose slot has no edges is left out rather than creating edges ``total`` lacks.
    """
    for mask, (slot, rate, code, response_class, flags, host, *_) in samples.request_parts:
        edges = slot_edges[slot]
        if edges is None or rate <= 0:
            continue
        for edge in edges:
            _add_request(edge.ambient_part(mask), rate, code, response_class, flags, host)
    for mask, (slot, rate, flags, host, _, _, _, sent, received) in samples.tcp_parts:
        edges = slot_edges[slot]
        if edges is None or rate <= 0:
            continue
        for edge in edges:
            part = edge.ambient_part(mask)
            part.rate += rate
            part.sent += sent
            part.received += received
            _add_response(part, "-", flags, host, rate)


def add_response_times(traffic: TrafficBuild, samples: CompiledSamples) -> TrafficMap:
    """Merge the compiled latency rows into the http/grpc edges they describe (avg/p50/p95/p99, ms), and the traffic
    by direction (gRPC messages, HTTP body bytes) into the edges of their slots; return the map.

    Rows landing on the same edge (app graphs, service nodes) merge: ``avg`` weighted by request rate, quantiles
    as the largest (an upper bound, see :func:`~topology.graph.model.merge_response_times`).  A row whose path has
    no edge in the map (latency without traffic) is dropped.  Identities met only in latency rows are resolved
    here, which adds their workloads and destination services to nodes already in the map, as any row does.
    """
    hops_of, resolve = traffic.hops_of, traffic.resolver.resolve
    hops_of += [resolve(labels) for labels in samples.identities[len(hops_of) :]]
    found: dict[tuple[int, str], list[Edge]] = {}
    tm_edges = traffic.tm.edges
    for identity, protocol, measured in samples.latencies:
        edges_found = found.get((identity, protocol))
        if edges_found is None:
            keys = [(hop.source.id, hop.target.id, protocol) for hop in hops_of[identity]]
            edges_found = found[(identity, protocol)] = [tm_edges[key] for key in keys if key in tm_edges]
        for edge in edges_found:
            edge.response_times = merge_response_times(edge.response_times, measured)
    slots = samples.slots
    for compiled, is_grpc in ((samples.grpc_messages, True), (samples.http_bytes, False)):
        for slot, request, response in compiled:
            identity, protocol = slots[slot]
            for hop in hops_of[identity]:
                on_edge = tm_edges.get((hop.source.id, hop.target.id, protocol))
                if on_edge is None:
                    continue
                if is_grpc:
                    on_edge.sent += request
                    on_edge.received += response
                else:
                    on_edge.request_bytes += request
                    on_edge.response_bytes += response
    return traffic.tm


def compute_node_rates(tm: TrafficMap) -> None:
    """(Re)compute every node's Kiali rate keys from the edges: ``<proto>In``, ``<proto>Out`` and errors.

    Besides Kiali's keys (``httpIn``, ``httpInNoResponse``, ``httpIn3xx``, ``httpIn4xx``, ``httpIn5xx``, ``httpOut``,
    ``grpcIn``, ``grpcInNoResponse``, ``grpcInErr``, ``grpcOut``, ``tcpIn``, ``tcpOut``) nodes keep ``httpOut4xx``,
    ``httpOut5xx``, ``grpcOutErr`` and ``<protocol>OutNoResponse`` for outbound health.
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
        if edge.rate_no_response > 0:
            _bump(target, protocol + "InNoResponse", edge.rate_no_response)
            _bump(source, protocol + "OutNoResponse", edge.rate_no_response)


class _DirectionKeys(dict[str, tuple[str, str]]):
    """``protocol -> (protocol + "Out", protocol + "In")``, built on first use of a protocol."""

    def __missing__(self, protocol: str) -> tuple[str, str]:
        keys = self[protocol] = (protocol + "Out", protocol + "In")
        return keys


_DIRECTION_KEYS = _DirectionKeys()


def _bump(rates: dict[str, float], key: str, value: float) -> None:
    if value > 0:
        rates[key] = rates.get(key, 0.0) + value
