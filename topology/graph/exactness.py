"""When a graph without service nodes is exactly its graph with service nodes collapsed.

A snapshot stores, per window, the app, versioned app and workload graphs with service nodes (as Kiali draws them by
default) and, where it must, the same graphs without them (``injectServiceNodes=false``). It must where
:func:`~topology.graph.derive.collapse_service_nodes` of the graph with service nodes cannot say what each caller
sent each workload: a stored edge through a service sums its traffic over the service's other side. The collapse is
exact, edge for edge and byte for byte, when for the graph type's nodes and each protocol:

- no service has two or more callers **and** two or more backends (one backend: each caller's edge is its traffic to
  that backend; one caller: each backend's edge is all that caller's);
- no service with backends also has rows that reached none (``404 NR``, ``503 UH``: drawn to the service itself,
  which the collapse can only split off in proportion);
- every caller → workload pair has one route only: through one service, or direct (two routes would be merged with
  the mix of the larger one);
- no latency row adds a caller through a service that no request row has (its response times land on the service's
  edges to the workloads, and on no edge without service nodes).

:func:`collapse_is_exact` checks the first three on the traffic rows' paths, before either graph is built (one pass
over the distinct row identities); :func:`latencies_are_exact` checks the last once the latency rows are in, and
:func:`names_missing_services` that the graph with service nodes has a node for every service whose VirtualService
flags the collapse gives the workloads behind it. Health
annotations (thresholds per service or workload) also break it (an edge's health is judged with its target's
thresholds): ``topology.graph.snapshot_build`` checks those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from topology.graph.paths import Hop

#: A row's path in one graph type (one or two hops) and its protocol.
Path = tuple[tuple[Hop, ...], str]


def collapse_is_exact(paths: Iterable[Path]) -> bool:
    """True when collapsing the service nodes of the graph built from rows with these ``paths`` (with service nodes,
    one per distinct row identity and protocol, rows without traffic included) gives the graph without them."""
    callers: dict[tuple[str, str], set[str]] = defaultdict(set)
    backends: dict[tuple[str, str], set[str]] = defaultdict(set)
    terminal: set[tuple[str, str]] = set()
    routes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for hops, protocol in paths:
        if len(hops) == 2:
            caller, service, backend = hops[0].source.id, hops[0].target.id, hops[1].target.id
            callers[(service, protocol)].add(caller)
            backends[(service, protocol)].add(backend)
            routes[(caller, backend, protocol)].add(service)
        elif len(hops) == 1:
            hop = hops[0]
            if hop.target.node_type == "service":
                terminal.add((hop.target.id, protocol))
            else:
                routes[(hop.source.id, hop.target.id, protocol)].add("")
    for key, behind in backends.items():
        if key in terminal or (len(behind) >= 2 and len(callers[key]) >= 2):
            return False
    return all(len(via) == 1 for via in routes.values())


def latencies_are_exact(paths: Iterable[Path]) -> bool:
    """True unless one of the ``paths`` of latency rows met in no request row goes through a service."""
    return not any(len(hops) == 2 for hops, _ in paths)


def names_missing_services(graph: Mapping[str, Any]) -> bool:
    """True when an app or workload node of the wire ``graph`` names in its ``destServices`` a service the graph has
    no node of (the collapse reads ``hasVS`` and the routing flags from the service nodes)."""
    nodes = [node["data"] for node in (graph.get("elements") or {}).get("nodes") or []]
    services = {
        (data.get("cluster", ""), data.get("namespace", ""), data.get("service"))
        for data in nodes
        if data.get("nodeType") == "service"
    }
    return any(
        (entry.get("cluster", ""), entry.get("namespace", ""), entry.get("name")) not in services
        for data in nodes
        if data.get("nodeType") != "service" and not data.get("isBox")
        for entry in data.get("destServices") or ()
    )
