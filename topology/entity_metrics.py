"""Per-entity traffic metrics of one snapshot, computed from its graphs, for charts and sparklines.

Pure: Kiali-shaped graph dicts in (see ``docs/graph.md``), plain dicts out, no Django. A snapshot stores the
result as its ``metrics``; the metrics API and the overview read time series of it across snapshots.

Stored shape (only non-zero values are kept, rates rounded to 4 decimals)::

    {"workload": {"ns/name": EntityMetrics}, "app": {...}, "service": {...}, "namespace": {"ns": EntityMetrics}}

Every ``EntityMetrics`` may have ``inHttp``, ``inGrpc`` (requests/s), ``in4xx``, ``in5xx``, ``inGrpcErr``,
``inNoResponse`` (error requests/s; no response: http and grpc), ``tcpIn`` (bytes/s), the same with ``out``, and
response times in ms: inbound ``avg``, ``p50``, ``p95``, ``p99`` and outbound ``outAvg``... Response times are
weighted by the request rate of each edge (exact for ``avg``; for quantiles an approximation, since quantiles cannot
be merged exactly).
Namespaces have only inbound values: traffic entering the namespace from another namespace (or an unknown caller).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# Which graph type carries the metrics of which entity kind, the node type and the node field naming it.
METRIC_SOURCES: dict[str, tuple[str, str, str]] = {
    "workload": ("workload", "workload", "workload"),
    "app": ("app", "app", "app"),
    "service": ("service", "service", "service"),
}
# The graph the namespace inbound rates come from (the finest one).
NAMESPACE_SOURCE = "workload"
ENTITY_KINDS = ("workload", "app", "service", "namespace")
LATENCY_STATS = ("avg", "p50", "p95", "p99")

EntityMetrics = dict[str, float]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


class _Accumulator:
    """Sums of one entity's edges on one side (in or out): rates per class and rate-weighted latencies."""

    __slots__ = ("latency_sum", "latency_weight", "rates")

    def __init__(self) -> None:
        self.rates: dict[str, float] = defaultdict(float)
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_weight: dict[str, float] = defaultdict(float)

    def add_edge(self, edge: Mapping[str, Any]) -> None:
        traffic = edge.get("traffic") or {}
        protocol = traffic.get("protocol")
        rates = traffic.get("rates") or {}
        if protocol == "tcp":
            self.rates["tcp"] += _number(rates.get("tcp"))
            return
        if protocol == "http":
            total = _number(rates.get("http"))
            self.rates["Http"] += total
            self.rates["4xx"] += _number(rates.get("http4xx"))
            self.rates["5xx"] += _number(rates.get("http5xx"))
        elif protocol == "grpc":
            total = _number(rates.get("grpc"))
            self.rates["Grpc"] += total
            self.rates["GrpcErr"] += _number(rates.get("grpcErr"))
        else:
            return
        self.rates["NoResponse"] += _number(rates.get(protocol + "NoResponse"))
        times = edge.get("responseTimes") or {}
        if total <= 0:
            return
        for stat in LATENCY_STATS:
            if stat in times:
                self.latency_sum[stat] += _number(times[stat]) * total
                self.latency_weight[stat] += total

    def export(self, side: str, into: EntityMetrics) -> None:
        """Write the non-zero sums as ``inHttp``/``outHttp``..., ``tcpIn``/``tcpOut`` and latencies."""
        for key, value in self.rates.items():
            if value <= 0:
                continue
            name = f"tcp{side.capitalize()}" if key == "tcp" else f"{side}{key}"
            into[name] = round(value, 4)
        for stat, weight in self.latency_weight.items():
            if weight > 0:
                name = stat if side == "in" else f"out{stat.capitalize()}"
                into[name] = round(self.latency_sum[stat] / weight, 2)


def _node_key(data: Mapping[str, Any], node_type: str, name_field: str) -> str | None:
    if data.get("isBox") or data.get("nodeType") != node_type:
        return None
    name = data.get(name_field)
    if not name or name == "unknown":
        return None
    return f"{data.get('namespace', '')}/{name}"


def _elements(graph: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return [element.get("data", {}) for element in (graph.get("elements") or {}).get(kind) or []]


def compute_graph_entity_metrics(graph: Mapping[str, Any], node_type: str, name_field: str) -> dict[str, EntityMetrics]:
    """``{"namespace/name": EntityMetrics}`` for the graph's nodes of ``node_type`` that have traffic."""
    keys: dict[str, str] = {}
    for data in _elements(graph, "nodes"):
        key = _node_key(data, node_type, name_field)
        if key is not None:
            keys[data["id"]] = key
    inbound: dict[str, _Accumulator] = defaultdict(_Accumulator)
    outbound: dict[str, _Accumulator] = defaultdict(_Accumulator)
    for edge in _elements(graph, "edges"):
        source, target = keys.get(edge.get("source", "")), keys.get(edge.get("target", ""))
        if source is not None and source == target:
            continue  # a node calling itself is neither entering nor leaving it
        if target is not None:
            inbound[target].add_edge(edge)
        if source is not None:
            outbound[source].add_edge(edge)
    metrics: dict[str, EntityMetrics] = {}
    for key in sorted(set(inbound) | set(outbound)):
        entry: EntityMetrics = {}
        if key in inbound:
            inbound[key].export("in", entry)
        if key in outbound:
            outbound[key].export("out", entry)
        if entry:
            metrics[key] = entry
    return metrics


def compute_namespace_inbound(graph: Mapping[str, Any]) -> dict[str, EntityMetrics]:
    """Per namespace, the traffic of edges entering it from another namespace or an unknown caller."""
    namespaces = {
        data["id"]: str(data.get("namespace", "")) for data in _elements(graph, "nodes") if not data.get("isBox")
    }
    inbound: dict[str, _Accumulator] = defaultdict(_Accumulator)
    for edge in _elements(graph, "edges"):
        target = namespaces.get(edge.get("target", ""), "")
        if not target or target == "unknown":
            continue
        if namespaces.get(edge.get("source", "")) != target:
            inbound[target].add_edge(edge)
    metrics: dict[str, EntityMetrics] = {}
    for namespace in sorted(inbound):
        entry: EntityMetrics = {}
        inbound[namespace].export("in", entry)
        if entry:
            metrics[namespace] = entry
    return metrics


def build_snapshot_metrics(graphs_by_type: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The metrics stored with a snapshot, from its health-window graphs keyed by graph type."""
    metrics: dict[str, Any] = {}
    for kind, (graph_type, node_type, name_field) in METRIC_SOURCES.items():
        graph = graphs_by_type.get(graph_type)
        metrics[kind] = compute_graph_entity_metrics(graph, node_type, name_field) if graph else {}
    namespace_graph = graphs_by_type.get(NAMESPACE_SOURCE)
    metrics["namespace"] = compute_namespace_inbound(namespace_graph) if namespace_graph else {}
    return metrics


def _percent(part: float, total: float) -> float | None:
    return round(part / total * 100, 2) if total > 0 else None


def build_series_point(entry: Mapping[str, float] | None) -> dict[str, float | None]:
    """One point of an entity's time series, as the API sends it: rates, error percentages and latencies.

    Error rates are percentages of the requests of their protocol; latencies are ``None`` when not measured so
    charts show a gap instead of a false zero.
    """
    entry = entry or {}
    point: dict[str, float | None] = {}
    for side, prefix in (("in", ""), ("out", "out")):
        http, grpc = entry.get(f"{side}Http", 0.0), entry.get(f"{side}Grpc", 0.0)
        point[f"{side}Rate"] = round(http + grpc, 4)
        label = "errorRate" if side == "in" else "outErrorRate"
        point[f"{label}5xx"] = _percent(entry.get(f"{side}5xx", 0.0), http)
        point[f"{label}4xx"] = _percent(entry.get(f"{side}4xx", 0.0), http)
        point[f"{label}Grpc"] = _percent(entry.get(f"{side}GrpcErr", 0.0), grpc)
        point[f"{label}NoResponse"] = _percent(entry.get(f"{side}NoResponse", 0.0), http + grpc)
        for stat in LATENCY_STATS:
            key = stat if side == "in" else f"{prefix}{stat.capitalize()}"
            point[key] = entry.get(key)
    point["tcpIn"] = entry.get("tcpIn", 0.0)
    point["tcpOut"] = entry.get("tcpOut", 0.0)
    return point


def downsample(points: list[dict[str, Any]], max_points: int) -> list[dict[str, Any]]:
    """At most ``max_points`` points: consecutive points averaged into buckets (``t`` of the bucket's last point).

    ``None`` values are left out of a bucket's average; a bucket where every value is ``None`` stays ``None``.
    """
    if max_points <= 0 or len(points) <= max_points:
        return points
    size = -(-len(points) // max_points)
    result = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        merged: dict[str, Any] = {"t": bucket[-1]["t"]}
        for key in bucket[0]:
            if key == "t":
                continue
            values = [p[key] for p in bucket if p.get(key) is not None]
            merged[key] = round(sum(values) / len(values), 4) if values else None
        result.append(merged)
    return result


def sum_rates(entries: Iterable[Mapping[str, float] | None]) -> float:
    """Total request rate (http + grpc) inbound over several entries, e.g. for a sparkline value."""
    return sum((e or {}).get("inHttp", 0.0) + (e or {}).get("inGrpc", 0.0) for e in entries)
