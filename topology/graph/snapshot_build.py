"""Build every graph type a snapshot stores for one metric window, from one window's parsed inputs.

The snapshot task stores, per window, the app, versioned app, workload and service graphs of the whole mesh,
with idle nodes and cluster/namespace/app boxes. :func:`build_window_graphs` yields them one at a time, so the
caller can compress one while the next is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from topology.graph.model import GraphOptions, GraphType, TrafficMap
from topology.graph.pipeline import GraphInputs, build_default_steps, pause_cyclic_gc
from topology.graph.steps import ResponseTimeStep, SecurityStep, StepContext
from topology.graph.traffic_map import PathResolver
from topology.graph.window_samples import WindowSamples, build_compiled_traffic_map, compile_window_samples
from topology.graph.wire import WireIds, build_graph_wire

#: The graph types a snapshot stores, in the order they are built and stored.
SNAPSHOT_GRAPH_TYPES: Final[tuple[GraphType, ...]] = ("app", "versionedApp", "workload", "service")
#: The boxes stored graphs carry (the API drops those a request does not ask for).
STORED_BOXES: Final = frozenset({"cluster", "namespace", "app"})


def snapshot_graph_options(graph_type: GraphType, namespaces: frozenset[str]) -> GraphOptions:
    """The options of a stored graph: the whole mesh in scope, idle nodes and every box kind."""
    return GraphOptions(graph_type=graph_type, namespaces=namespaces, include_idle=True, box_by=STORED_BOXES)


def build_window_graphs(
    inputs: GraphInputs, namespaces: frozenset[str], timestamp: int, window: int, ids: WireIds | None = None
) -> Iterator[tuple[GraphType, dict[str, Any]]]:
    """Yield ``(graph type, wire graph)`` for each of :data:`SNAPSHOT_GRAPH_TYPES`, built from ``inputs``.

    Each graph is the one :func:`~topology.graph.pipeline.build_graph` returns for
    :func:`snapshot_graph_options`; the rows are compiled once (:func:`compile_window_samples`) for all four.
    The service graph starts from a copy of the versioned-app traffic map, which is the same map (versioned app
    nodes, service nodes injected) until the steps run. ``ids`` (hashed wire ids and formatted numbers, memoized)
    may be shared with the other windows' builds.
    """
    ids = ids or WireIds()
    with pause_cyclic_gc():
        samples = compile_window_samples(inputs)
    service_start: TrafficMap | None = None
    for graph_type in SNAPSHOT_GRAPH_TYPES:
        options = snapshot_graph_options(graph_type, namespaces)
        with pause_cyclic_gc():
            resolver = PathResolver(options)
            if graph_type == "service" and service_start is not None:
                tm = service_start
            else:
                tm = build_compiled_traffic_map(samples, options, resolver)
            if graph_type == "versionedApp":
                service_start = tm.copy()
            graph = finish_graph(tm, inputs, options, resolver, timestamp, window, ids)
        yield graph_type, graph


def build_graph_from_samples(
    samples: WindowSamples,
    inputs: GraphInputs,
    options: GraphOptions,
    timestamp: int,
    duration: int,
    ids: WireIds | None = None,
) -> dict[str, Any]:
    """``build_graph(inputs, options, timestamp, duration)``, from the rows ``samples`` compiled from ``inputs``."""
    resolver = PathResolver(options)
    tm = build_compiled_traffic_map(samples, options, resolver)
    return finish_graph(tm, inputs, options, resolver, timestamp, duration, ids)


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
