"""Serialize a traffic map to Kiali's Cytoscape JSON shape (``docs/graph.md`` documents every field).

Like Kiali, numbers are strings: rates with at least 2 decimals (more for tiny rates, so one significant
digit shows, up to 5), percentages with 1 decimal, ``isMTLS``/``responseTime``/``throughput`` rounded.
Flags that are false and empty fields are omitted.  Ids are 128-bit SHA-256 hex prefixes of the readable internal
ids (stable across runs), or the readable ids themselves with ``id_style="readable"``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Mapping
from typing import Any

try:  # orjson is ~10x faster than the standard library for multi-megabyte graphs; the output is made identical
    import orjson
except ImportError:  # pragma: no cover - the standard library gives the same bytes, only slower
    orjson = None  # type: ignore[assignment]

from topology.graph.model import BoxNode, Edge, GraphOptions, HealthAnnotation, Node, TrafficMap
from topology.graph.reporters import AMBIENT_TRAFFIC

NODE_RATE_KEYS: dict[str, tuple[str, ...]] = {
    "grpc": ("grpcIn", "grpcInNoResponse", "grpcInErr", "grpcOut"),
    "http": ("httpIn", "httpInNoResponse", "httpIn3xx", "httpIn4xx", "httpIn5xx", "httpOut"),
    "tcp": ("tcpIn", "tcpOut"),
}
_BOX_RANK = {"cluster": 0, "namespace": 1, "app": 2}
_JSON_ESCAPE_ERRORS = "mesh-ui-json-escape"
#: Wire ids are the first 128 bits of a SHA-256: as long as Kiali's (MD5) ids, and a third less to store.
_ID_HEX_DIGITS = 32


def _escape_non_ascii(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: write non-ASCII characters as ``json.dumps`` (``ensure_ascii=True``) does."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code < 0x10000:
            escaped.append(f"\\u{code:04x}")
        else:  # outside the BMP: a UTF-16 surrogate pair
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
    return "".join(escaped), error.end


codecs.register_error(_JSON_ESCAPE_ERRORS, _escape_non_ascii)


def encode_graph_json(graph: Any) -> bytes:
    """Compact JSON bytes, identical to ``json.dumps(graph, separators=(",", ":")).encode()``, but fast.

    orjson differs from the standard library only in writing DEL and non-ASCII characters raw (the standard
    library escapes them as ``\\uXXXX``), so those are escaped afterwards.
    """
    if orjson is None:
        return json.dumps(graph, separators=(",", ":")).encode()
    try:
        body = orjson.dumps(graph)
    except TypeError:  # what orjson refuses (lone surrogates, huge ints, non-str keys): the standard library
        return json.dumps(graph, separators=(",", ":")).encode()
    if b"\x7f" in body:  # DEL: json.dumps escapes it, orjson does not (never seen in a graph)
        return json.dumps(graph, separators=(",", ":")).encode()
    if body.isascii():
        return body
    # Only the non-ASCII runs go through the error handler; the ASCII rest is copied by the codec.
    return body.decode().encode("ascii", _JSON_ESCAPE_ERRORS)


def decode_graph_json(body: bytes) -> Any:
    """Parse JSON bytes (orjson when installed; same result as ``json.loads``)."""
    if orjson is None:
        return json.loads(body)
    return orjson.loads(body)


def format_rate(value: float, min_precision: int = 2) -> str:
    """Format a rate like Kiali: ``min_precision`` decimals, more (up to 5) so a significant digit shows."""
    if value >= 1 or value <= 0:  # the common case: no extra digit needed
        return f"{value:.{min_precision}f}"
    precision = min_precision
    if value > 0:
        scaled, needed = value, 0
        while scaled < 1 and needed < 5:
            scaled *= 10
            needed += 1
        precision = max(precision, needed)
    return f"{value:.{precision}f}"


def format_percent(value: float) -> str:
    """Format a percentage with one decimal (Kiali's precision for ``*PercentReq``/``*PercentErr``)."""
    return f"{value:.1f}"


class WireIds:
    """Maps readable internal ids to wire ids (hashed or readable), memoized.

    One instance may serve several graphs (the snapshot build shares one across its graph types and windows),
    so node and edge ids are hashed once per snapshot, and so are the formatted numbers (see :meth:`fixed`).
    """

    def __init__(self, readable: bool = False) -> None:
        """Hash ids unless ``readable``."""
        self.readable = readable
        self._cache: dict[str, str] = {}
        self._edges: dict[str, str] = {}
        self._ends: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        self._numbers: tuple[dict[float, str], ...] = ({}, {}, {})
        self._rates: dict[float, str] = {}

    def node(self, internal_id: str) -> str:
        """Wire id for a node or box."""
        if self.readable:
            return internal_id
        wire_id = self._cache.get(internal_id)
        if wire_id is None:
            wire_id = hashlib.sha256(internal_id.encode()).hexdigest()[:_ID_HEX_DIGITS]
            self._cache[internal_id] = wire_id
        return wire_id

    def edge(self, source: str, target: str, protocol: str) -> str:
        """Wire id for an edge from the wire ids of its ends and its protocol."""
        key = f"{source}.{target}.{protocol}"
        if self.readable:
            return key
        wire_id = self._edges.get(key)
        if wire_id is None:
            wire_id = self._edges[key] = hashlib.sha256(key.encode()).hexdigest()[:_ID_HEX_DIGITS]
        return wire_id

    def edge_ends(self, source: str, target: str, protocol: str) -> tuple[str, str, str]:
        """``(edge id, source id, target id)`` on the wire for the internal ids of an edge's ends, memoized."""
        key = (source, target, protocol)
        ends = self._ends.get(key)
        if ends is None:
            source_id, target_id = self.node(source), self.node(target)
            ends = self._ends[key] = (self.edge(source_id, target_id, protocol), source_id, target_id)
        return ends

    def fixed(self, value: float, decimals: int) -> str:
        """``f"{value:.<decimals>f}"`` for 0, 1 or 2 decimals, memoized (graphs repeat the same numbers a lot)."""
        if not value:  # 0.0 and -0.0 compare equal but print differently: never cached
            return f"{value:.{decimals}f}"
        numbers = self._numbers[decimals]
        text = numbers.get(value)
        if text is None:
            text = numbers[value] = f"{value:.{decimals}f}"
        return text

    def rate(self, value: float) -> str:
        """:func:`format_rate` with its default precision, memoized like :meth:`fixed`."""
        if not value:
            return format_rate(value)
        text = self._rates.get(value)
        if text is None:
            text = self._rates[value] = format_rate(value)
        return text


def _health_fields(data: dict[str, Any], health: HealthAnnotation | None) -> None:
    if health is None:
        return
    data["healthStatus"] = health.status
    if health.reason:
        data["healthReason"] = health.reason
    if health.warnings:
        data["healthWarnings"] = list(health.warnings)
    if health.config:
        data["hasHealthConfig"] = dict(health.config)


def build_node_data(node: Node, ids: WireIds) -> dict[str, Any]:
    """The ``data`` object of one node."""
    data: dict[str, Any] = {
        "id": ids.node(node.id),
        "nodeType": node.node_type,
        "cluster": node.cluster,
        "namespace": node.namespace,
    }
    if node.parent:
        data["parent"] = ids.node(node.parent)
    for key, value in (("workload", node.workload), ("app", node.app), ("version", node.version)):
        if value:
            data[key] = value
    if node.service:
        data["service"] = node.service
    if node.dest_services:
        data["destServices"] = [
            {"cluster": s.cluster, "namespace": s.namespace, "name": s.name}
            for s in sorted(node.dest_services.values(), key=lambda s: (s.cluster, s.namespace, s.name))
        ]
    traffic = []
    for protocol, keys in NODE_RATE_KEYS.items():
        rates = {key: ids.rate(node.rates[key]) for key in keys if node.rates.get(key, 0.0) > 0}
        if rates:
            traffic.append({"protocol": protocol, "rates": rates})
    if traffic:
        data["traffic"] = traffic
    if node.is_gateway is not None:
        info_key = "egressInfo" if node.is_gateway.kind == "egress" else "ingressInfo"
        data["isGateway"] = {info_key: {"hostnames": list(node.is_gateway.hostnames)}}
    if node.is_waypoint:
        data["isWaypoint"] = True
    if node.is_service_entry is not None:
        entry = node.is_service_entry
        data["isServiceEntry"] = {
            "location": entry.location,
            "hosts": list(entry.hosts),
            "namespace": entry.namespace,
        }
    if node.has_vs is not None:
        data["hasVS"] = {"hostnames": list(node.has_vs)}
    for config_flag in sorted(node.config_flags) if node.config_flags else ():
        data[config_flag] = True
    if node.has_missing_sidecar:
        data["hasMissingSC"] = True
        data["isOutOfMesh"] = True
    for key, flag in (
        ("isDead", node.is_dead),
        ("isIdle", node.is_idle),
        ("isOutside", node.is_outside),
        ("isRoot", node.is_root),
    ):
        if flag:
            data[key] = True
    _health_fields(data, node.health)
    return data


def build_box_data(box: BoxNode, ids: WireIds) -> dict[str, Any]:
    """The ``data`` object of one box (compound) node."""
    data: dict[str, Any] = {
        "id": ids.node(box.id),
        "nodeType": "box",
        "cluster": box.cluster,
        "isBox": box.box,
    }
    data["namespace"] = box.namespace
    if box.app:
        data["app"] = box.app
    if box.parent:
        data["parent"] = ids.node(box.parent)
    if box.is_outside:
        data["isOutside"] = True
    if box.has_missing_sidecar:
        data["hasMissingSC"] = True
        data["isOutOfMesh"] = True
    _health_fields(data, box.health)
    return data


def build_edge_data(edge: Edge, tm: TrafficMap, ids: WireIds, options: GraphOptions) -> dict[str, Any]:
    """The ``data`` object of one edge."""
    return _EdgeWriter(tm, ids, options).data(edge)


#: ``protocol -> (error percent key, request percent key, source node's out-rate key)``.
_PERCENT_KEYS: dict[str, tuple[str, str, str]] = {
    protocol: (protocol + "PercentErr", protocol + "PercentReq", protocol + "Out") for protocol in ("http", "grpc")
}


#: The edge rate keys (**ext**) of a protocol's traffic by direction: tcp bytes/s and grpc messages/s sent and
#: received, http request and response body bytes/s (``topology.graph.derive`` answers the rate options from them).
_DIRECTION_KEYS: dict[str, tuple[str, str]] = {
    "tcp": ("tcpSent", "tcpReceived"),
    "grpc": ("grpcSent", "grpcReceived"),
    "http": ("httpRequestBytes", "httpResponseBytes"),
}


class _EdgeWriter:
    """Writes the ``data`` of a traffic map's edges, with the memos of :class:`WireIds` read inline.

    The per-edge work of a graph is mostly formatting numbers that repeat (memoized in ``ids``) and building a
    few small dicts; reading the memo dicts directly instead of through method calls makes it about twice as fast.
    Every number is the text :meth:`WireIds.fixed` / :meth:`WireIds.rate` gives (their memos never hold 0).
    """

    def __init__(self, tm: TrafficMap, ids: WireIds, options: GraphOptions) -> None:
        self.nodes = tm.nodes
        self.ids = ids
        self.stat = options.response_time_stat
        self.ends = ids._ends
        self.numbers = ids._numbers
        self.rates = ids._rates

    def data(self, edge: Edge) -> dict[str, Any]:
        """The ``data`` object of ``edge`` (see :func:`build_edge_data`)."""
        ids = self.ids
        fixed = ids.fixed
        fixed0, fixed1, fixed2 = self.numbers
        protocol = edge.protocol
        ends = self.ends.get((edge.source, edge.target, protocol))
        if ends is None:
            ends = ids.edge_ends(edge.source, edge.target, protocol)
        data: dict[str, Any] = {"id": ends[0], "source": ends[1], "target": ends[2]}
        traffic: dict[str, Any] = {"protocol": protocol}
        total = edge.rate
        if total > 0:
            text = self.rates.get(total)
            rates: dict[str, str] = {protocol: text if text is not None else ids.rate(total)}
            percent_keys = _PERCENT_KEYS.get(protocol)
            if edge.rate_no_response > 0:  # Kiali's httpNoResponse / grpcNoResponse, right after the total
                rates[protocol + "NoResponse"] = ids.rate(edge.rate_no_response)
            if protocol == "http":
                rate_3xx, rate_4xx, rate_5xx = edge.rate_3xx, edge.rate_4xx, edge.rate_5xx
                if rate_3xx > 0:
                    rates["http3xx"] = ids.rate(rate_3xx)
                if rate_4xx > 0:
                    rates["http4xx"] = ids.rate(rate_4xx)
                if rate_5xx > 0:
                    rates["http5xx"] = ids.rate(rate_5xx)
            elif protocol == "grpc" and edge.rate_grpc_err > 0:
                rates["grpcErr"] = ids.rate(edge.rate_grpc_err)
            if percent_keys is not None:
                error_key, request_key, out_key = percent_keys
                error_rate = edge.error_rate
                if error_rate > 0:
                    rates[error_key] = fixed(error_rate / total * 100, 1)
                source_out = self.nodes[edge.source].rates.get(out_key, 0.0)
                if source_out > 0:
                    share = total / source_out * 100
                    text = fixed1.get(share)
                    rates[request_key] = text if text is not None else fixed(share, 1)
            directions = _DIRECTION_KEYS[protocol]
            if protocol == "http":
                first, second = edge.request_bytes, edge.response_bytes
            else:
                first, second = edge.sent, edge.received
            if first > 0:
                rates[directions[0]] = ids.rate(first)
            if second > 0:
                rates[directions[1]] = ids.rate(second)
            traffic["rates"] = rates
            scale = 100.0 / total
            all_responses = edge.responses
            if all_responses:
                responses: dict[str, Any] = {}
                for code in sorted(all_responses) if len(all_responses) > 1 else all_responses:
                    detail = all_responses[code]
                    flags, hosts = detail.flags, detail.hosts
                    flag_texts: dict[str, str] = {}
                    for flag in sorted(flags) if len(flags) > 1 else flags:
                        share = flags[flag] * scale
                        text = fixed1.get(share)
                        flag_texts[flag] = text if text is not None else fixed(share, 1)
                    host_texts: dict[str, str] = {}
                    for host in sorted(hosts) if len(hosts) > 1 else hosts:
                        share = hosts[host] * scale
                        text = fixed1.get(share)
                        host_texts[host] = text if text is not None else fixed(share, 1)
                    responses[code] = {"flags": flag_texts, "hosts": host_texts}
                traffic["responses"] = responses
            if edge.mtls_rate > 0:
                secured = min(edge.mtls_rate / total * 100, 100.0)
                text = fixed0.get(secured)
                data["isMTLS"] = text if text is not None else fixed(secured, 0)
        data["traffic"] = traffic
        times = edge.response_times
        if times is not None:
            shown = getattr(times, self.stat)
            if shown is not None:
                text = fixed0.get(shown)
                data["responseTime"] = text if text is not None else fixed(shown, 0)
            stats: dict[str, str] = {}
            for stat, value in (("avg", times.avg), ("p50", times.p50), ("p95", times.p95), ("p99", times.p99)):
                if value is not None:
                    text = fixed2.get(value)
                    stats[stat] = text if text is not None else fixed(value, 2)
            if stats:
                data["responseTimes"] = stats
        throughput = edge.throughput
        if throughput is not None and throughput > 0:
            data["throughput"] = fixed(throughput, 0)
        if len(edge.source_principals) == 1:
            data["sourcePrincipal"] = next(iter(edge.source_principals))
        if len(edge.dest_principals) == 1:
            data["destPrincipal"] = next(iter(edge.dest_principals))
        if edge.ambient_parts:
            data["ambientParts"] = build_ambient_parts_data(edge.ambient_parts)
        health = edge.health
        if health is not None:  # as _health_fields, without hasHealthConfig (edges never carry it)
            data["healthStatus"] = health.status
            if health.reason:
                data["healthReason"] = health.reason
            if health.warnings:
                data["healthWarnings"] = list(health.warnings)
        return data


def ambient_mask_name(mask: int) -> str:
    """The ``ambientTraffic`` values of a mask, comma-separated in Kiali's order (``"waypoint,total"``)."""
    return ",".join(option for bit, option in enumerate(AMBIENT_TRAFFIC) if mask & (1 << bit))


def build_ambient_parts_data(parts: Mapping[int, Edge]) -> dict[str, Any]:
    """An edge's ``ambientParts`` (**ext**): per set of ``ambientTraffic`` values, the traffic of the rows only those
    values count, in absolute numbers (``rates``: the edge's rate keys without percentages; ``responses``: code ->
    flags and hosts -> rate), so :mod:`topology.graph.ambient_options` can subtract or add it."""
    found: dict[str, Any] = {}
    for mask in sorted(parts):
        part = parts[mask]
        if part.rate <= 0:
            continue
        protocol = part.protocol
        numbers = {
            protocol: part.rate,
            protocol + "NoResponse": part.rate_no_response,
            "http3xx": part.rate_3xx,
            "http4xx": part.rate_4xx,
            "http5xx": part.rate_5xx,
            "grpcErr": part.rate_grpc_err,
        }
        if protocol == "tcp":
            numbers.update({"tcpSent": part.sent, "tcpReceived": part.received})
        responses = {
            code: {
                "flags": {flag: format_rate(value) for flag, value in sorted(detail.flags.items())},
                "hosts": {host: format_rate(value) for host, value in sorted(detail.hosts.items())},
            }
            for code, detail in sorted(part.responses.items())
        }
        rates = {key: format_rate(value) for key, value in numbers.items() if value > 0}
        found[ambient_mask_name(mask)] = {"rates": rates, "responses": responses}
    return found


def node_order_key(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key of a node's ``data`` in the wire order: boxes first (cluster, namespace, app), then by identity."""
    return (
        _BOX_RANK.get(data.get("isBox", ""), 3),
        data.get("cluster", ""),
        data.get("namespace", ""),
        data.get("app", ""),
        data.get("version", ""),
        data.get("service", ""),
        data.get("workload", ""),
        data["id"],
    )


def build_graph_wire(
    tm: TrafficMap, options: GraphOptions, timestamp: int, duration: int, ids: WireIds | None = None
) -> dict[str, Any]:
    """Serialize ``tm`` to ``{"timestamp", "duration", "graphType", "elements": {"nodes", "edges"}}``.

    Nodes are sorted boxes first (cluster, namespace, app), then by cluster/namespace/app/version/service/
    workload; edges by source, target and protocol, so equal maps give byte-identical JSON. ``ids`` may be shared
    by several graphs of the same ``id_style`` (its memos then serve them all).
    """
    if ids is None or ids.readable != (options.id_style == "readable"):
        ids = WireIds(readable=options.id_style == "readable")
    nodes = [build_node_data(node, ids) for node in tm.nodes.values()]
    nodes += [build_box_data(box, ids) for box in tm.boxes.values()]
    nodes.sort(key=node_order_key)
    write = _EdgeWriter(tm, ids, options).data
    edges = [write(edge) for edge in tm.edges.values()]
    edges.sort(key=_edge_order_key)
    return {
        "timestamp": int(timestamp),
        "duration": int(duration),
        "graphType": options.graph_type,
        "elements": {"nodes": [{"data": n} for n in nodes], "edges": [{"data": e} for e in edges]},
    }


def _edge_order_key(data: dict[str, Any]) -> tuple[str, str, str]:
    return (data["source"], data["target"], data["traffic"]["protocol"])
