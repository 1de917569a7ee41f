"""Wire format (Kiali Cytoscape JSON) and the whole pipeline on Bookinfo."""

from __future__ import annotations

import hashlib
import json

from tests.topology.bookinfo import CLUSTER, NS, bookinfo_latencies, bookinfo_requests, labels, tcp_sample
from topology.graph import GraphInputs, GraphOptions, build_graph
from topology.graph.model import Edge, Node, TrafficMap
from topology.graph.samples import MeshContext, RequestSample, WorkloadInfo
from topology.graph.wire import WireIds, build_graph_wire, format_percent, format_rate

C = CLUSTER


def readable(**kw):
    return GraphOptions(id_style="readable", namespaces=frozenset({NS}), **kw)


def nodes_by_id(graph):
    return {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}


def edges_by_key(graph):
    return {(e["data"]["source"], e["data"]["target"]): e["data"] for e in graph["elements"]["edges"]}


def test_rates_are_strings_with_kiali_precision():
    assert format_rate(12.0) == "12.00"
    assert format_rate(0.004) == "0.004"
    assert format_rate(0.0000001) == "0.00000"
    assert format_percent(33.333) == "33.3"


def test_envelope_has_timestamp_duration_graph_type_and_elements():
    graph = build_graph(GraphInputs(), GraphOptions(graph_type="app"), timestamp=1700000000, duration=600)
    assert graph == {
        "timestamp": 1700000000,
        "duration": 600,
        "graphType": "app",
        "elements": {"nodes": [], "edges": []},
    }


def test_hashed_ids_are_the_first_32_hex_digits_of_sha256_and_edges_reference_them():
    ids = WireIds()
    assert ids.node("wl|east|bookinfo|a") == "80747a719d2b328868395064b8392c1c"
    assert ids.node("svc|east|bookinfo|reviews") == hashlib.sha256(b"svc|east|bookinfo|reviews").hexdigest()[:32]
    source, target = ids.node("a"), ids.node("b")
    expected_edge = hashlib.sha256(f"{source}.{target}.http".encode()).hexdigest()[:32]
    assert ids.edge_ends("a", "b", "http") == (expected_edge, source, target)
    assert WireIds(readable=True).edge_ends("a", "b", "http") == ("a.b.http", "a", "b")
    graph = build_graph(GraphInputs(requests=bookinfo_requests()), GraphOptions(namespaces=frozenset({NS})), 0, 60)
    node_ids = {n["data"]["id"] for n in graph["elements"]["nodes"]}
    assert all(e["data"]["source"] in node_ids and e["data"]["target"] in node_ids for e in graph["elements"]["edges"])
    again = build_graph(GraphInputs(requests=bookinfo_requests()), GraphOptions(namespaces=frozenset({NS})), 0, 60)
    assert json.dumps(graph) == json.dumps(again)


def test_bookinfo_versioned_app_edge_traffic_rates_percentages_and_responses():
    graph = build_graph(GraphInputs(requests=bookinfo_requests()), readable(), 0, 60)
    edges = edges_by_key(graph)
    pp, reviews = f"vapp|{C}|{NS}|productpage|v1", f"svc|{C}|{NS}|reviews"
    to_reviews = edges[(pp, reviews)]["traffic"]
    assert to_reviews["protocol"] == "http"
    assert to_reviews["rates"] == {
        "http": "10.00",
        "http5xx": "0.50",
        "httpPercentErr": "5.0",
        "httpPercentReq": "50.0",
    }
    assert to_reviews["responses"] == {
        "200": {"flags": {"-": "95.0"}, "hosts": {"reviews.bookinfo.svc.cluster.local": "95.0"}},
        "503": {"flags": {"UF": "5.0"}, "hosts": {"reviews.bookinfo.svc.cluster.local": "5.0"}},
    }
    to_v2 = edges[(reviews, f"vapp|{C}|{NS}|reviews|v2")]["traffic"]["rates"]
    assert to_v2["httpPercentReq"] == "30.0"  # 3 of the service's 10 req/s
    assert to_v2["httpPercentErr"] == "16.7"


def test_bookinfo_node_fields_flags_and_traffic():
    inputs = GraphInputs(requests=bookinfo_requests(), mesh=MeshContext())
    graph = build_graph(inputs, readable(), 0, 60)
    nodes = nodes_by_id(graph)
    gw = nodes[f"app|{C}|istio-system|istio-ingressgateway"]
    assert gw["nodeType"] == "app"
    assert gw["isGateway"] == {"ingressInfo": {"hostnames": []}}
    assert gw["isRoot"] is True and gw["isOutside"] is True
    assert gw["traffic"] == [{"protocol": "http", "rates": {"httpOut": "10.00"}}]
    reviews = nodes[f"svc|{C}|{NS}|reviews"]
    assert reviews["nodeType"] == "service"
    assert reviews["service"] == "reviews"
    assert reviews["destServices"] == [{"cluster": C, "namespace": NS, "name": "reviews"}]
    assert reviews["traffic"][0]["rates"] == {"httpIn": "10.00", "httpIn5xx": "0.50", "httpOut": "10.00"}
    assert reviews["healthStatus"] == "Degraded"
    assert reviews["healthReason"] == "5xx 5% > 0%"
    v2 = nodes[f"vapp|{C}|{NS}|reviews|v2"]
    assert (v2["app"], v2["version"], v2["workload"]) == ("reviews", "v2", "reviews-v2")
    assert "isRoot" not in v2 and "isOutside" not in v2


def test_edges_carry_mtls_percentage_response_time_and_principals():
    inputs = GraphInputs(requests=bookinfo_requests(), latencies=bookinfo_latencies())
    graph = build_graph(inputs, readable(), 0, 60)
    edge = edges_by_key(graph)[(f"svc|{C}|{NS}|details", f"vapp|{C}|{NS}|details|v1")]
    assert edge["isMTLS"] == "100"
    assert edge["responseTime"] == "9"
    assert edge["responseTimes"] == {"avg": "5.00", "p50": "4.00", "p95": "9.00", "p99": "20.00"}
    assert edge["destPrincipal"] == "spiffe://cluster.local/ns/bookinfo/sa/details"
    assert edge["healthStatus"] == "Healthy"


def test_partial_mtls_share_is_a_rounded_percentage():
    rows = [
        RequestSample(labels("productpage", "details", "details", mtls=True), 2.0),
        RequestSample(labels("productpage", "details", "details", mtls=False), 1.0),
    ]
    graph = build_graph(GraphInputs(requests=rows), readable(graph_type="workload"), 0, 60)
    assert next(iter(edges_by_key(graph).values()))["isMTLS"] == "67"


def test_tcp_edge_has_tcp_rate_and_throughput():
    inputs = GraphInputs(tcp=[tcp_sample("reviews-v1", "ratings", "mysqldb", 1000.0, 500.0)])
    graph = build_graph(inputs, readable(graph_type="workload", inject_service_nodes=False), 0, 60)
    edge = next(iter(edges_by_key(graph).values()))
    assert edge["traffic"]["protocol"] == "tcp"
    # 1000 B/s sent + 500 B/s received: the total is the rate, each direction is kept for rateTcp=sent|received.
    assert edge["traffic"]["rates"] == {"tcp": "1500.00", "tcpSent": "1000.00", "tcpReceived": "500.00"}
    assert edge["throughput"] == "1500"
    assert edge["traffic"]["responses"]["-"]["flags"] == {"-": "100.0"}


def test_external_host_is_a_service_entry_node():
    rows = [
        RequestSample(labels("productpage", None, "httpbin.org", reporter="source", service_namespace="unknown"), 1)
    ]
    graph = build_graph(GraphInputs(requests=rows), readable(graph_type="workload"), 0, 60)
    node = nodes_by_id(graph)[f"svc|{C}|unknown|httpbin.org"]
    assert node["isServiceEntry"] == {"location": "MESH_EXTERNAL", "hosts": ["httpbin.org"], "namespace": ""}
    assert "isOutside" not in node


def test_versioned_app_graph_boxes_versions_of_an_app():
    graph = build_graph(GraphInputs(requests=bookinfo_requests()), readable(), 0, 60)
    nodes = nodes_by_id(graph)
    box_id = f"box|app|{C}|{NS}|reviews"
    assert nodes[box_id] == {
        "id": box_id,
        "nodeType": "box",
        "cluster": C,
        "namespace": NS,
        "isBox": "app",
        "app": "reviews",
        "healthStatus": "Failure",  # the worst member: reviews v2 with 0.5 of 3 req/s failing
        "healthReason": "inbound 5xx 16.7% ≥ 10%",
    }
    assert {n["id"] for n in nodes.values() if n.get("parent") == box_id} == {
        f"vapp|{C}|{NS}|reviews|{v}" for v in ("v1", "v2", "v3")
    }
    first = graph["elements"]["nodes"][0]["data"]
    assert first["nodeType"] == "box"  # parents come before their children


def test_namespace_and_cluster_boxes_nest_outside_app_boxes():
    rows = bookinfo_requests()
    rows.append(RequestSample(labels("productpage", "details", "details", cluster="west"), 1.0))
    options = readable(box_by=frozenset({"namespace", "cluster"}), graph_type="versionedApp")
    nodes = nodes_by_id(build_graph(GraphInputs(requests=rows), options, 0, 60))
    assert nodes[f"box|app|{C}|{NS}|reviews"]["parent"] == f"box|namespace|{C}|{NS}"
    assert nodes[f"box|namespace|{C}|{NS}"]["parent"] == f"box|cluster|{C}"
    assert nodes[f"vapp|west|{NS}|details|v1"]["parent"] == f"box|namespace|west|{NS}"
    assert nodes[f"box|namespace|{C}|istio-system"]["isBox"] == "namespace"
    kinds = [
        n["data"].get("isBox") for n in build_graph(GraphInputs(requests=rows), options, 0, 60)["elements"]["nodes"]
    ]
    assert kinds.index("cluster") < kinds.index("namespace") < kinds.index("app")


def test_idle_nodes_are_added_only_when_requested():
    mesh = MeshContext(workloads=[WorkloadInfo(NS, "reviews-v4", app="reviews", version="v4", cluster=C)])
    inputs = GraphInputs(requests=bookinfo_requests(), mesh=mesh)
    without = nodes_by_id(build_graph(inputs, readable(), 0, 60))
    with_idle = nodes_by_id(build_graph(inputs, readable(include_idle=True), 0, 60))
    idle_id = f"vapp|{C}|{NS}|reviews|v4"
    assert idle_id not in without
    assert with_idle[idle_id]["isIdle"] is True
    assert with_idle[idle_id]["parent"] == f"box|app|{C}|{NS}|reviews"


def test_literal_map_serializes_missing_sidecar_dead_and_vs_flags():
    node = Node(id="wl|c|ns|a", node_type="workload", cluster="c", namespace="ns", workload="a")
    node.has_missing_sidecar, node.is_dead, node.has_vs = True, True, ("a.ns.svc.cluster.local",)
    tm = TrafficMap(nodes={node.id: node}, edges={})
    data = build_graph_wire(tm, GraphOptions(id_style="readable"), 0, 0)["elements"]["nodes"][0]["data"]
    assert data["hasMissingSC"] is True and data["isOutOfMesh"] is True
    assert data["isDead"] is True
    assert data["hasVS"] == {"hostnames": ["a.ns.svc.cluster.local"]}


def test_edge_without_traffic_has_protocol_only():
    a = Node(id="a", node_type="workload", cluster="c", namespace="ns", workload="a")
    b = Node(id="b", node_type="workload", cluster="c", namespace="ns", workload="b")
    tm = TrafficMap(nodes={"a": a, "b": b}, edges={("a", "b", "http"): Edge("a", "b", "http")})
    edge = build_graph_wire(tm, GraphOptions(id_style="readable"), 0, 0)["elements"]["edges"][0]["data"]
    assert edge == {"id": "a.b.http", "source": "a", "target": "b", "traffic": {"protocol": "http"}}


def test_default_steps_run_in_documented_order_and_idle_only_when_requested():
    from topology.graph import build_default_steps

    names = [step.name for step in build_default_steps(GraphOptions())]
    assert names == [
        "serviceGraph", "serviceEntry", "deadNode", "gateway",
        "sidecarsCheck", "virtualService", "root", "outsider", "health", "box",
    ]  # fmt: skip
    with_idle = [step.name for step in build_default_steps(GraphOptions(include_idle=True))]
    assert with_idle == [*names[:3], "idleNode", *names[3:]]
