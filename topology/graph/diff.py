"""Pure comparison of two graphs: which edges appeared, disappeared or changed rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EdgeKey = tuple[str, str, str]


def _edge_rate(data: Mapping[str, Any]) -> float:
    traffic = data.get("traffic") or {}
    rates = traffic.get("rates") or {}
    protocol = traffic.get("protocol", "")
    raw = rates.get(protocol) if protocol in ("http", "grpc", "tcp") else None
    try:
        return float(raw) if raw is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _edges(graph: Mapping[str, Any]) -> dict[EdgeKey, dict[str, Any]]:
    nodes = {n["data"]["id"]: n["data"] for n in graph.get("elements", {}).get("nodes", [])}

    def label(node_id: str) -> str:
        data = nodes.get(node_id, {})
        name = data.get("workload") or data.get("app") or data.get("service") or node_id
        version = f":{data['version']}" if data.get("version") and data.get("nodeType") == "app" else ""
        return f"{data.get('namespace', '')}/{name}{version}"

    edges = {}
    for edge in graph.get("elements", {}).get("edges", []):
        data = edge["data"]
        protocol = (data.get("traffic") or {}).get("protocol", "")
        key = (data["source"], data["target"], protocol)
        edges[key] = {
            "source": data["source"],
            "target": data["target"],
            "sourceLabel": label(data["source"]),
            "targetLabel": label(data["target"]),
            "protocol": protocol,
            "rate": _edge_rate(data),
        }
    return edges


def compute_graph_diff(older: Mapping[str, Any], newer: Mapping[str, Any], min_change: float = 0.01) -> dict[str, Any]:
    """Edges added and removed between two graphs, and rate changes of at least ``min_change`` (relative)."""
    before, after = _edges(older), _edges(newer)
    added = [after[key] for key in after.keys() - before.keys()]
    removed = [before[key] for key in before.keys() - after.keys()]
    changed = []
    for key in before.keys() & after.keys():
        old_rate, new_rate = before[key]["rate"], after[key]["rate"]
        base = max(abs(old_rate), 1e-9)
        if abs(new_rate - old_rate) / base >= min_change:
            changed.append({**after[key], "rateBefore": old_rate, "rateAfter": new_rate, "delta": new_rate - old_rate})
    ordering = lambda item: (item["sourceLabel"], item["targetLabel"], item["protocol"])  # noqa: E731
    return {
        "added": sorted(added, key=ordering),
        "removed": sorted(removed, key=ordering),
        "changed": sorted(changed, key=ordering),
    }
