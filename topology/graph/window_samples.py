"""One window's samples compiled once for every graph type, and the traffic map of one type built from them.

A snapshot builds four graph types from the same rows. What does not depend on the graph type is worked out
once per window by :class:`WindowSamplesCompiler`: which rows count (reporter de-duplication), each row's
identity (the labels path resolution reads, interned to a small integer), protocol, response code class, flags,
host, mTLS and principals. :func:`build_compiled_traffic` then resolves each identity once per graph type and
accumulates the rows into the edges; :func:`add_compiled_latencies` merges the response times in.

Both work in two phases, so a snapshot can build its traffic maps while Prometheus still computes the latency
histogram (its slowest query): :meth:`WindowSamplesCompiler.add_traffic` and :func:`build_compiled_traffic` need only
the request and TCP rows; :meth:`WindowSamplesCompiler.add_latencies` and :func:`add_compiled_latencies` complete
them (response times are independent of rates, node rates, mTLS and principals, so the result is the same).

The result is the traffic map :func:`~topology.graph.traffic_map.build_traffic_map` followed by
:class:`~topology.graph.steps.ResponseTimeStep` and :class:`~topology.graph.steps.SecurityStep` would give, down
to the last bit: rows are added to each edge in the same order, nodes and edges are inserted in the same order,
and identities are resolved in the order the original passes first meet them (requests, TCP, latencies).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from topology.graph.samples import IstioLabels, LatencySample, RequestSample, TcpSample
from topology.graph.traffic_map import (
    IDENTITY_LABELS,
    Hop,
    PathResolver,
    compute_node_rates,
    is_counted_row,
    request_protocol,
)

#: Response classes of a request row: which error (or 3xx) counter of its edge the rate also goes to.
NO_CLASS: Final = 0
GRPC_ERROR: Final = 1
HTTP_3XX: Final = 3
HTTP_4XX: Final = 4
HTTP_5XX: Final = 5

#: ``(slot, rate, response key, class, flags, host, secured, source principal, destination principal)``;
#: ``slot`` numbers the row's ``(identity, protocol)`` pair (see :class:`WindowSamples`).
CompiledRequest = tuple[int, float, str, int, str, str, bool, str, str]
#: ``(slot, bytes/s, flags, host, secured, source principal, destination principal)``.
CompiledTcp = tuple[int, float, str, str, bool, str, str]
#: ``(identity, protocol, measured response times)``.
CompiledLatency = tuple[int, str, ResponseTimes]


@dataclass(frozen=True, slots=True)
class WindowSamples:
    """The counted rows of one window in a graph-type-independent form.

    ``identities`` holds one label dict per distinct identity (the labels of the first row that had it), in the
    order the pipeline's passes first meet them. ``slots`` lists the ``(identity, protocol)`` pair of each slot:
    all rows of a slot land on the same edges in any graph type.
    """

    identities: list[IstioLabels]
    slots: list[tuple[int, str]]
    requests: list[CompiledRequest]
    tcp: list[CompiledTcp]
    latencies: list[CompiledLatency]


def _response_class(labels: IstioLabels, protocol: str) -> tuple[str, int]:
    """The response key an edge files a request row under, and the row's class (as ``_add_request`` decides)."""
    code = labels.get("response_code") or UNKNOWN
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
            key = tuple([get(name) or UNKNOWN for name in IDENTITY_LABELS])  # type: ignore[misc]
        index = self._identity_index.get(key)
        if index is None:
            index = self._identity_index[key] = len(self.identities)
            self.identities.append(labels)
        return index

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


class WindowSamplesCompiler:
    """Compiles a window's counted rows into :class:`WindowSamples`: traffic rows first, latency rows later."""

    def __init__(self) -> None:
        self._interner = _Interner()
        self.samples = WindowSamples(self._interner.identities, self._interner.slots, [], [], [])

    def add_traffic(self, requests: Sequence[RequestSample], tcp: Sequence[TcpSample]) -> WindowSamples:
        """Compile the counted request and TCP rows (call once, before :meth:`add_latencies`)."""
        interner, compiled_requests, compiled_tcp = self._interner, self.samples.requests, self.samples.tcp
        for sample in requests:
            labels = sample.labels
            if not is_counted_row(labels):
                continue
            protocol = request_protocol(labels)
            slot = interner.slot(labels, protocol)
            response_key, response_class = _response_class(labels, protocol)
            compiled_requests.append((slot, sample.rate, response_key, response_class, *_row_details(labels)))
        for tcp_sample in tcp:
            labels = tcp_sample.labels
            if not is_counted_row(labels):
                continue
            slot = interner.slot(labels, "tcp")
            rate = tcp_sample.sent_bytes + tcp_sample.received_bytes
            compiled_tcp.append((slot, rate, *_row_details(labels)))
        return self.samples

    def add_latencies(self, latencies: Sequence[LatencySample]) -> WindowSamples:
        """Compile the counted latency rows; identities first met here are numbered after the traffic's."""
        interner, compiled = self._interner, self.samples.latencies
        for latency in latencies:
            labels = latency.labels
            if not is_counted_row(labels):
                continue
            protocol = request_protocol(labels)
            measured = ResponseTimes(latency.avg, latency.p50, latency.p95, latency.p99, latency.weight or 1.0)
            compiled.append((interner.identity(labels), protocol, measured))
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


def _add_response(edge: Edge, code: str, flags: str, host: str, rate: float) -> None:
    detail = edge.responses.get(code)
    if detail is None:
        detail = edge.responses[code] = ResponseDetail()
    detail.flags[flags] = detail.flags.get(flags, 0.0) + rate
    detail.hosts[host] = detail.hosts.get(host, 0.0) + rate


@dataclass(slots=True)
class CompiledTraffic:
    """A graph type's traffic map built from compiled rows, with each identity's hops (for the latency phase)."""

    tm: TrafficMap
    resolver: PathResolver
    hops_of: list[tuple[Hop, ...]]


def build_compiled_traffic(samples: WindowSamples, options: GraphOptions, resolver: PathResolver) -> CompiledTraffic:
    """The traffic map of ``options.graph_type`` from the request and TCP rows, with mTLS set (no response times)."""
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

    # _add_response inlined: this loop runs once per row and edge of every graph type.
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
    for edge, (_, rate, flags, host, _, _, _) in tcp_rows:
        edge.rate += rate
        edge.throughput = (edge.throughput or 0.0) + rate
        _add_response(edge, "-", flags, host, rate)
    compute_node_rates(tm)
    # mTLS and principals, as SecurityStep: the counted rows with traffic, requests then TCP.
    for edge, (_, rate, _, _, _, _, secured, source_principal, dest_principal) in rows:
        edge.add_security(rate, secured, source_principal, dest_principal)
    for edge, (_, rate, _, _, secured, source_principal, dest_principal) in tcp_rows:
        edge.add_security(rate, secured, source_principal, dest_principal)
    return CompiledTraffic(tm, resolver, hops_of)


def add_compiled_latencies(traffic: CompiledTraffic, samples: WindowSamples) -> TrafficMap:
    """Merge the compiled latency rows into the traffic map's edges, as ResponseTimeStep does; return the map.

    Identities compiled after the traffic (met only in latency rows) are resolved here, as the one-pass build
    resolves them: resolving adds workloads and destination services to the nodes it returns.
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
    return traffic.tm
