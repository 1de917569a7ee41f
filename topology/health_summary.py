"""Pure extraction of per-entity health from built graphs, and namespace summaries.

The graph pipeline's health step annotates every workload, app and service node; a snapshot keeps those
annotations (from graphs built with idle nodes, so entities without traffic are included) as its health.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from topology.health import HealthResult, HealthStatus, compute_namespace_health

# Which graph type carries the health of which entity kind, and the node field naming the entity.
HEALTH_SOURCES: dict[str, tuple[str, str, str]] = {
    "workload": ("workload", "workload", "workload"),
    "app": ("app", "app", "app"),
    "service": ("service", "service", "service"),
}


def extract_entity_health(graph: Mapping[str, Any], node_type: str, name_field: str) -> dict[str, dict[str, Any]]:
    """``{"namespace/name": {"status", "reason", "warnings"}}`` for the graph's nodes of ``node_type``.

    Nodes outside the mesh's namespaces (``isOutside``) are kept: their health is as true as any other's.
    """
    health: dict[str, dict[str, Any]] = {}
    for element in graph.get("elements", {}).get("nodes", []):
        data = element.get("data", {})
        if data.get("nodeType") != node_type or "healthStatus" not in data or data.get("isBox"):
            continue
        name = data.get(name_field)
        if not name or name == "unknown":
            continue
        entry: dict[str, Any] = {"status": data["healthStatus"], "reason": data.get("healthReason", "")}
        if data.get("healthWarnings"):
            entry["warnings"] = list(data["healthWarnings"])
        if data.get("isIdle"):
            entry["idle"] = True
        health[f"{data.get('namespace', '')}/{name}"] = entry
    return health


def summarize_namespaces(entities: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per namespace: counts per status and the worst status, from ``{"ns/name": {"status": ...}}``."""
    by_namespace: dict[str, list[HealthResult]] = defaultdict(list)
    for key, entry in entities.items():
        namespace = key.split("/", 1)[0]
        by_namespace[namespace].append(HealthResult(HealthStatus(entry["status"])))
    summary = {}
    for namespace, results in by_namespace.items():
        health = compute_namespace_health(results)
        summary[namespace] = {
            "status": health.status.value,
            "reason": health.reason,
            "counts": {status.value: count for status, count in health.counts.items() if count},
        }
    return summary


def build_snapshot_health(graphs_by_type: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The health stored with a snapshot: per kind and entity, and per namespace (summarised over apps)."""
    health: dict[str, Any] = {}
    for kind, (graph_type, node_type, name_field) in HEALTH_SOURCES.items():
        graph = graphs_by_type.get(graph_type)
        health[kind] = extract_entity_health(graph, node_type, name_field) if graph else {}
    health["namespaces"] = summarize_namespaces(health["app"])
    return health


def filter_health(health: Mapping[str, Any], kind: str, namespaces: Iterable[str] | None) -> dict[str, Any]:
    """The entries of one kind, limited to ``namespaces`` when given (an empty list: none)."""
    wanted = set(namespaces) if namespaces is not None else None
    entries = health.get(kind, {})
    return {key: value for key, value in entries.items() if wanted is None or key.split("/", 1)[0] in wanted}
