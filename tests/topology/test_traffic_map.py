"""Traffic-map building through the pipeline's own path: rows compiled once, then accumulated per graph type.

Reporter de-duplication, identity interning, response classes, node identity per graph type, rates and response
breakdowns, mTLS share and principals, and the merge rules of response times.
"""

from __future__ import annotations

import pytest

from tests.topology.bookinfo import (
    CLUSTER,
    NS,
    bookinfo_latencies,
    bookinfo_requests,
    both_reporters,
    labels,
    tcp_sample,
    traffic_map,
)
from topology.graph.model import GraphOptions
from topology.graph.samples import LatencySample, RequestSample, TcpSample
from topology.graph.traffic_map import (
    GRPC_ERROR,
    HTTP_3XX,
    HTTP_4XX,
    HTTP_5XX,
    NO_CLASS,
    SampleCompiler,
)

C = CLUSTER
WORKLOAD_ONLY = GraphOptions(graph_type="workload", inject_service_nodes=False)


def edge_set(tm):
    return {(s, t, p) for (s, t, p) in tm.edges}


def wl_id(name, ns=NS):
    return f"wl|{C}|{ns}|{name}"


def test_compiler_keeps_only_counted_rows_of_every_kind():
    requests = both_reporters("productpage", "details", "details", 10.0)
    tcp = [
        TcpSample(labels("reviews-v1", "ratings", "ratings", protocol="tcp", reporter="source"), 5.0, 5.0),
        tcp_sample("reviews-v1", "ratings", "ratings", sent=300.0, received=100.0),
    ]
    latencies = [
        LatencySample(labels("productpage", "details", "details", reporter="source"), avg=1.0),
        LatencySample(labels("productpage", "details", "details"), avg=2.0),
    ]
    compiler = SampleCompiler()
    compiler.add_traffic(requests, tcp)
    samples = compiler.add_latencies(latencies)
    assert [row[1] for row in samples.requests] == [10.0]
    assert [row[1] for row in samples.tcp] == [400.0]  # bytes sent plus received
    assert [row[2].avg for row in samples.latencies] == [2.0]


def test_compiler_interns_identities_and_slots_in_the_order_first_met():
    requests = [
        RequestSample(labels("productpage", "details", "details", code="200"), 1.0),
        RequestSample(labels("productpage", "reviews-v1", "reviews"), 1.0),
        RequestSample(labels("productpage", "details", "details", code="503"), 1.0),
        RequestSample(labels("productpage", "details", "details", protocol="grpc"), 1.0),
    ]
    tcp = [tcp_sample("productpage", "details", "details", 1.0, 1.0)]
    latencies = [LatencySample(labels("reviews-v2", "ratings", "ratings"), avg=1.0)]
    compiler = SampleCompiler()
    compiler.add_traffic(requests, tcp)
    samples = compiler.add_latencies(latencies)
    # Response codes do not make identities; protocols make slots of the same identity.
    assert [(i["source_workload"], i["destination_workload"]) for i in samples.identities] == [
        ("productpage-v1", "details-v1"),
        ("productpage-v1", "reviews-v1"),
        ("reviews-v2", "ratings-v1"),  # met only in a latency row: numbered last
    ]
    assert samples.slots == [(0, "http"), (1, "http"), (0, "grpc"), (0, "tcp")]
    assert [row[0] for row in samples.requests] == [0, 1, 0, 2]
    assert [row[0] for row in samples.tcp] == [3]
    assert [(row[0], row[1]) for row in samples.latencies] == [(2, "http")]


def test_compiler_classes_each_request_row_by_its_response():
    rows = [
        RequestSample(labels("productpage", "details", "details", code=code), 1.0)
        for code in ("200", "301", "404", "503")
    ]
    rows += [
        RequestSample(labels("productpage", "details", "details", protocol="grpc", grpc_status=status), 1.0)
        for status in ("0", "14")
    ]
    # Older telemetry: gRPC rows without a gRPC status are classed by their HTTP code.
    rows += [
        RequestSample(labels("productpage", "details", "details", protocol="grpc", code=code), 1.0)
        for code in ("200", "503")
    ]
    samples = SampleCompiler().add_traffic(rows, ())
    assert [(row[2], row[3]) for row in samples.requests] == [
        ("200", NO_CLASS),
        ("301", HTTP_3XX),
        ("404", HTTP_4XX),
        ("503", HTTP_5XX),
        ("0", NO_CLASS),
        ("14", GRPC_ERROR),
        ("200", NO_CLASS),
        ("503", GRPC_ERROR),
    ]


def test_compiler_reads_flags_host_mtls_and_principals_with_defaults():
    bare = labels("productpage", "details", "details", mtls=False)
    for name in ("response_flags", "source_principal", "destination_principal", "connection_security_policy"):
        del bare[name]
    rows = [RequestSample(labels("productpage", "details", "details", flags="UF"), 1.0), RequestSample(bare, 1.0)]
    samples = SampleCompiler().add_traffic(rows, ())
    assert [row[4:] for row in samples.requests] == [
        (
            "UF",
            "details.bookinfo.svc.cluster.local",
            True,
            "spiffe://cluster.local/ns/bookinfo/sa/productpage",
            "spiffe://cluster.local/ns/bookinfo/sa/details",
        ),
        ("-", "details.bookinfo.svc.cluster.local", False, "unknown", "unknown"),
    ]


def test_duplicated_source_and_destination_rows_are_counted_once():
    tm = traffic_map(WORKLOAD_ONLY, bookinfo_requests())
    edge = tm.edges[(wl_id("productpage-v1"), wl_id("details-v1"), "http")]
    assert edge.rate == pytest.approx(10.0)
    assert tm.nodes[wl_id("productpage-v1")].rates["httpOut"] == pytest.approx(20.0)


def test_versioned_app_graph_has_versions_and_injected_service_nodes():
    tm = traffic_map(GraphOptions(graph_type="versionedApp"), bookinfo_requests())
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
    tm = traffic_map(GraphOptions(graph_type="app", inject_service_nodes=False), bookinfo_requests())
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
    tm = traffic_map(WORKLOAD_ONLY, bookinfo_requests())
    assert set(tm.nodes) == {
        wl_id("istio-ingressgateway", "istio-system"), wl_id("productpage-v1"), wl_id("details-v1"),
        wl_id("reviews-v1"), wl_id("reviews-v2"), wl_id("reviews-v3"), wl_id("ratings-v1"),
    }  # fmt: skip
    assert len(tm.edges) == 7
    assert all(n.node_type == "workload" for n in tm.nodes.values())


def test_unknown_source_becomes_the_unknown_node():
    rows = [RequestSample(labels("unknown", "productpage", "productpage"), 1.0)]
    tm = traffic_map(GraphOptions(graph_type="workload"), rows)
    unknown = tm.nodes["unknown"]
    assert unknown.node_type == "unknown"
    assert unknown.namespace == "unknown"
    assert ("unknown", f"svc|{C}|{NS}|productpage", "http") in tm.edges


def test_request_to_service_without_workload_ends_at_service_node():
    rows = both_reporters("productpage", None, "reviews", 1.0, code="503", flags="UH")
    tm = traffic_map(WORKLOAD_ONLY, rows)
    edge = tm.edges[(wl_id("productpage-v1"), f"svc|{C}|{NS}|reviews", "http")]
    assert edge.rate == pytest.approx(1.0)
    assert edge.responses["503"].flags == {"UH": pytest.approx(1.0)}


def test_error_rates_split_4xx_5xx_and_3xx():
    rows = [
        RequestSample(labels("productpage", "details", "details", code="200"), 6.0),
        RequestSample(labels("productpage", "details", "details", code="301"), 1.0),
        RequestSample(labels("productpage", "details", "details", code="404"), 2.0),
        RequestSample(labels("productpage", "details", "details", code="500"), 1.0),
    ]
    tm = traffic_map(WORKLOAD_ONLY, rows)
    edge = next(iter(tm.edges.values()))
    assert (edge.rate, edge.rate_3xx, edge.rate_4xx, edge.rate_5xx) == pytest.approx((10.0, 1.0, 2.0, 1.0))
    details = tm.nodes[wl_id("details-v1")].rates
    assert details["httpIn4xx"] == pytest.approx(2.0)
    assert details["httpIn5xx"] == pytest.approx(1.0)
    assert tm.nodes[wl_id("productpage-v1")].rates["httpOut5xx"] == pytest.approx(1.0)


def test_grpc_errors_use_grpc_status_not_http_code():
    rows = [
        RequestSample(labels("productpage", "details", "details", protocol="grpc", grpc_status="0"), 8.0),
        RequestSample(labels("productpage", "details", "details", protocol="grpc", grpc_status="14"), 2.0),
    ]
    tm = traffic_map(WORKLOAD_ONLY, rows)
    edge = next(iter(tm.edges.values()))
    assert edge.protocol == "grpc"
    assert edge.rate_grpc_err == pytest.approx(2.0)
    assert edge.rate_5xx == 0
    assert set(edge.responses) == {"0", "14"}
    assert tm.nodes[wl_id("details-v1")].rates == {"grpcIn": pytest.approx(10.0), "grpcInErr": pytest.approx(2.0)}


def test_grpc_without_status_counts_http_error_codes_as_errors():
    rows = [
        RequestSample(labels("productpage", "details", "details", protocol="grpc", code="200"), 3.0),
        RequestSample(labels("productpage", "details", "details", protocol="grpc", code="503"), 1.0),
    ]
    edge = next(iter(traffic_map(WORKLOAD_ONLY, rows).edges.values()))
    assert (edge.rate, edge.rate_grpc_err, edge.rate_5xx) == pytest.approx((4.0, 1.0, 0.0))
    assert set(edge.responses) == {"200", "503"}


def test_response_code_breakdown_by_flags_and_hosts():
    rows = [
        RequestSample(labels("productpage", "reviews-v2", "reviews", code="200"), 2.5),
        RequestSample(labels("productpage", "reviews-v2", "reviews", code="503", flags="UF"), 0.5),
        RequestSample(labels("productpage", "reviews-v2", "reviews", code="503", flags="URX"), 0.5),
    ]
    tm = traffic_map(WORKLOAD_ONLY, rows)
    edge = next(iter(tm.edges.values()))
    assert edge.responses["503"].flags == {"UF": pytest.approx(0.5), "URX": pytest.approx(0.5)}
    assert edge.responses["503"].hosts == {"reviews.bookinfo.svc.cluster.local": pytest.approx(1.0)}
    assert edge.responses["200"].flags == {"-": pytest.approx(2.5)}


def test_zero_rate_rows_create_edges_without_traffic():
    tm = traffic_map(WORKLOAD_ONLY, [RequestSample(labels("productpage", "details", "details"), 0.0)])
    edge = next(iter(tm.edges.values()))
    assert edge.rate == 0 and edge.responses == {}
    assert edge.source_principals == set() and edge.mtls_rate == 0
    assert tm.nodes[wl_id("details-v1")].rates == {}


def test_tcp_samples_add_bytes_per_second_edges():
    tm = traffic_map(WORKLOAD_ONLY, tcp=[tcp_sample("reviews-v1", "ratings", "mysqldb", sent=300.0, received=100.0)])
    edge = next(iter(tm.edges.values()))
    assert edge.protocol == "tcp"
    assert edge.rate == pytest.approx(400.0)
    assert edge.throughput == pytest.approx(400.0)
    assert edge.responses["-"].hosts == {"mysqldb.bookinfo.svc.cluster.local": pytest.approx(400.0)}
    assert tm.nodes[wl_id("ratings-v1")].rates["tcpIn"] == pytest.approx(400.0)


def test_app_graph_with_service_nodes_routes_through_services():
    tm = traffic_map(GraphOptions(graph_type="app"), bookinfo_requests())
    a = lambda app: f"app|{C}|{NS}|{app}"  # noqa: E731
    s = lambda name: f"svc|{C}|{NS}|{name}"  # noqa: E731
    assert (a("productpage"), s("reviews"), "http") in tm.edges
    assert tm.edges[(s("reviews"), a("reviews"), "http")].rate == pytest.approx(10.0)
    assert (a("productpage"), a("reviews"), "http") not in tm.edges


def test_mtls_share_and_principals_come_from_counted_rows_with_traffic():
    rows = [
        RequestSample(labels("productpage", "details", "details", mtls=True), 3.0),
        RequestSample(labels("productpage", "details", "details", mtls=False), 1.0),
        RequestSample(labels("productpage", "details", "details", reporter="source"), 4.0),
        RequestSample(labels("unknown", "details", "details", mtls=True), 0.0),  # no traffic: no principal
    ]
    tm = traffic_map(WORKLOAD_ONLY, rows)
    edge = tm.edges[(wl_id("productpage-v1"), wl_id("details-v1"), "http")]
    assert edge.rate == pytest.approx(4.0)
    assert edge.mtls_rate == pytest.approx(3.0)
    assert edge.source_principals == {"spiffe://cluster.local/ns/bookinfo/sa/productpage"}
    assert edge.dest_principals == {"spiffe://cluster.local/ns/bookinfo/sa/details"}
    from_unknown = tm.edges[("unknown", wl_id("details-v1"), "http")]
    assert from_unknown.mtls_rate == 0 and from_unknown.dest_principals == set()


def test_tcp_traffic_counts_in_the_mtls_share():
    tcp = [
        tcp_sample("reviews-v1", "ratings", "ratings", sent=300.0, received=100.0),
        TcpSample(labels("reviews-v1", "ratings", "ratings", protocol="tcp", mtls=False), 50.0, 50.0),
    ]
    edge = next(iter(traffic_map(WORKLOAD_ONLY, tcp=tcp).edges.values()))
    assert (edge.rate, edge.mtls_rate) == pytest.approx((500.0, 400.0))


def test_mtls_and_principals_add_up_on_every_hop_of_a_path():
    rows = [
        RequestSample(labels("productpage", "reviews-v1", "reviews", mtls=True), 3.0),
        RequestSample(labels("productpage", "reviews-v2", "reviews", mtls=False), 1.0),
    ]
    tm = traffic_map(GraphOptions(graph_type="app"), rows)
    to_service = tm.edges[(f"app|{C}|{NS}|productpage", f"svc|{C}|{NS}|reviews", "http")]
    behind = tm.edges[(f"svc|{C}|{NS}|reviews", f"app|{C}|{NS}|reviews", "http")]
    for edge in (to_service, behind):
        assert (edge.rate, edge.mtls_rate) == pytest.approx((4.0, 3.0))
        assert edge.dest_principals == {"spiffe://cluster.local/ns/bookinfo/sa/reviews"}


def test_response_times_set_edge_quantiles_and_merge_rows_on_a_service_edge():
    tm = traffic_map(GraphOptions(graph_type="versionedApp"), bookinfo_requests(), latencies=bookinfo_latencies())
    pp, reviews = f"vapp|{C}|{NS}|productpage|v1", f"svc|{C}|{NS}|reviews"
    to_v1 = tm.edges[(reviews, f"vapp|{C}|{NS}|reviews|v1", "http")].response_times
    assert to_v1 is not None and (to_v1.avg, to_v1.p50, to_v1.p95, to_v1.p99) == (10.0, 8, 30, 50)
    to_service = tm.edges[(pp, reviews, "http")].response_times
    assert to_service is not None
    assert to_service.avg == pytest.approx(15.0)  # request-weighted mean of 10 ms (3 req/s) and 20 ms (3 req/s)
    assert (to_service.p50, to_service.p95, to_service.p99) == (15, 40, 90)  # quantiles merge as the upper bound
    assert to_service.weight == 6
    assert tm.edges[(pp, f"svc|{C}|{NS}|details", "http")].response_times.p99 == 20.0
    assert tm.edges[(f"svc|{C}|{NS}|reviews", f"vapp|{C}|{NS}|reviews|v3", "http")].response_times is None


def test_response_time_rows_without_a_weight_weigh_one_and_missing_stats_stay_missing():
    requests = both_reporters("productpage", "reviews-v1", "reviews", 1.0)
    requests += both_reporters("productpage", "reviews-v2", "reviews", 1.0)
    latencies = [
        LatencySample(labels("productpage", "reviews-v1", "reviews"), avg=10.0, p95=30.0),
        LatencySample(labels("productpage", "reviews-v2", "reviews"), avg=40.0, p50=25.0, weight=3.0),
    ]
    tm = traffic_map(GraphOptions(graph_type="app", inject_service_nodes=False), requests, latencies=latencies)
    times = next(iter(tm.edges.values())).response_times
    assert times is not None
    assert times.avg == pytest.approx((10.0 * 1 + 40.0 * 3) / 4)
    assert (times.p50, times.p95, times.p99) == (25.0, 30.0, None)


def test_latency_rows_of_the_uncounted_reporter_or_another_protocol_are_ignored():
    requests = both_reporters("productpage", "details", "details", 1.0)
    latencies = [
        LatencySample(labels("productpage", "details", "details", reporter="source"), avg=99.0),
        LatencySample(labels("productpage", "details", "details", protocol="grpc"), avg=98.0),
        LatencySample(labels("productpage", "details", "details"), avg=5.0),
    ]
    edge = next(iter(traffic_map(WORKLOAD_ONLY, requests, latencies=latencies).edges.values()))
    assert edge.response_times is not None and edge.response_times.avg == 5.0


def test_latency_only_identities_add_no_edge_but_resolve_their_nodes():
    requests = both_reporters("productpage", "reviews-v1", "reviews", 1.0)
    latency_only = LatencySample(labels("ratings", "reviews-v1", "ratings"), avg=9.0, p50=8.0, weight=1.0)
    tm = traffic_map(WORKLOAD_ONLY, requests, latencies=[latency_only])
    assert edge_set(tm) == {(wl_id("productpage-v1"), wl_id("reviews-v1"), "http")}
    assert wl_id("ratings-v1") not in tm.nodes
    # Resolving the row files the service it names under the workload, as a request row would.
    assert [s.name for s in tm.nodes[wl_id("reviews-v1")].dest_services.values()] == ["reviews", "ratings"]
    assert next(iter(tm.edges.values())).response_times is None
