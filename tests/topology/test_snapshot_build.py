"""The graphs of a snapshot window: every graph type from rows compiled once, as ``build_graph`` gives each alone."""

from __future__ import annotations

from typing import Any, get_args

from tests.topology.bookinfo import NS, bookinfo_latencies, bookinfo_requests, both_reporters, labels, tcp_sample
from topology.graph import GraphHealthInputs, GraphInputs, build_graph
from topology.graph.model import GRAPH_TYPES, GraphOptions, GraphType
from topology.graph.pipeline import GraphBuilder
from topology.graph.samples import LatencySample, MeshContext, RequestSample, ServiceInfo, WorkloadInfo
from topology.graph.snapshot_build import STORED_GRAPHS, StoredGraphKey, WindowGraphBuilder, snapshot_graph_options
from topology.graph.wire import WireIds, encode_graph_json
from topology.health import WorkloadReplicas


def varied_inputs() -> GraphInputs:
    """Bookinfo plus every response class, grpc, tcp, unknown callers and destinations, zero-rate rows, rows of the
    reporter not counted, latency-only rows, idle, dead and sidecar-less inventory, VirtualServices and health."""
    requests = bookinfo_requests()
    requests += both_reporters("productpage", "details", "details", 0.7, code="404")
    requests += both_reporters("productpage", "details", "details", 0.2, code="301")
    requests += both_reporters("reviews-v1", "ratings", "ratings", 2.0, protocol="grpc", grpc_status="0")
    requests += both_reporters("reviews-v1", "ratings", "ratings", 0.4, protocol="grpc", grpc_status="14")
    requests += both_reporters("reviews-v1", "ratings", "ratings", 0.1, protocol="grpc", code="503")
    requests += both_reporters("unknown", "productpage", "productpage", 1.5, mtls=False)
    requests += both_reporters("productpage", None, "httpbin.org", 0.9, service_namespace="unknown")
    requests.append(RequestSample(labels("details", "ratings", "ratings"), 0.0))  # an edge without traffic
    # A service without traffic or workload: pruned as dead, then added back as idle (it is in the inventory).
    requests.append(RequestSample(labels("details", None, "mongo", reporter="source"), 0.0))
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


def window_graphs(
    inputs: GraphInputs, namespaces: frozenset[str], ids: WireIds | None = None
) -> dict[StoredGraphKey, Any]:
    return dict(WindowGraphBuilder(inputs, namespaces, 1_700_000_000, 300, ids).graphs(inputs.latencies))


def test_graph_types_are_listed_once_in_snapshot_order() -> None:
    assert GRAPH_TYPES == ("app", "versionedApp", "workload", "service")
    assert set(GRAPH_TYPES) == set(get_args(GraphType))


def test_a_window_gives_every_graph_type_as_build_graph_gives_it_alone() -> None:
    # The window builds its graphs from rows compiled once and the service graph from a copy of the
    # versioned-app traffic map; build_graph builds one graph from its own rows and map: same bytes.
    inputs = varied_inputs()
    namespaces = frozenset({NS})
    ids = WireIds()
    built = window_graphs(inputs, namespaces, ids)
    # Every type with service nodes, then the three drawn differently without them (the service graph is not).
    assert list(built) == [(t, True) for t in GRAPH_TYPES] + [
        ("app", False),
        ("versionedApp", False),
        ("workload", False),
    ]
    assert list(built) == list(STORED_GRAPHS)
    for graph_type, inject in STORED_GRAPHS:
        alone = build_graph(inputs, snapshot_graph_options(graph_type, namespaces, inject), 1_700_000_000, 300)
        assert encode_graph_json(built[StoredGraphKey(graph_type, inject)]) == encode_graph_json(alone), (
            graph_type,
            inject,
        )
    flat = built[StoredGraphKey("workload", False)]["elements"]
    services = {n["data"]["id"] for n in flat["nodes"] if n["data"]["nodeType"] == "service"}
    assert not any(edge["data"]["source"] in services for edge in flat["edges"])
    # A second window sharing the memoized ids and numbers gives the same bytes again.
    again = window_graphs(inputs, namespaces, ids)
    assert all(encode_graph_json(again[k]) == encode_graph_json(built[k]) for k in STORED_GRAPHS)


def test_a_service_graph_after_a_versioned_app_graph_without_service_nodes_builds_its_own_map() -> None:
    inputs = varied_inputs()
    options = [
        GraphOptions(graph_type="versionedApp", inject_service_nodes=False, id_style="readable"),
        GraphOptions(graph_type="service", id_style="readable"),
    ]
    built = dict(GraphBuilder(inputs, options).graphs(inputs.latencies, 0, 60))
    # Without injected service nodes, service nodes only end requests that reached no workload.
    versioned_app = built[options[0]]["elements"]
    services = {node["data"]["id"] for node in versioned_app["nodes"] if node["data"]["nodeType"] == "service"}
    assert services and not any(edge["data"]["source"] in services for edge in versioned_app["edges"])
    for graph_options in options:
        assert encode_graph_json(built[graph_options]) == encode_graph_json(build_graph(inputs, graph_options, 0, 60))


def test_traffic_maps_built_before_the_latency_rows_get_their_response_times() -> None:
    inputs = varied_inputs()
    namespaces = frozenset({NS})
    traffic_only = GraphInputs(requests=inputs.requests, tcp=inputs.tcp, mesh=inputs.mesh, health=inputs.health)
    builder = WindowGraphBuilder(traffic_only, namespaces, 1_700_000_000, 300)
    two_phases = dict(builder.graphs(inputs.latencies))
    assert encode_graph_json(two_phases[StoredGraphKey("service")]) == encode_graph_json(
        window_graphs(inputs, namespaces)[StoredGraphKey("service")]
    )
    names = {
        node["data"]["id"]: node["data"].get("service")
        for node in two_phases[StoredGraphKey("service")]["elements"]["nodes"]
    }
    edges = {
        (names[edge["data"]["source"]], names[edge["data"]["target"]]): edge["data"]
        for edge in two_phases[StoredGraphKey("service")]["elements"]["edges"]
    }
    # productpage -> reviews: v1 (10 ms, 3 req/s) and v2 (20 ms, 3 req/s) averaged, v3's p99 (70 ms, no average)
    # and the others' quantiles merged as their maximum.
    assert edges[("productpage", "reviews")]["responseTimes"] == {
        "avg": "15.00",
        "p50": "15.00",
        "p95": "40.00",
        "p99": "90.00",
    }


def test_graphs_carry_the_varied_traffic() -> None:
    graph = window_graphs(varied_inputs(), frozenset({NS}))[StoredGraphKey("workload")]
    protocols = {edge["data"]["traffic"]["protocol"] for edge in graph["elements"]["edges"]}
    assert protocols == {"http", "grpc", "tcp"}
    assert any(node["data"].get("isIdle") for node in graph["elements"]["nodes"])
    assert any(edge["data"].get("healthStatus") == "Failure" for edge in graph["elements"]["edges"])


def test_a_dead_service_in_the_inventory_comes_back_idle_in_every_graph_type() -> None:
    for (graph_type, inject), graph in window_graphs(varied_inputs(), frozenset({NS})).items():
        mongo = [node["data"] for node in graph["elements"]["nodes"] if node["data"].get("service") == "mongo"]
        # Kiali adds idle services only to graphs with service nodes.
        expected = [("service", True, None)] if inject else []
        assert [(node["nodeType"], node.get("isIdle"), node.get("traffic")) for node in mongo] == expected, graph_type


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
