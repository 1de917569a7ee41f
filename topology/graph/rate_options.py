"""Kiali's rate options answered from a stored graph: ``rateTcp``, ``rateGrpc`` messages, ``throughputType``; and
which protocols are read (``rateHttp``/``rateGrpc=none``, :func:`apply_rate_options`) and which response-time
statistic edges show (``responseTime``, :func:`pick_response_time`).

A stored edge keeps its traffic by direction next to its default rate (``topology.graph.wire``'s ``_DIRECTION_KEYS``):
tcp edges their bytes/s sent and received (``tcpSent``/``tcpReceived``; the stored ``tcp`` rate is their total), grpc
edges their messages/s sent and received (``grpcSent``/``grpcReceived``, from ``istio_request_messages_total`` /
``istio_response_messages_total``; the stored ``grpc`` rate is requests/s), http edges their request and response
body bytes/s (``httpRequestBytes``/``httpResponseBytes``, from ``istio_request_bytes_sum`` /
``istio_response_bytes_sum``).  :func:`apply_direction_options` turns the stored graph into Kiali's answer for an
option:

- ``rateTcp=sent|received``: each tcp edge's ``tcp`` rate and ``throughput`` become that direction's bytes/s
  (``total``, what snapshots store, changes nothing); the nodes' ``tcpIn``/``tcpOut`` are summed again.
- ``rateGrpc=sent|received|total``: each grpc edge's ``grpc`` rate becomes messages/s (requests sent by clients,
  responses sent by servers, or both); messages carry no status, so the error rates and the response breakdown go,
  as in Kiali, whose message edges have none; ``grpcPercentReq`` and the nodes' ``grpcIn``/``grpcOut`` are computed
  again from the messages.
- ``throughputType=request|response``: each http edge gets ``throughput`` (bytes/s) of that direction, as Kiali's
  throughput appender sets it for the "Throughput" edge label.

An edge with traffic but neither direction key (a snapshot stored before they were, or telemetry without the metric)
keeps its stored rate, and the answer says so in ``warning``.  Pure functions over wire-format graphs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Final

from topology.graph.derive import _assemble, _copy_elements, _num, _protocol, edge_rate
from topology.graph.wire import format_percent, format_rate

#: ``option value -> the direction keys it sums`` per protocol.
TCP_DIRECTIONS: Final = {"sent": ("tcpSent",), "received": ("tcpReceived",)}
GRPC_DIRECTIONS: Final = {
    "sent": ("grpcSent",),
    "received": ("grpcReceived",),
    "total": ("grpcSent", "grpcReceived"),
}
THROUGHPUT_KEYS: Final = {"request": "httpRequestBytes", "response": "httpResponseBytes"}
THROUGHPUT_TYPES: Final = tuple(THROUGHPUT_KEYS)
_ALL_KEYS: Final = {"tcp": ("tcpSent", "tcpReceived"), "grpc": ("grpcSent", "grpcReceived")}
_NODE_KEYS: Final = {"tcp": ("tcpIn", "tcpOut"), "grpc": ("grpcIn", "grpcOut")}
#: The order of a node's ``traffic`` entries (Kiali's).
_PROTOCOL_ORDER: Final = ("grpc", "http", "tcp")


def _retarget(data: dict[str, Any], protocol: str, keys: tuple[str, ...]) -> bool:
    """Make the edge's ``protocol`` rate the sum of its direction ``keys``; False when it has traffic but no
    direction key (left as stored)."""
    traffic = data.get("traffic") or {}
    rates = traffic.get("rates")
    if not rates:
        return True
    if not any(key in rates for key in _ALL_KEYS[protocol]):
        return False
    value = sum(_num(rates.get(key)) for key in keys)
    directions = {key: rates[key] for key in _ALL_KEYS[protocol] if key in rates}
    if protocol == "grpc":  # messages have no status: no error rates, no response breakdown
        traffic.pop("responses", None)
        new_rates = {"grpc": format_rate(value), **directions} if value > 0 else None
    else:
        new_rates = {**rates, "tcp": format_rate(value)} if value > 0 else None
        if value > 0:
            data["throughput"] = f"{value:.0f}"
        else:
            data.pop("throughput", None)
    if new_rates is None:
        traffic.pop("rates", None)
        traffic.pop("responses", None)
    else:
        traffic["rates"] = new_rates
    return True


def _recompute_node_rates(by_id: Mapping[str, dict[str, Any]], edges: list[dict[str, Any]], protocol: str) -> None:
    """Every node's ``<protocol>In``/``<protocol>Out`` as the sums of its edges' rates (the other protocols stay)."""
    in_key, out_key = _NODE_KEYS[protocol]
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for data in edges:
        if _protocol(data) != protocol:
            continue
        rate = _num(((data.get("traffic") or {}).get("rates") or {}).get(protocol))
        sums[data["target"]][in_key] += rate
        sums[data["source"]][out_key] += rate
    for node_id, data in by_id.items():
        if data.get("isBox"):
            continue
        entries = {entry.get("protocol"): entry for entry in data.get("traffic") or []}
        numbers = sums.get(node_id, {})
        rates = {key: format_rate(numbers[key]) for key in (in_key, out_key) if numbers.get(key, 0.0) > 0}
        if rates:
            entries[protocol] = {"protocol": protocol, "rates": rates}
        else:
            entries.pop(protocol, None)
        traffic = [entries[name] for name in _PROTOCOL_ORDER if name in entries]
        if traffic:
            data["traffic"] = traffic
        else:
            data.pop("traffic", None)


def _recompute_grpc_shares(edges: list[dict[str, Any]]) -> None:
    """``grpcPercentReq``: each grpc edge's messages over its source's outgoing messages."""
    out_rate: dict[str, float] = defaultdict(float)
    grpc_edges = [data for data in edges if _protocol(data) == "grpc"]
    for data in grpc_edges:
        out_rate[data["source"]] += edge_rate(data)
    for data in grpc_edges:
        rates = (data.get("traffic") or {}).get("rates")
        total = out_rate[data["source"]]
        if rates and total > 0:
            rates["grpcPercentReq"] = format_percent(edge_rate(data) / total * 100)


def apply_direction_options(
    graph: Mapping[str, Any], rate_tcp: str = "total", rate_grpc: str = "requests", throughput_type: str = ""
) -> dict[str, Any]:
    """The stored graph as Kiali answers ``rateTcp``, ``rateGrpc`` (messages) and ``throughputType`` (see the module
    docstring); options at their stored meaning (``total``, ``requests``, no throughput type) change nothing."""
    by_id, edges = _copy_elements(graph)
    as_stored: dict[str, int] = defaultdict(int)
    for protocol, chosen in (("tcp", TCP_DIRECTIONS.get(rate_tcp)), ("grpc", GRPC_DIRECTIONS.get(rate_grpc))):
        if chosen is None:
            continue
        for data in edges:
            if _protocol(data) == protocol and not _retarget(data, protocol, chosen):
                as_stored[protocol] += 1
        _recompute_node_rates(by_id, edges, protocol)
    if rate_grpc in GRPC_DIRECTIONS:
        _recompute_grpc_shares(edges)
    throughput_key = THROUGHPUT_KEYS.get(throughput_type)
    if throughput_key is not None:
        for data in edges:
            if _protocol(data) == "http":
                value = _num(((data.get("traffic") or {}).get("rates") or {}).get(throughput_key))
                if value > 0:
                    data["throughput"] = f"{value:.0f}"
    result = _assemble(graph, by_id, set(by_id), edges)
    warnings = [
        f"{count} {protocol} edge(s) without {' or '.join(_ALL_KEYS[protocol])} keep their stored rate "
        f"(stored before directions were kept, or no such telemetry)"
        for protocol, count in sorted(as_stored.items())
    ]
    if warnings:
        result["warning"] = " ".join(warnings)
    return result


__all__: list[str] = ["THROUGHPUT_TYPES", "apply_direction_options"]


# --- which protocols and which response-time statistic (rateHttp, rateGrpc=none, responseTime) -------------------

RATE_HTTP: Final = ("requests", "none")
RATE_GRPC: Final = ("requests", "sent", "received", "total", "none")
RATE_TCP: Final = ("sent", "received", "total")
RESPONSE_TIME_STATS: Final = ("avg", "p50", "p95", "p99")


def apply_rate_options(
    graph: Mapping[str, Any], rate_http: str = "requests", rate_grpc: str = "requests"
) -> dict[str, Any]:
    """Leave out the protocols whose rate is ``none`` (Kiali then reads no telemetry of them): their edges, their
    node traffic, and nodes left without any edge that only had that traffic."""
    dropped = {p for p, rate in (("http", rate_http), ("grpc", rate_grpc)) if rate == "none"}
    if not dropped:
        return dict(graph)
    by_id, edges = _copy_elements(graph)
    kept = [d for d in edges if _protocol(d) not in dropped]
    linked = {d["source"] for d in kept} | {d["target"] for d in kept}
    keep = set()
    for node_id, data in by_id.items():
        if data.get("isBox"):
            continue
        traffic = [t for t in data.get("traffic") or [] if t.get("protocol") not in dropped]
        had_dropped = len(traffic) != len(data.get("traffic") or [])
        if traffic:
            data["traffic"] = traffic
        else:
            data.pop("traffic", None)
        if node_id in linked or not had_dropped:
            keep.add(node_id)
    return _assemble(graph, by_id, keep, kept)


def pick_response_time(graph: Mapping[str, Any], stat: str) -> dict[str, Any]:
    """Every edge's ``responseTime`` as the statistic ``stat`` of its ``responseTimes`` (Kiali's ``responseTime``
    option; snapshots store p95, Kiali's default)."""
    by_id, edges = _copy_elements(graph)
    for data in edges:
        value = (data.get("responseTimes") or {}).get(stat)
        if value is None:
            data.pop("responseTime", None)
        else:
            data["responseTime"] = f"{_num(value):.0f}"
    result = {key: value for key, value in graph.items() if key != "elements"}
    result["elements"] = {"nodes": [{"data": d} for d in by_id.values()], "edges": [{"data": d} for d in edges]}
    return result
