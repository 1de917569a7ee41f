"""Pure: a stored graph as a user granted only some namespaces may see it.

Nodes of granted namespaces stay as stored. Every node of a namespace the user may not read collapses into one
opaque node per cluster (:func:`restricted_node_id`: ``nodeType`` ``unknown``, ``isRestricted``, no namespace, app,
workload or service name, no box), and the edges between it and granted nodes are merged per direction and
protocol: rates, throughput and response codes summed, response times and mTLS share weighted by rate, the worst
health kept. Nothing of a hidden node survives: not its name, not its id (ids are hashes of names), not the hosts
in response details, not the SPIFFE principals, not a health reason. Edges with no granted end are dropped.

Nodes without a namespace (``unknown``: the caller Istio could not identify, external hosts Istio could not place)
hide nothing; they stay when they link to a granted node. Cluster boxes stay while they hold a kept node.

Run it before :func:`topology.graph.filtering.filter_graph`, which then narrows to the requested namespaces and
flags the opaque node ``isOutside`` like any far end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from topology.graph.wire import format_percent, format_rate
from topology.health import HealthStatus, worst_status

RESTRICTED_LABEL = "restricted"
#: Namespace values that name no namespace, so nothing is hidden behind them.
UNPLACED_NAMESPACES = frozenset({"unknown"})
#: Rate keys summed when edges merge; the percentages are computed again from them.
_SUMMED_RATES = ("http", "http3xx", "http4xx", "http5xx", "grpc", "grpcErr", "tcp")
_NODE_RATES = {"http": ("httpIn", "httpOut"), "grpc": ("grpcIn", "grpcOut"), "tcp": ("tcpIn", "tcpOut")}
_PROTOCOL_ORDER = ("grpc", "http", "tcp")


def restricted_node_id(cluster: str) -> str:
    """The id of the opaque node standing for the hidden namespaces of ``cluster``."""
    return f"{RESTRICTED_LABEL}-{cluster}" if cluster else RESTRICTED_LABEL


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _edge_rate(data: Mapping[str, Any]) -> float:
    traffic = data.get("traffic") or {}
    return _float((traffic.get("rates") or {}).get(traffic.get("protocol", "")))


def _edge_id(source: str, target: str, protocol: str) -> str:
    # Kiali's scheme (hash of source, target and protocol), over ids that hold no hidden name.
    return hashlib.sha256(f"{source}.{target}.{protocol}".encode()).hexdigest()[:32]


def _merge_responses(edges: list[Mapping[str, Any]], total: float) -> dict[str, Any]:
    """Response codes and flags of merged edges as shares of the merged total; hosts are left out (they name)."""
    codes: dict[str, float] = {}
    flags: dict[str, dict[str, float]] = {}
    for data in edges:
        rate = _edge_rate(data)
        for code, detail in ((data.get("traffic") or {}).get("responses") or {}).items():
            codes[code] = codes.get(code, 0.0) + rate
            for flag, share in ((detail or {}).get("flags") or {}).items():
                per_code = flags.setdefault(code, {})
                per_code[flag] = per_code.get(flag, 0.0) + rate * _float(share) / 100
    if total <= 0:
        return {}
    merged: dict[str, Any] = {}
    for code in sorted(codes):
        shares = sorted(flags.get(code, {}).items())
        merged[code] = {"flags": {flag: format_percent(value / total * 100) for flag, value in shares}}
    return merged


def _merge_response_times(edges: list[Mapping[str, Any]]) -> dict[str, str]:
    """``avg`` weighted by rate, quantiles as the maximum (an upper bound, as the pipeline merges them)."""
    weighted, weight = 0.0, 0.0
    quantiles: dict[str, float] = {}
    for data in edges:
        times = data.get("responseTimes") or {}
        rate = _edge_rate(data) or 1.0
        if "avg" in times:
            weighted += _float(times["avg"]) * rate
            weight += rate
        for key in ("p50", "p95", "p99"):
            if key in times:
                quantiles[key] = max(quantiles.get(key, 0.0), _float(times[key]))
    merged = {"avg": f"{weighted / weight:.2f}"} if weight else {}
    merged.update({key: f"{value:.2f}" for key, value in quantiles.items()})
    return merged


def merge_edges(source: str, target: str, protocol: str, edges: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One edge standing for ``edges`` (same protocol) between ``source`` and ``target``, with nothing that names."""
    sums = {key: 0.0 for key in _SUMMED_RATES}
    percent_req = 0.0
    for data in edges:
        rates = (data.get("traffic") or {}).get("rates") or {}
        for key in _SUMMED_RATES:
            sums[key] += _float(rates.get(key))
        percent_req += _float(rates.get(f"{protocol}PercentReq"))
    rates_out: dict[str, str] = {key: format_rate(value) for key, value in sums.items() if value > 0}
    total = sums.get(protocol, 0.0)
    if protocol == "http" and total > 0:
        rates_out["httpPercentErr"] = format_percent((sums["http4xx"] + sums["http5xx"]) / total * 100)
    if protocol == "grpc" and total > 0:
        rates_out["grpcPercentErr"] = format_percent(sums["grpcErr"] / total * 100)
    if percent_req > 0 and not source.startswith(RESTRICTED_LABEL):
        # Shares of one visible source's outgoing traffic add up; a merged source has no single share.
        rates_out[f"{protocol}PercentReq"] = format_percent(min(percent_req, 100.0))
    traffic: dict[str, Any] = {"protocol": protocol}
    if rates_out:
        traffic["rates"] = rates_out
    responses = _merge_responses(edges, total)
    if responses:
        traffic["responses"] = responses
    merged: dict[str, Any] = {"id": _edge_id(source, target, protocol), "source": source, "target": target}
    merged["traffic"] = traffic
    times = _merge_response_times(edges)
    if times:
        merged["responseTimes"] = times
        merged["responseTime"] = str(round(max(_float(value) for value in times.values())))
    secured = sum(_edge_rate(data) * _float(data.get("isMTLS")) / 100 for data in edges)
    if total > 0 and secured > 0:
        merged["isMTLS"] = str(round(secured / total * 100))
    throughput = sum(_float(data.get("throughput")) for data in edges)
    if throughput > 0:
        merged["throughput"] = str(round(throughput))
    statuses = [HealthStatus(data["healthStatus"]) for data in edges if data.get("healthStatus") in set(HealthStatus)]
    if statuses:
        merged["healthStatus"] = worst_status(statuses).value
    return merged


def _restricted_node(node_id: str, cluster: str, edges: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The opaque node, with its rates summed from its (merged) edges."""
    totals: dict[str, dict[str, float]] = {}
    for edge in edges:
        protocol = (edge.get("traffic") or {}).get("protocol", "")
        if protocol not in _NODE_RATES:
            continue
        into, out = _NODE_RATES[protocol]
        key = into if edge["target"] == node_id else out
        per_protocol = totals.setdefault(protocol, {})
        per_protocol[key] = per_protocol.get(key, 0.0) + _edge_rate(edge)
    traffic = [
        {"protocol": protocol, "rates": {key: format_rate(value) for key, value in totals[protocol].items() if value}}
        for protocol in _PROTOCOL_ORDER
        if protocol in totals and any(totals[protocol].values())
    ]
    data: dict[str, Any] = {"id": node_id, "nodeType": "unknown", "cluster": cluster, "isRestricted": True}
    if traffic:
        data["traffic"] = traffic
    return data


def _namespace(data: Mapping[str, Any]) -> str:
    return str(data.get("namespace") or "")


def restrict_graph(graph: Mapping[str, Any], granted: Collection[str]) -> dict[str, Any]:
    """``graph`` as seen by a user who may read only the namespaces ``granted`` (see the module docstring)."""
    allowed = set(granted)
    nodes: list[dict[str, Any]] = graph.get("elements", {}).get("nodes", [])
    edges: list[dict[str, Any]] = graph.get("elements", {}).get("edges", [])
    by_id = {node["data"]["id"]: node["data"] for node in nodes}

    def is_granted(data: Mapping[str, Any]) -> bool:
        return not data.get("isBox") and _namespace(data) in allowed

    def is_unplaced(data: Mapping[str, Any]) -> bool:
        return not data.get("isBox") and _namespace(data) in UNPLACED_NAMESPACES

    kept_ids = {node_id for node_id, data in by_id.items() if is_granted(data)}
    kept_edges: list[dict[str, Any]] = []
    linked_unplaced: set[str] = set()
    merging: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    restricted: dict[str, str] = {}  # opaque node id -> cluster
    for edge in edges:
        data = edge["data"]
        source, target = by_id.get(data["source"], {}), by_id.get(data["target"], {})
        source_ok, target_ok = data["source"] in kept_ids, data["target"] in kept_ids
        if source_ok and target_ok:
            kept_edges.append(_without_hidden_peers(edge, allowed))
        elif (source_ok and is_unplaced(target)) or (target_ok and is_unplaced(source)):
            kept_edges.append(_without_hidden_peers(edge, allowed))
            linked_unplaced.add(data["target"] if source_ok else data["source"])
        elif source_ok or target_ok:
            hidden = target if source_ok else source
            cluster = str(hidden.get("cluster") or "")
            opaque = restricted_node_id(cluster)
            restricted[opaque] = cluster
            ends = (data["source"], opaque) if source_ok else (opaque, data["target"])
            protocol = str((data.get("traffic") or {}).get("protocol", ""))
            merging.setdefault((*ends, protocol), []).append(data)
    kept_ids |= linked_unplaced
    merged = [{"data": merge_edges(*key, group)} for key, group in merging.items()]
    merged.sort(key=lambda edge: (edge["data"]["source"], edge["data"]["target"], edge["data"]["traffic"]["protocol"]))

    # Boxes: those holding a kept node (granted namespaces' boxes, cluster boxes), and nothing else.
    kept_boxes: set[str] = set()
    for node_id in kept_ids:
        parent = by_id[node_id].get("parent")
        while parent in by_id and parent not in kept_boxes:
            kept_boxes.add(str(parent))
            parent = by_id[str(parent)].get("parent")
    out_nodes: list[dict[str, Any]] = []
    for node in nodes:
        data = node["data"]
        if data["id"] in kept_boxes:
            out_nodes.append(node)
        elif data["id"] in kept_ids:
            out_nodes.append({"data": _without_hidden_services(data, allowed)})
    merged_data = [edge["data"] for edge in merged]
    out_nodes += [
        {"data": _restricted_node(node_id, cluster, (d for d in merged_data if node_id in (d["source"], d["target"])))}
        for node_id, cluster in sorted(restricted.items())
    ]
    result = {key: value for key, value in graph.items() if key != "elements"}
    result["elements"] = {"nodes": out_nodes, "edges": kept_edges + merged}
    return result


def _principal_namespace(principal: str) -> str | None:
    """The namespace in a SPIFFE id ``spiffe://<trust domain>/ns/<namespace>/sa/<account>``, None otherwise."""
    parts = principal.split("/")
    return parts[4] if len(parts) >= 7 and parts[0] == "spiffe:" and parts[3] == "ns" else None


def _host_namespace(host: str) -> str | None:
    """The namespace of a Kubernetes service host ``<service>.<namespace>.svc[...]``; None for other hosts."""
    labels = host.split(".")
    return labels[1] if len(labels) >= 3 and labels[2] == "svc" else None


def _is_hidden_host(host: str, allowed: set[str]) -> bool:
    namespace = _host_namespace(host)
    return namespace is not None and namespace not in allowed


def _without_hidden_peers(edge: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """A kept edge without the principals and service hosts of hidden namespaces it may carry.

    An edge between two granted nodes can still name a hidden one: a service node's edge to its workload carries the
    principal of the caller in front of the service, and routing may send a hidden service's host to a granted
    workload.
    """
    data = edge["data"]
    drop = [
        key
        for key in ("sourcePrincipal", "destPrincipal")
        if key in data and _principal_namespace(str(data[key])) not in allowed
    ]
    # The responses of the edge and of its ambient parts (topology.graph.ambient_options) name hosts.
    holders = [data.get("traffic") or {}, *(data.get("ambientParts") or {}).values()]
    hidden_hosts = any(
        _is_hidden_host(host, allowed)
        for holder in holders
        for detail in (holder.get("responses") or {}).values()
        for host in (detail or {}).get("hosts") or {}
    )
    if not drop and not hidden_hosts:
        return edge
    cleaned = {key: value for key, value in data.items() if key not in drop}
    if hidden_hosts:
        cleaned["traffic"] = _with_visible_hosts(cleaned["traffic"], allowed)
        if "ambientParts" in cleaned:
            parts = cleaned["ambientParts"].items()
            cleaned["ambientParts"] = {name: _with_visible_hosts(part, allowed) for name, part in parts}
    return {"data": cleaned}


def _with_visible_hosts(holder: Mapping[str, Any], allowed: set[str]) -> dict[str, Any]:
    """A copy of ``holder`` (an edge's traffic or ambient part) whose responses name no hidden host."""
    copied = dict(holder)
    if "responses" in copied:
        copied["responses"] = {
            code: _visible_hosts(detail or {}, allowed) for code, detail in holder["responses"].items()
        }
    return copied


def _visible_hosts(detail: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    hosts = {host: share for host, share in (detail.get("hosts") or {}).items() if not _is_hidden_host(host, allowed)}
    trimmed = {key: value for key, value in detail.items() if key != "hosts"}
    if hosts:
        trimmed["hosts"] = hosts
    return trimmed


def _without_hidden_services(data: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """A granted node's data without the services of hidden namespaces it was requested through."""
    services = data.get("destServices")
    if not services:
        return data
    visible = [s for s in services if s.get("namespace") in allowed or s.get("namespace") in UNPLACED_NAMESPACES]
    if len(visible) == len(services):
        return data
    trimmed = dict(data)
    if visible:
        trimmed["destServices"] = visible
    else:
        trimmed.pop("destServices")
    return trimmed
