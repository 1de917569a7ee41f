"""Build every graph type a snapshot stores for one metric window, from one window's parsed inputs.

The snapshot task stores, per window, the app, versioned app, workload and service graphs of the whole mesh,
with idle nodes and cluster/namespace/app boxes. :func:`build_window_graphs` yields them one at a time, so the
caller can compress one while the next is built; :class:`WindowGraphBuilder` builds the traffic maps before the
latency rows are in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final

from topology.graph.model import GraphOptions, GraphType, TrafficMap
from topology.graph.pipeline import GraphInputs, build_default_steps, pause_cyclic_gc
from topology.graph.samples import LatencySample
from topology.graph.steps import ResponseTimeStep, SecurityStep, StepContext
from topology.graph.traffic_map import PathResolver
from topology.graph.window_samples import (
    CompiledTraffic,
    WindowSamplesCompiler,
    add_compiled_latencies,
    build_compiled_traffic,
)
from topology.graph.wire import WireIds, build_graph_wire

#: The graph types a snapshot stores, in the order they are built and stored.
SNAPSHOT_GRAPH_TYPES: Final[tuple[GraphType, ...]] = ("app", "versionedApp", "workload", "service")
#: The boxes stored graphs carry (the API drops those a request does not ask for).
STORED_BOXES: Final = frozenset({"cluster", "namespace", "app"})


def snapshot_graph_options(graph_type: GraphType, namespaces: frozenset[str]) -> GraphOptions:
    """The options of a stored graph: the whole mesh in scope, idle nodes and every box kind."""
    return GraphOptions(graph_type=graph_type, namespaces=namespaces, include_idle=True, box_by=STORED_BOXES)


class WindowGraphBuilder:
    """Builds one window's graphs in two phases: the traffic maps as soon as the request and TCP rows are in (at
    construction), the rest once the latency samples are (:meth:`graphs`).

    Prometheus computes the latency histogram last and slowest, so a snapshot builds the traffic maps while it
    waits. The graphs are those :func:`build_window_graphs` gives from the same rows (see
    :mod:`topology.graph.window_samples`).
    """

    def __init__(
        self, traffic: GraphInputs, namespaces: frozenset[str], timestamp: int, window: int, ids: WireIds | None = None
    ) -> None:
        """Compile ``traffic``'s request and TCP rows and build the traffic maps (``traffic.latencies`` unused)."""
        self._inputs = traffic
        self._namespaces = namespaces
        self._timestamp = timestamp
        self._window = window
        self._ids = ids or WireIds()
        self._compiler = WindowSamplesCompiler()
        with pause_cyclic_gc():
            samples = self._compiler.add_traffic(traffic.requests, traffic.tcp)
            self._traffic: dict[GraphType, CompiledTraffic] = {}
            for graph_type in SNAPSHOT_GRAPH_TYPES:
                if graph_type != "service":  # the service graph starts from the versioned-app map
                    options = snapshot_graph_options(graph_type, namespaces)
                    self._traffic[graph_type] = build_compiled_traffic(samples, options, PathResolver(options))

    def graphs(self, latencies: Sequence[LatencySample]) -> Iterator[tuple[GraphType, dict[str, Any]]]:
        """Yield ``(graph type, wire graph)`` for each of :data:`SNAPSHOT_GRAPH_TYPES` (call once).

        The service graph starts from a copy of the versioned-app traffic map, which is the same map (versioned app
        nodes, service nodes injected) until the steps run.
        """
        with pause_cyclic_gc():
            samples = self._compiler.add_latencies(latencies)
        service_start: TrafficMap | None = None
        for graph_type in SNAPSHOT_GRAPH_TYPES:
            options = snapshot_graph_options(graph_type, self._namespaces)
            with pause_cyclic_gc():
                traffic = self._traffic.pop(graph_type, None)
                if traffic is not None:
                    tm, resolver = add_compiled_latencies(traffic, samples), traffic.resolver
                    del traffic
                else:
                    if service_start is None:
                        raise RuntimeError("the service graph is built after the versioned-app graph")
                    tm, resolver = service_start, PathResolver(options)
                if graph_type == "versionedApp":
                    service_start = tm.copy()
                graph = finish_graph(tm, self._inputs, options, resolver, self._timestamp, self._window, self._ids)
            del tm
            yield graph_type, graph


def build_window_graphs(
    inputs: GraphInputs, namespaces: frozenset[str], timestamp: int, window: int, ids: WireIds | None = None
) -> Iterator[tuple[GraphType, dict[str, Any]]]:
    """Yield ``(graph type, wire graph)`` for each of :data:`SNAPSHOT_GRAPH_TYPES`, built from ``inputs``.

    Each graph is the one :func:`~topology.graph.pipeline.build_graph` returns for
    :func:`snapshot_graph_options`; the rows are compiled once (:class:`WindowSamplesCompiler`) for all four.
    ``ids`` (hashed wire ids and formatted numbers, memoized) may be shared with the other windows' builds.
    """
    yield from WindowGraphBuilder(inputs, namespaces, timestamp, window, ids).graphs(inputs.latencies)


def finish_graph(
    tm: TrafficMap,
    inputs: GraphInputs,
    options: GraphOptions,
    resolver: PathResolver,
    timestamp: int,
    duration: int,
    ids: WireIds | None = None,
) -> dict[str, Any]:
    """Run the steps after response times and security (done with the compiled traffic map), then the wire."""
    ctx = StepContext(options=options, mesh=inputs.mesh, resolver=resolver)
    for step in build_default_steps(options, inputs.health):
        if not isinstance(step, ResponseTimeStep | SecurityStep):
            step.apply(tm, ctx)
    return build_graph_wire(tm, options, timestamp, duration, ids)
