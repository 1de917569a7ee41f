"""The graphs a snapshot stores for one metric window: every graph type of the whole mesh, from one window's rows.

The snapshot task stores, per window, the app, versioned app, workload and service graphs of the whole mesh, with
idle nodes and cluster/namespace/app boxes. :class:`WindowGraphBuilder` builds them with the pipeline's
:class:`~topology.graph.pipeline.GraphBuilder`: the traffic maps as soon as the request and TCP rows are in, the
graphs once the latency rows are, one at a time, so the caller can compress one while the next is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final

from topology.graph.model import GRAPH_TYPES, GraphOptions, GraphType
from topology.graph.pipeline import GraphBuilder, GraphInputs
from topology.graph.samples import DirectionSamples, LatencySample
from topology.graph.wire import WireIds

#: The boxes stored graphs carry (the API drops those a request does not ask for).
STORED_BOXES: Final = frozenset({"cluster", "namespace", "app"})


def snapshot_graph_options(graph_type: GraphType, namespaces: frozenset[str]) -> GraphOptions:
    """The options of a stored graph: the whole mesh in scope, idle nodes and every box kind."""
    return GraphOptions(graph_type=graph_type, namespaces=namespaces, include_idle=True, box_by=STORED_BOXES)


class WindowGraphBuilder:
    """Builds one window's graphs, one per graph type in the order of :data:`~topology.graph.model.GRAPH_TYPES`, in
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
        options = [snapshot_graph_options(graph_type, namespaces) for graph_type in GRAPH_TYPES]
        self._builder = GraphBuilder(traffic, options)

    def graphs(
        self, latencies: Sequence[LatencySample], directions: DirectionSamples | None = None
    ) -> Iterator[tuple[GraphType, dict[str, Any]]]:
        """Yield ``(graph type, wire graph)`` for each graph type (call once); ``directions``: the traffic by
        direction."""
        for options, graph in self._builder.graphs(latencies, self._timestamp, self._window, self._ids, directions):
            yield options.graph_type, graph
