"""The graphs a snapshot stores for one metric window: every graph type of the whole mesh, from one window's rows.

The snapshot task stores, per window, the app, versioned app, workload and service graphs of the whole mesh, with
idle nodes and cluster/namespace/app boxes, as Kiali draws them by default (``injectServiceNodes=true``), and the app,
versioned app and workload graphs once more without service nodes (``injectServiceNodes=false``: Kiali builds those
from the caller → destination workload rows, which no graph with service nodes keeps apart; the service graph is the
same either way). :data:`STORED_GRAPHS` lists them. :class:`WindowGraphBuilder` builds them with the pipeline's
:class:`~topology.graph.pipeline.GraphBuilder`: the traffic maps as soon as the request and TCP rows are in, the
graphs once the latency rows are, one at a time, so the caller can compress one while the next is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, NamedTuple

from topology.graph.model import GRAPH_TYPES, GraphOptions, GraphType
from topology.graph.pipeline import GraphBuilder, GraphInputs
from topology.graph.samples import DirectionSamples, LatencySample
from topology.graph.wire import WireIds

#: The boxes stored graphs carry (the API drops those a request does not ask for).
STORED_BOXES: Final = frozenset({"cluster", "namespace", "app"})


class StoredGraphKey(NamedTuple):
    """Which graph of a window: its type, with or without injected service nodes."""

    graph_type: GraphType
    inject_service_nodes: bool = True


#: The graphs a snapshot stores per window, in the order they are built: every type with service nodes, then those
#: drawn differently without them.
STORED_GRAPHS: Final[tuple[StoredGraphKey, ...]] = (
    *(StoredGraphKey(graph_type) for graph_type in GRAPH_TYPES),
    *(StoredGraphKey(graph_type, False) for graph_type in GRAPH_TYPES if graph_type != "service"),
)


def snapshot_graph_options(
    graph_type: GraphType, namespaces: frozenset[str], inject_service_nodes: bool = True
) -> GraphOptions:
    """The options of a stored graph: the whole mesh in scope, idle nodes and every box kind."""
    return GraphOptions(
        graph_type=graph_type,
        namespaces=namespaces,
        inject_service_nodes=inject_service_nodes,
        include_idle=True,
        box_by=STORED_BOXES,
    )


class WindowGraphBuilder:
    """Builds one window's graphs, those of :data:`STORED_GRAPHS` in its order, in
    two phases: the traffic maps as soon as the request and TCP rows are in (at construction), the rest once the
    latency samples are (:meth:`graphs`).

    Prometheus computes the latency histogram last and slowest, so a snapshot builds the traffic maps while it
    waits. The service graph starts from a copy of the versioned-app traffic map (the same map until the steps run).
    """

    def __init__(
        self, traffic: GraphInputs, namespaces: frozenset[str], timestamp: int, window: int, ids: WireIds | None = None
    ) -> None:
        """Compile ``traffic``'s request and TCP rows and build the traffic maps (``traffic.latencies`` unused).

        ``ids`` (hashed wire ids and formatted numbers, memoized) may be shared with the other windows' builds.
        """
        self._timestamp = timestamp
        self._window = window
        self._ids = ids or WireIds()
        options = [
            snapshot_graph_options(key.graph_type, namespaces, key.inject_service_nodes) for key in STORED_GRAPHS
        ]
        self._builder = GraphBuilder(traffic, options)

    def graphs(
        self, latencies: Sequence[LatencySample], directions: DirectionSamples | None = None
    ) -> Iterator[tuple[StoredGraphKey, dict[str, Any]]]:
        """Yield ``(which graph, wire graph)`` for each of :data:`STORED_GRAPHS` (call once); ``directions``: the
        traffic by direction."""
        for options, graph in self._builder.graphs(latencies, self._timestamp, self._window, self._ids, directions):
            yield StoredGraphKey(options.graph_type, options.inject_service_nodes), graph
