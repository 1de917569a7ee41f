"""The snapshot build (rows compiled once per window) gives exactly the graphs of the reference pipeline."""

from __future__ import annotations

from tests.topology.bookinfo import NS, bookinfo_latencies, bookinfo_requests, both_reporters, labels, tcp_sample
from topology.graph import GraphHealthInputs, GraphInputs, build_graph
from topology.graph.samples import LatencySample, MeshContext, RequestSample, ServiceInfo, WorkloadInfo
from topology.graph.snapshot_build import (
    SNAPSHOT_GRAPH_TYPES,
    WindowGraphBuilder,
    build_window_graphs,
    snapshot_graph_options,
)
from topology.graph.wire import WireIds, encode_graph_json
from topology.health import WorkloadReplicas


def varied_inputs() -> GraphInputs:
    """Bookinfo plus what the compiled path must treat like the pipeline: every response class, grpc, tcp,
    unknown callers and destinations, zero-rate rows, rows of the reporter not counted, idle inventory."""
    requests = bookinfo_requests()
    requests += both_reporters("productpage", "details", "details", 0.7, code="404")
    requests += both_reporters("productpage", "details", "details", 0.2, code="301")
    requests += both_reporters("reviews-v1", "ratings", "ratings", 2.0, protocol="grpc", grpc_status="0")
    requests += both_reporters("reviews-v1", "ratings", "ratings", 0.4, protocol="grpc", grpc_status="14")
    requests += both_reporters("reviews-v1", "ratings", "ratings", 0.1, protocol="grpc", code="503")
    requests += both_reporters("unknown", "productpage", "productpage", 1.5, mtls=False)
    requests += both_reporters("productpage", None, "httpbin.org", 0.9, service_namespace="unknown")
    requests.append(RequestSample(labels("details", "ratings", "ratings"), 0.0))  # an edge without traffic
    latencies = [
        *bookinfo_latencies(),
        LatencySample(labels("reviews-v1", "ratings", "ratings", protocol="grpc"), avg=3.0, p50=2.0, weight=2.5),
        LatencySample(labels("productpage", "reviews-v3", "reviews"), p99=70.0),
        # Only in latency rows (no request row): resolved in the latency phase, lands on no edge.
        LatencySample(labels("ratings", "reviews-v1", "reviews"), avg=9.0, p50=8.0, weight=1.0),
    ]
    tcp = [tcp_sample("ratings", "details", "details", 100.0, 300.0), tcp_sample("details", "ratings", "ratings", 0, 0)]
    mesh = MeshContext(
        workloads=[
            WorkloadInfo(NS, "productpage-v1", "productpage", "v1", services=("productpage",), pods=1),
            WorkloadInfo(NS, "reviews-v1", "reviews", "v1", services=("reviews",), pods=1),
            WorkloadInfo(NS, "reviews-v4", "reviews", "v4", services=("reviews",), pods=1),
            WorkloadInfo(NS, "mongo-v1", "mongo", "v1", services=("mongo",), pods=0),
        ],
        services=[ServiceInfo(NS, "reviews"), ServiceInfo(NS, "mongo"), ServiceInfo(NS, "unused")],
        missing_sidecars=frozenset({(NS, "details-v1")}),
        virtual_service_hosts=frozenset({f"reviews.{NS}.svc.cluster.local"}),
    )
    health = GraphHealthInputs(
        replicas={(NS, "reviews-v2"): WorkloadReplicas("reviews-v2", 2, 2, 1)},
        annotations={("service", NS, "details"): {"mesh-ui.io/health-rate": "4xx:1:2"}},
    )
    return GraphInputs(requests=requests, tcp=tcp, latencies=latencies, mesh=mesh, health=health)


def test_every_graph_type_is_byte_identical_to_build_graph() -> None:
    inputs = varied_inputs()
    namespaces = frozenset({NS})
    ids = WireIds()
    built = dict(build_window_graphs(inputs, namespaces, 1_700_000_000, 300, ids))
    assert list(built) == list(SNAPSHOT_GRAPH_TYPES)
    for graph_type in SNAPSHOT_GRAPH_TYPES:
        expected = build_graph(inputs, snapshot_graph_options(graph_type, namespaces), 1_700_000_000, 300)
        assert encode_graph_json(built[graph_type]) == encode_graph_json(expected), graph_type
    # A second window sharing the memoized ids and numbers gives the same bytes again.
    again = dict(build_window_graphs(inputs, namespaces, 1_700_000_000, 300, ids))
    assert all(encode_graph_json(again[t]) == encode_graph_json(built[t]) for t in SNAPSHOT_GRAPH_TYPES)


def test_traffic_maps_built_before_the_latency_rows_give_the_same_graphs() -> None:
    inputs = varied_inputs()
    namespaces = frozenset({NS})
    traffic_only = GraphInputs(requests=inputs.requests, tcp=inputs.tcp, mesh=inputs.mesh, health=inputs.health)
    builder = WindowGraphBuilder(traffic_only, namespaces, 1_700_000_000, 300)
    two_phases = dict(builder.graphs(inputs.latencies))
    for graph_type in SNAPSHOT_GRAPH_TYPES:
        expected = build_graph(inputs, snapshot_graph_options(graph_type, namespaces), 1_700_000_000, 300)
        assert encode_graph_json(two_phases[graph_type]) == encode_graph_json(expected), graph_type
    assert any("responseTimes" in edge["data"] for edge in two_phases["service"]["elements"]["edges"])


def test_graphs_carry_the_varied_traffic() -> None:
    graph = dict(build_window_graphs(varied_inputs(), frozenset({NS}), 0, 60))["workload"]
    protocols = {edge["data"]["traffic"]["protocol"] for edge in graph["elements"]["edges"]}
    assert protocols == {"http", "grpc", "tcp"}
    assert any(node["data"].get("isIdle") for node in graph["elements"]["nodes"])
    assert any(edge["data"].get("healthStatus") == "Failure" for edge in graph["elements"]["edges"])


def test_a_traffic_map_copy_has_its_own_nodes_with_every_field() -> None:
    from dataclasses import fields

    from topology.graph.model import GatewayInfo, HealthAnnotation, Node, ServiceName, TrafficMap

    node = Node(
        "wl|c|ns|a",
        "workload",
        "c",
        "ns",
        workload="a",
        app="a",
        version="v1",
        service="s",
        dest_services={("c", "ns", "s"): ServiceName("c", "ns", "s")},
        workloads={"a"},
        rates={"httpIn": 1.0},
        is_gateway=GatewayInfo(),
        is_idle=True,
        is_root=True,
        is_outside=True,
        is_dead=True,
        has_vs=("h",),
        has_missing_sidecar=True,
        health=HealthAnnotation("Healthy"),
        parent="box",
    )
    tm = TrafficMap(nodes={node.id: node})
    copied = tm.copy().nodes[node.id]
    assert copied == node and copied is not node
    assert all(getattr(copied, f.name) == getattr(node, f.name) for f in fields(Node))
    copied.workloads.add("b")
    copied.rates["httpOut"] = 2.0
    copied.dest_services.clear()
    assert node.workloads == {"a"} and node.rates == {"httpIn": 1.0} and node.dest_services
