"""The graphs a snapshot stores for one metric window: every graph type of the whole mesh, from one window's rows.

The snapshot task stores, per window, the app, versioned app, workload and service graphs of the whole mesh, with
idle nodes and cluster/namespace/app boxes, as Kiali draws them by default (``injectServiceNodes=true``), and the app,
versioned app and workload graphs once more without service nodes (``injectServiceNodes=false``: Kiali builds those
from the caller → destination workload rows, which no graph with service nodes keeps apart; the service graph is the
same either way) where collapsing the graph with service nodes would not give them exactly
(:mod:`topology.graph.exactness`). :data:`STORED_GRAPHS` lists them all. :class:`WindowGraphBuilder` builds them
with the pipeline's :class:`~topology.graph.pipeline.GraphBuilder`: the traffic maps as soon as the request and TCP
rows are in, the graphs once the latency rows are, one at a time, so the caller can compress one while the next is
built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, NamedTuple

from topology.graph.exactness import collapse_is_exact, latencies_are_exact, names_missing_services
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
    """Builds one window's graphs, those of :data:`STORED_GRAPHS` that are needed, in two phases: the traffic maps
    as soon as the request and TCP rows are in (at construction), the rest once the latency samples are
    (:meth:`graphs`).

    Prometheus computes the latency histogram last and slowest, so a snapshot builds the traffic maps while it
    waits. The service graph starts from a copy of the versioned-app traffic map (the same map until the steps run).
    A graph without service nodes is built only where collapsing the graph with them would not give it exactly
    (:mod:`topology.graph.exactness`): :attr:`collapsible` lists the types it skips.
    """

    def __init__(
        self, traffic: GraphInputs, namespaces: frozenset[str], timestamp: int, window: int, ids: WireIds | None = None
    ) -> None:
        """Compile ``traffic``'s request and TCP rows and build the traffic maps (``traffic.latencies`` unused).

        ``ids`` (hashed wire ids and formatted numbers, memoized) may be shared with the other windows' builds.
        """
        self._inputs = traffic
        self._timestamp = timestamp
        self._window = window
        self._ids = ids or WireIds()
        self._builder = GraphBuilder(traffic, [snapshot_graph_options(t, namespaces) for t in GRAPH_TYPES])
        annotated = traffic.health is not None and bool(traffic.health.annotations)
        #: The graph types whose graph without service nodes is its graph with them collapsed, as far as the traffic
        #: rows say (:meth:`graphs` checks the latency rows too).
        self.collapsible: tuple[GraphType, ...] = tuple(
            graph_type
            for index, graph_type in enumerate(GRAPH_TYPES)
            if graph_type != "service" and not annotated and collapse_is_exact(self._builder.traffic_paths(index))
        )
        flat = [
            snapshot_graph_options(key.graph_type, namespaces, False)
            for key in STORED_GRAPHS
            if not key.inject_service_nodes and key.graph_type not in self.collapsible
        ]
        self._builder.add_graphs(flat)
        self._namespaces = namespaces

    def graphs(
        self, latencies: Sequence[LatencySample], directions: DirectionSamples | None = None
    ) -> Iterator[tuple[StoredGraphKey, dict[str, Any]]]:
        """Yield ``(which graph, wire graph)`` for each graph to store (call once): every type with service nodes,
        then those without them that :attr:`collapsible` does not skip; ``directions``: the traffic by direction.

        A type the traffic rows found collapsible is built without service nodes after all (last, from rows
        compiled again: rare) when a latency row adds a caller through a service, or when a node serves a service
        the graph has no node of while VirtualServices exist (the collapse takes ``hasVS`` from the service nodes).
        """
        ts, window, ids = self._timestamp, self._window, self._ids
        unflagged: set[str] = set()  # types whose VirtualService flags the collapse could not give every node
        for options, graph in self._builder.graphs(latencies, ts, window, ids, directions):
            checked = options.graph_type in self.collapsible and self._inputs.mesh.virtual_service_hosts
            if checked and names_missing_services(graph):
                unflagged.add(options.graph_type)
            yield StoredGraphKey(options.graph_type, options.inject_service_nodes), graph
        for graph_type in self.collapsible:
            paths = self._builder.latency_only_paths(snapshot_graph_options(graph_type, self._namespaces))
            if graph_type not in unflagged and latencies_are_exact(paths):
                continue
            options = snapshot_graph_options(graph_type, self._namespaces, False)
            late = GraphBuilder(self._inputs, [options])
            for _, graph in late.graphs(latencies, ts, window, ids, directions):
                yield StoredGraphKey(graph_type, False), graph
