"""Pure: the neighbours of one node of a stored graph (who calls it, whom it calls), as table rows.

Used by the detail pages' mini-graph; works on the Kiali-shaped graph dict (see ``docs/graph.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from topology.graph.restriction import RESTRICTED_LABEL

# Node type → the URL name of its detail page.
DETAIL_ROUTES = {"workload": "dashboard:workload", "service": "dashboard:service", "app": "dashboard:application"}


@dataclass(frozen=True)
class Neighbour:
    """One edge from or to the node, described by the node at its other end."""

    node_type: str
    namespace: str
    name: str
    protocol: str
    rate: float
    error_percent: float
    p95_ms: str
    health: str
    url: str = ""

    @property
    def unit(self) -> str:
        return "B/s" if self.protocol == "tcp" else "req/s"


def _name(data: Mapping[str, Any]) -> str:
    if data.get("isRestricted"):
        return RESTRICTED_LABEL
    node_type = data.get("nodeType")
    if node_type == "service":
        return str(data.get("service", ""))
    if node_type == "app":
        return str(data.get("app", ""))
    if node_type == "workload":
        return str(data.get("workload", ""))
    return "unknown"


def _url(data: Mapping[str, Any]) -> str:
    route = DETAIL_ROUTES.get(str(data.get("nodeType")))
    namespace, name = data.get("namespace"), _name(data)
    if route is None or not namespace or namespace == "unknown" or not name or data.get("isServiceEntry"):
        return ""
    return reverse(route, kwargs={"namespace": namespace, "name": name})


def _neighbour(edge: Mapping[str, Any], other: Mapping[str, Any]) -> Neighbour:
    traffic = edge.get("traffic") or {}
    protocol = str(traffic.get("protocol", ""))
    rates = traffic.get("rates") or {}
    return Neighbour(
        node_type=str(other.get("nodeType", "")),
        namespace=str(other.get("namespace", "")),
        name=_name(other),
        protocol=protocol,
        rate=float(rates.get(protocol, 0) or 0),
        error_percent=float(rates.get(f"{protocol}PercentErr", 0) or 0),
        p95_ms=str((edge.get("responseTimes") or {}).get("p95", "")),
        health=str(edge.get("healthStatus", "")),
        url=_url(other),
    )


def find_neighbours(
    graph: Mapping[str, Any], node_type: str, namespace: str, name: str
) -> tuple[list[Neighbour], list[Neighbour]]:
    """``(inbound, outbound)`` neighbours of the node of ``node_type`` named ``namespace/name``, busiest first."""
    nodes = {
        element["data"]["id"]: element["data"]
        for element in (graph.get("elements") or {}).get("nodes") or []
        if not element.get("data", {}).get("isBox")
    }
    ids = {
        node_id
        for node_id, data in nodes.items()
        if data.get("nodeType") == node_type and data.get("namespace") == namespace and _name(data) == name
    }
    inbound, outbound = [], []
    for element in (graph.get("elements") or {}).get("edges") or []:
        edge = element.get("data", {})
        source, target = edge.get("source"), edge.get("target")
        if target in ids and source not in ids and source in nodes:
            inbound.append(_neighbour(edge, nodes[source]))
        if source in ids and target not in ids and target in nodes:
            outbound.append(_neighbour(edge, nodes[target]))
    inbound.sort(key=lambda n: (-n.rate, n.namespace, n.name))
    outbound.sort(key=lambda n: (-n.rate, n.namespace, n.name))
    return inbound, outbound
