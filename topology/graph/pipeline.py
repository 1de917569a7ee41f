"""The graph pipeline: rows -> compiled samples -> traffic map -> ordered steps -> Kiali-compatible wire JSON.

Every graph mesh-ui builds, stored in a snapshot or not, is built by :class:`GraphBuilder`:

1. compile the counted request and TCP rows once for every graph type (:class:`~topology.graph.traffic_map.
   SampleCompiler`);
2. build each graph type's traffic map from them: rates, response breakdown, node rates, mTLS and principals
   (:func:`~topology.graph.traffic_map.build_traffic_map`);
3. compile the latency rows and merge the response times in (:func:`~topology.graph.traffic_map.add_response_times`);
4. run the steps of :func:`build_default_steps` in order;
5. serialize to the wire format (:func:`~topology.graph.wire.build_graph_wire`).

Steps 1-2 need only the request and TCP rows, so a snapshot runs them while Prometheus still computes the latency
histogram (:class:`GraphBuilder` is built first, :meth:`GraphBuilder.graphs` is called with the latency rows later).
:func:`build_graph` and :func:`build_traffic_graph` run the same builder for one graph.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from topology.graph.boxes import BoxStep
from topology.graph.health_step import GraphHealthInputs, HealthStep
from topology.graph.model import GraphOptions, TrafficMap
from topology.graph.paths import Hop, PathResolver
from topology.graph.samples import (
    DirectionSample,
    DirectionSamples,
    LatencySample,
    MeshContext,
    RequestSample,
    TcpSample,
    waypoint_keys,
)
from topology.graph.steps import (
    DeadNodeStep,
    GatewayStep,
    GraphStep,
    IdleNodeStep,
    OutsideStep,
    RootStep,
    ServiceEntryStep,
    ServiceGraphStep,
    SidecarStep,
    StepContext,
    VirtualServiceStep,
)
from topology.graph.traffic_map import (
    CompiledSamples,
    SampleCompiler,
    TrafficBuild,
    add_response_times,
    build_traffic_map,
)
from topology.graph.wire import WireIds, build_graph_wire


@dataclass(frozen=True)
class GraphInputs:
    """Everything the pipeline reads: telemetry samples, mesh facts and health inputs.

    ``grpc_messages`` and ``http_bytes`` are the gRPC message and HTTP body byte rates of the request edges
    (:class:`~topology.graph.samples.DirectionSample`); like the latencies, :class:`GraphBuilder` takes them in its
    second phase (:func:`build_graph` passes them on).
    """

    requests: Sequence[RequestSample] = ()
    tcp: Sequence[TcpSample] = ()
    grpc_messages: Sequence[DirectionSample] = ()
    http_bytes: Sequence[DirectionSample] = ()
    latencies: Sequence[LatencySample] = ()
    mesh: MeshContext = field(default_factory=MeshContext)
    health: GraphHealthInputs | None = None


def build_default_steps(options: GraphOptions, health: GraphHealthInputs | None = None) -> list[GraphStep]:
    """Return the steps that run after the traffic map is built, in the order they run.

    The traffic map comes with its rates, response times, mTLS and principals at full resolution, before the
    service graph collapses workloads; pruning runs before the idle nodes are added; flags that depend on the
    final set of edges (root, outside) and health come last, boxes at the very end.
    """
    steps: list[GraphStep] = [ServiceGraphStep(), ServiceEntryStep(), DeadNodeStep()]
    if options.include_idle:
        steps.append(IdleNodeStep())
    steps += [
        GatewayStep(),
        SidecarStep(),
        VirtualServiceStep(),
        RootStep(),
        OutsideStep(),
        HealthStep(health),
        BoxStep(),
    ]
    return steps


def _shared_service_map(options: Sequence[GraphOptions]) -> tuple[int, int] | None:
    """``(versioned-app index, service index)`` when the service graph can start from a copy of the versioned-app
    graph's traffic map, else None.

    Paths depend only on the graph type and whether service nodes are injected, which the service graph always does;
    versioned app and service graphs give nodes the same ids and fields. A snapshot builds one graph of each type.
    """
    types = [graph_options.graph_type for graph_options in options]
    if "versionedApp" not in types or "service" not in types:
        return None
    versioned_app, service = types.index("versionedApp"), types.index("service")
    if versioned_app < service and options[versioned_app].with_service_nodes:
        return versioned_app, service
    return None


class GraphBuilder:
    """Builds graphs of one or more types from the same rows, in two phases.

    At construction the request and TCP rows are compiled and each graph's traffic map is built; :meth:`graphs`
    then takes the latency rows, merges the response times in, runs the steps and serializes each graph.  A
    service graph listed after a versioned-app graph whose map it shares starts from a copy of that map, taken
    before the versioned-app graph's steps run, instead of building the same map again.
    """

    def __init__(self, traffic: GraphInputs, options: Sequence[GraphOptions]) -> None:
        """Compile ``traffic``'s request and TCP rows and build each graph's traffic map (``traffic.latencies``
        unused: they come to :meth:`graphs`)."""
        self._inputs = traffic
        self._options = tuple(options)
        self._shared = _shared_service_map(self._options)
        #: The copy of the versioned-app traffic map the service graph starts from, once taken.
        self._service_start: TrafficMap | None = None
        self._compiler = SampleCompiler()
        self._waypoints = waypoint_keys(traffic.mesh)
        with pause_cyclic_gc():
            samples = self._compiler.add_traffic(traffic.requests, traffic.tcp)
            self._traffic: list[TrafficBuild | None] = [
                None
                if self._shared and index == self._shared[1]
                else build_traffic_map(samples, graph_options, self._waypoints)
                for index, graph_options in enumerate(self._options)
            ]

    def add_graphs(self, options: Sequence[GraphOptions]) -> None:
        """Build the traffic maps of more graphs from the rows already compiled (before :meth:`graphs`)."""
        with pause_cyclic_gc():
            samples = self._compiler.samples
            self._traffic += [build_traffic_map(samples, graph_options, self._waypoints) for graph_options in options]
        self._options += tuple(options)

    def traffic_paths(self, index: int) -> list[tuple[tuple[Hop, ...], str]]:
        """Graph ``index``'s path of every traffic slot (distinct row identity and protocol) with its protocol
        (before :meth:`graphs`; not for a service graph sharing the versioned-app map)."""
        traffic = self._traffic[index]
        assert traffic is not None
        hops_of = traffic.hops_of
        return [(hops_of[identity], protocol) for identity, protocol in self._compiler.samples.slots]

    def latency_only_paths(self, options: GraphOptions) -> list[tuple[tuple[Hop, ...], str]]:
        """The paths in ``options``' graph of the latency rows whose identity and protocol no traffic row has
        (after :meth:`graphs` took the latency rows)."""
        samples = self._compiler.samples
        traffic = set(samples.slots)
        resolver = PathResolver(options, self._waypoints)
        return [
            (resolver.resolve(samples.identities[identity]), protocol)
            for identity, protocol, _ in samples.latencies
            if (identity, protocol) not in traffic
        ]

    def graphs(
        self,
        latencies: Sequence[LatencySample],
        timestamp: int,
        duration: int,
        ids: WireIds | None = None,
        directions: DirectionSamples | None = None,
    ) -> Iterator[tuple[GraphOptions, dict[str, Any]]]:
        """Yield ``(options, wire graph)`` for each graph, in the order of the options (call once).

        ``timestamp`` is the query time (unix seconds) and ``duration`` the metric window in seconds; ``ids``
        (hashed wire ids and formatted numbers, memoized) may be shared with other builds; ``directions`` is the traffic
        by direction, which completes the graphs with the latencies.
        """
        samples = self._add_latencies(latencies, directions)
        for index, options in enumerate(self._options):
            with pause_cyclic_gc():
                tm, resolver = self._complete_map(index, samples)
                run_steps(tm, self._inputs, options, resolver)
                graph = build_graph_wire(tm, options, timestamp, duration, ids)
            del tm
            yield options, graph

    def traffic_graphs(
        self,
        latencies: Sequence[LatencySample],
        steps: Sequence[GraphStep] | None = None,
        directions: DirectionSamples | None = None,
    ) -> Iterator[tuple[GraphOptions, TrafficMap]]:
        """Yield ``(options, traffic map after the steps)`` for each graph (call once, instead of :meth:`graphs`).

        ``steps`` replaces :func:`build_default_steps` (``()``: the traffic map with response times, no steps).
        """
        samples = self._add_latencies(latencies, directions)
        for index, options in enumerate(self._options):
            with pause_cyclic_gc():
                tm, resolver = self._complete_map(index, samples)
                run_steps(tm, self._inputs, options, resolver, steps)
            yield options, tm

    def _add_latencies(
        self, latencies: Sequence[LatencySample], directions: DirectionSamples | None
    ) -> CompiledSamples:
        with pause_cyclic_gc():
            return self._compiler.add_latencies(latencies, directions)

    def _complete_map(self, index: int, samples: CompiledSamples) -> tuple[TrafficMap, PathResolver]:
        """Graph ``index``'s traffic map with its response times, and the resolver its steps use."""
        traffic = self._traffic[index]
        self._traffic[index] = None
        if traffic is not None:
            tm, resolver = add_response_times(traffic, samples), traffic.resolver
        else:
            # A copy of the versioned-app map, whose resolver resolves for that graph's type: the service graph's steps
            # get a resolver of their own. Only the idle-node step asks it for nodes, and adds only those the map lacks.
            assert self._service_start is not None
            tm, resolver = self._service_start, PathResolver(self._options[index], self._waypoints)
            self._service_start = None
        if self._shared and index == self._shared[0]:
            self._service_start = tm.copy()
        return tm, resolver


def run_steps(
    tm: TrafficMap,
    inputs: GraphInputs,
    options: GraphOptions,
    resolver: PathResolver,
    steps: Sequence[GraphStep] | None = None,
) -> None:
    """Run ``steps`` (default: :func:`build_default_steps`) over ``tm`` in order."""
    ctx = StepContext(options=options, mesh=inputs.mesh, resolver=resolver)
    for step in steps if steps is not None else build_default_steps(options, inputs.health):
        step.apply(tm, ctx)


def build_traffic_graph(
    inputs: GraphInputs, options: GraphOptions, steps: Sequence[GraphStep] | None = None
) -> TrafficMap:
    """Build the traffic map of one graph and run the steps over it (no serialization).

    ``steps`` replaces :func:`build_default_steps`; ``()`` gives the traffic map with its rates, response times,
    mTLS and principals.
    """
    builder = GraphBuilder(inputs, (options,))
    return next(builder.traffic_graphs(inputs.latencies, steps, _directions(inputs)))[1]


def build_graph(inputs: GraphInputs, options: GraphOptions, timestamp: int, duration: int) -> dict[str, Any]:
    """Build one Kiali-compatible graph (a dict ready for JSON), as a snapshot builds each of its graphs.

    ``timestamp`` is the query time (unix seconds) and ``duration`` the metric window in seconds.
    """
    builder = GraphBuilder(inputs, (options,))
    return next(builder.graphs(inputs.latencies, timestamp, duration, directions=_directions(inputs)))[1]


def _directions(inputs: GraphInputs) -> DirectionSamples:
    return DirectionSamples(inputs.grpc_messages, inputs.http_bytes)


@contextmanager
def pause_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a build.

    The pipeline allocates many long-lived objects but creates no reference cycles (refcounting frees
    everything), while each full collection would walk every sample object the caller holds: on a
    40,000-row mesh that is about a third of the build time.  The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
