"""Pure service-graph pipeline: Istio samples -> compiled rows -> traffic map -> steps -> Kiali-compatible JSON.

No Django, no network: the snapshot task runs the queries from :mod:`topology.graph.queries`, parses the rows
with :mod:`topology.graph.samples` and builds every graph of a window with
:class:`~topology.graph.snapshot_build.WindowGraphBuilder`; :func:`build_graph` builds one graph the same way.
See ``docs/graph.md``.
"""

from topology.graph.health_step import GraphHealthInputs, HealthStep
from topology.graph.model import GraphOptions, TrafficMap
from topology.graph.pipeline import GraphInputs, build_default_steps, build_graph, build_traffic_graph
from topology.graph.queries import GraphQueries, build_graph_queries
from topology.graph.samples import (
    LatencySample,
    MeshContext,
    RequestSample,
    ServiceInfo,
    TcpSample,
    WorkloadInfo,
    build_latency_samples,
    build_tcp_samples,
    parse_request_samples,
)
from topology.graph.wire import build_graph_wire

__all__ = [
    "GraphHealthInputs",
    "GraphInputs",
    "GraphOptions",
    "GraphQueries",
    "HealthStep",
    "LatencySample",
    "MeshContext",
    "RequestSample",
    "ServiceInfo",
    "TcpSample",
    "TrafficMap",
    "WorkloadInfo",
    "build_default_steps",
    "build_graph",
    "build_graph_queries",
    "build_graph_wire",
    "build_latency_samples",
    "build_tcp_samples",
    "build_traffic_graph",
    "parse_request_samples",
]
