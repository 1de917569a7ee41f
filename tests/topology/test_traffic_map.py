"""Traffic-map building: reporter de-duplication, node identity per graph type, edge accumulation."""

from __future__ import annotations

import pytest

from tests.topology.bookinfo import CLUSTER, NS, bookinfo_requests, both_reporters, labels, tcp_sample
from topology.graph.model import GraphOptions
from topology.graph.samples import RequestSample
from topology.graph.traffic_map import build_traffic_map, dedupe_by_reporter, is_counted_row

C = CLUSTER


def edge_set(tm):
    return {(s, t, p) for (s, t, p) in tm.edges}


def test_destination_reporter_wins_for_mesh_destination():
    rows = both_reporters("productpage", "details", "details", 10.0)
    kept = dedupe_by_reporter(rows)
    assert [r.labels["reporter"] for r in kept] == ["destination"]


def test_source_reporter_wins_for_destination_outside_mesh():
    rows = both_reporters("productpage", None, "httpbin.org", 2.0, service_namespace="unknown")
    kept = dedupe_by_reporter(rows)
    assert [r.labels["reporter"] for r in kept] == ["source"]


def test_rows_from_other_reporters_are_not_counted():
    assert not is_counted_row(labels("productpage", "details", "details", reporter="waypoint"))


def test_duplicated_source_and_destination_rows_are_counted_once():
    tm = build_traffic_map(GraphOptions(graph_type="workload", inject_service_nodes=False), bookinfo_requests())
    edge = tm.edges[(f"wl|{C}|{NS}|productpage-v1", f"wl|{C}|{NS}|details-v1", "http")]
    assert edge.rate == pytest.approx(10.0)
    assert tm.nodes[f"wl|{C}|{NS}|productpage-v1"].rates["httpOut"] == pytest.approx(20.0)


def test_versioned_app_graph_has_versions_and_injected_service_nodes():
    tm = build_traffic_map(GraphOptions(graph_type="versionedApp"), bookinfo_requests())
    gw = f"app|{C}|istio-system|istio-ingressgateway"
    v = lambda app, ver: f"vapp|{C}|{NS}|{app}|{ver}"  # noqa: E731
    s = lambda name: f"svc|{C}|{NS}|{name}"  # noqa: E731
    assert set(tm.nodes) == {
        gw,
        s("productpage"), s("details"), s("reviews"), s("ratings"),
        v("productpage", "v1"), v("details", "v1"), v("reviews", "v1"), v("reviews", "v2"),
        v("reviews", "v3"), v("ratings", "v1"),
    }  # fmt: skip
    assert edge_set(tm) == {
        (gw, s("productpage"), "http"),
        (s("productpage"), v("productpage", "v1"), "http"),
        (v("productpage", "v1"), s("details"), "http"),
        (s("details"), v("details", "v1"), "http"),
        (v("productpage", "v1"), s("reviews"), "http"),
        (s("reviews"), v("reviews", "v1"), "http"),
        (s("reviews"), v("reviews", "v2"), "http"),
        (s("reviews"), v("reviews", "v3"), "http"),
        (v("reviews", "v2"), s("ratings"), "http"),
        (v("reviews", "v3"), s("ratings"), "http"),
        (s("ratings"), v("ratings", "v1"), "http"),
    }
    reviews_v2 = tm.nodes[v("reviews", "v2")]
    assert reviews_v2.node_type == "app"
    assert reviews_v2.workload == "reviews-v2"
    assert [d.name for d in reviews_v2.dest_services.values()] == ["reviews"]


def test_app_graph_folds_versions_into_one_node_per_app():
    tm = build_traffic_map(GraphOptions(graph_type="app", inject_service_nodes=False), bookinfo_requests())
    a = lambda app, ns=NS: f"app|{C}|{ns}|{app}"  # noqa: E731
    assert set(tm.nodes) == {
        a("istio-ingressgateway", "istio-system"),
        a("productpage"),
        a("details"),
        a("reviews"),
        a("ratings"),
    }
    assert edge_set(tm) == {
        (a("istio-ingressgateway", "istio-system"), a("productpage"), "http"),
        (a("productpage"), a("details"), "http"),
        (a("productpage"), a("reviews"), "http"),
        (a("reviews"), a("ratings"), "http"),
    }
    assert tm.edges[(a("reviews"), a("ratings"), "http")].rate == pytest.approx(7.0)
    assert tm.nodes[a("reviews")].workloads == {"reviews-v1", "reviews-v2", "reviews-v3"}
    assert tm.nodes[a("reviews")].version == ""


def test_workload_graph_has_one_node_per_workload():
    tm = build_traffic_map(GraphOptions(graph_type="workload", inject_service_nodes=False), bookinfo_requests())
    w = lambda name, ns=NS: f"wl|{C}|{ns}|{name}"  # noqa: E731
    assert set(tm.nodes) == {
        w("istio-ingressgateway", "istio-system"), w("productpage-v1"), w("details-v1"),
        w("reviews-v1"), w("reviews-v2"), w("reviews-v3"), w("ratings-v1"),
    }  # fmt: skip
    assert len(tm.edges) == 7
    assert all(n.node_type == "workload" for n in tm.nodes.values())


def test_unknown_source_becomes_the_unknown_node():
    rows = [RequestSample(labels("unknown", "productpage", "productpage"), 1.0)]
    tm = build_traffic_map(GraphOptions(graph_type="workload"), rows)
    unknown = tm.nodes["unknown"]
    assert unknown.node_type == "unknown"
    assert unknown.namespace == "unknown"
    assert ("unknown", f"svc|{C}|{NS}|productpage", "http") in tm.edges


def test_request_to_service_without_workload_ends_at_service_node():
    rows = both_reporters("productpage", None, "reviews", 1.0, code="503", flags="UH")
    tm = build_traffic_map(GraphOptions(graph_type="workload", inject_service_nodes=False), rows)
    edge = tm.edges[(f"wl|{C}|{NS}|productpage-v1", f"svc|{C}|{NS}|reviews", "http")]
    assert edge.rate == pytest.approx(1.0)
    assert edge.responses["503"].flags == {"UH": pytest.approx(1.0)}


def test_error_rates_split_4xx_5xx_and_3xx():
    rows = [
        RequestSample(labels("productpage", "details", "details", code="200"), 6.0),
        RequestSample(labels("productpage", "details", "details", code="301"), 1.0),
        RequestSample(labels("productpage", "details", "details", code="404"), 2.0),
        RequestSample(labels("productpage", "details", "details", code="500"), 1.0),
    ]
    tm = build_traffic_map(GraphOptions(graph_type="workload", inject_service_nodes=False), rows)
    edge = next(iter(tm.edges.values()))
    assert (edge.rate, edge.rate_3xx, edge.rate_4xx, edge.rate_5xx) == pytest.approx((10.0, 1.0, 2.0, 1.0))
    details = tm.nodes[f"wl|{C}|{NS}|details-v1"].rates
    assert details["httpIn4xx"] == pytest.approx(2.0)
    assert details["httpIn5xx"] == pytest.approx(1.0)


def test_grpc_errors_use_grpc_status_not_http_code():
    rows = [
        RequestSample(labels("productpage", "details", "details", protocol="grpc", grpc_status="0"), 8.0),
        RequestSample(labels("productpage", "details", "details", protocol="grpc", grpc_status="14"), 2.0),
    ]
    tm = build_traffic_map(GraphOptions(graph_type="workload", inject_service_nodes=False), rows)
    edge = next(iter(tm.edges.values()))
    assert edge.protocol == "grpc"
    assert edge.rate_grpc_err == pytest.approx(2.0)
    assert edge.rate_5xx == 0
    assert set(edge.responses) == {"0", "14"}


def test_response_code_breakdown_by_flags_and_hosts():
    rows = [
        RequestSample(labels("productpage", "reviews-v2", "reviews", code="200"), 2.5),
        RequestSample(labels("productpage", "reviews-v2", "reviews", code="503", flags="UF"), 0.5),
        RequestSample(labels("productpage", "reviews-v2", "reviews", code="503", flags="URX"), 0.5),
    ]
    tm = build_traffic_map(GraphOptions(graph_type="workload", inject_service_nodes=False), rows)
    edge = next(iter(tm.edges.values()))
    assert edge.responses["503"].flags == {"UF": pytest.approx(0.5), "URX": pytest.approx(0.5)}
    assert edge.responses["503"].hosts == {"reviews.bookinfo.svc.cluster.local": pytest.approx(1.0)}
    assert edge.responses["200"].flags == {"-": pytest.approx(2.5)}


def test_zero_rate_rows_create_edges_without_traffic():
    tm = build_traffic_map(
        GraphOptions(graph_type="workload", inject_service_nodes=False),
        [RequestSample(labels("productpage", "details", "details"), 0.0)],
    )
    edge = next(iter(tm.edges.values()))
    assert edge.rate == 0 and edge.responses == {}


def test_tcp_samples_add_bytes_per_second_edges():
    tm = build_traffic_map(
        GraphOptions(graph_type="workload", inject_service_nodes=False),
        tcp=[tcp_sample("reviews-v1", "ratings", "mysqldb", sent=300.0, received=100.0)],
    )
    edge = next(iter(tm.edges.values()))
    assert edge.protocol == "tcp"
    assert edge.rate == pytest.approx(400.0)
    assert edge.throughput == pytest.approx(400.0)
    assert tm.nodes[f"wl|{C}|{NS}|ratings-v1"].rates["tcpIn"] == pytest.approx(400.0)


def test_app_graph_with_service_nodes_routes_through_services():
    tm = build_traffic_map(GraphOptions(graph_type="app"), bookinfo_requests())
    a = lambda app: f"app|{C}|{NS}|{app}"  # noqa: E731
    s = lambda name: f"svc|{C}|{NS}|{name}"  # noqa: E731
    assert (a("productpage"), s("reviews"), "http") in tm.edges
    assert tm.edges[(s("reviews"), a("reviews"), "http")].rate == pytest.approx(10.0)
    assert (a("productpage"), a("reviews"), "http") not in tm.edges
