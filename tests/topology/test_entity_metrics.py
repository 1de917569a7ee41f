"""Per-entity metrics of a snapshot, from literal Kiali-shaped graphs (pure, no database)."""

from __future__ import annotations

from topology.entity_metrics import (
    build_series_point,
    build_snapshot_metrics,
    compute_graph_entity_metrics,
    compute_namespace_inbound,
    downsample,
)


def node(node_id, node_type, namespace, **fields):
    return {"data": {"id": node_id, "nodeType": node_type, "namespace": namespace, **fields}}


def http(source, target, rate, e4="0", e5="0", times=None):
    data = {
        "id": f"{source}>{target}",
        "source": source,
        "target": target,
        "traffic": {"protocol": "http", "rates": {"http": rate, "http4xx": e4, "http5xx": e5}},
    }
    if times:
        data["responseTimes"] = times
    return {"data": data}


def grpc(source, target, rate, errors="0"):
    rates = {"grpc": rate, "grpcErr": errors}
    return {
        "data": {
            "id": f"{source}>{target}",
            "source": source,
            "target": target,
            "traffic": {"protocol": "grpc", "rates": rates},
        }
    }


def tcp(source, target, rate):
    traffic = {"protocol": "tcp", "rates": {"tcp": rate}}
    return {"data": {"id": f"{source}>{target}", "source": source, "target": target, "traffic": traffic}}


def graph(nodes, edges):
    return {"elements": {"nodes": nodes, "edges": edges}}


WORKLOADS = graph(
    [
        node("box", "box", "shop", isBox="namespace"),
        node("u", "unknown", "unknown"),
        node("gw", "workload", "istio-system", workload="ingress"),
        node("front", "workload", "shop", workload="front-v1", app="front"),
        node("svc", "service", "shop", service="cart"),
        node("cart", "workload", "shop", workload="cart-v1", app="cart"),
        node("db", "workload", "data", workload="db"),
    ],
    [
        http("gw", "front", "30", times={"avg": "10", "p50": "8", "p95": "20", "p99": "40"}),
        http("u", "front", "10", e4="1", times={"avg": "30", "p50": "16", "p95": "60", "p99": "80"}),
        http("front", "svc", "20", e5="2"),
        http("svc", "cart", "20", e5="2"),
        grpc("front", "cart", "5", errors="1"),
        tcp("cart", "db", "1000"),
    ],
)


def test_inbound_rates_error_classes_and_request_weighted_latency():
    metrics = compute_graph_entity_metrics(WORKLOADS, "workload", "workload")
    front = metrics["shop/front-v1"]
    assert front["inHttp"] == 40 and front["in4xx"] == 1
    # 30 req/s at avg 10 ms and 10 req/s at avg 30 ms: weighted by requests, 15 ms.
    assert front["avg"] == 15 and front["p95"] == 30 and front["p99"] == 50
    assert front["outHttp"] == 20 and front["out5xx"] == 2 and front["outGrpc"] == 5 and front["outGrpcErr"] == 1
    assert "tcpIn" not in front


def test_tcp_throughput_and_nodes_without_traffic_left_out():
    metrics = compute_graph_entity_metrics(WORKLOADS, "workload", "workload")
    assert metrics["shop/cart-v1"]["tcpOut"] == 1000
    assert metrics["data/db"] == {"tcpIn": 1000}
    assert "unknown/unknown" not in metrics
    assert set(metrics) == {"istio-system/ingress", "shop/front-v1", "shop/cart-v1", "data/db"}


def test_service_nodes_are_keyed_by_service_name():
    metrics = compute_graph_entity_metrics(WORKLOADS, "service", "service")
    assert metrics == {"shop/cart": {"inHttp": 20, "in5xx": 2, "outHttp": 20, "out5xx": 2}}


def test_namespace_inbound_counts_only_traffic_from_other_namespaces():
    inbound = compute_namespace_inbound(WORKLOADS)
    # gw (istio-system) and the unknown caller enter shop; front→svc→cart stays inside.
    assert inbound["shop"]["inHttp"] == 40
    assert inbound["data"] == {"tcpIn": 1000}
    assert "istio-system" not in inbound


def test_snapshot_metrics_use_the_graph_of_each_kind():
    apps = graph([node("a", "app", "shop", app="front"), node("b", "app", "shop", app="cart")], [http("a", "b", "3")])
    metrics = build_snapshot_metrics({"workload": WORKLOADS, "app": apps})
    assert metrics["app"] == {"shop/cart": {"inHttp": 3}, "shop/front": {"outHttp": 3}}
    assert metrics["service"] == {}
    assert metrics["namespace"]["shop"]["inHttp"] == 40


def test_series_point_gives_percentages_and_gaps():
    point = build_series_point({"inHttp": 40, "in4xx": 1, "in5xx": 4, "p95": 30, "outGrpc": 5, "outGrpcErr": 1})
    assert point["inRate"] == 40 and point["errorRate5xx"] == 10 and point["errorRate4xx"] == 2.5
    assert point["errorRateGrpc"] is None and point["p50"] is None and point["p95"] == 30
    assert point["outRate"] == 5 and point["outErrorRateGrpc"] == 20
    assert build_series_point(None)["inRate"] == 0
    assert point["errorRateNoResponse"] == 0 and point["outErrorRateNoResponse"] == 0


def test_requests_without_response_are_their_own_error_rate():
    # 8 http + 2 grpc requests/s into cart: 1 http and 1 grpc got no response -> 2 of 10 = 20 %.
    edges = [
        {
            "data": {
                "source": "a",
                "target": "b",
                "traffic": {"protocol": "http", "rates": {"http": "8", "httpNoResponse": "1"}},
            }
        },
        {
            "data": {
                "source": "a",
                "target": "b",
                "traffic": {"protocol": "grpc", "rates": {"grpc": "2", "grpcNoResponse": "1"}},
            }
        },
    ]
    nodes = [node("a", "workload", "shop", workload="front"), node("b", "workload", "shop", workload="cart")]
    metrics = build_snapshot_metrics({"workload": {"elements": {"nodes": nodes, "edges": edges}}})
    cart = metrics["workload"]["shop/cart"]
    assert cart == {"inHttp": 8, "inGrpc": 2, "inNoResponse": 2}
    point = build_series_point(cart)
    assert (point["errorRateNoResponse"], point["errorRate5xx"], point["errorRateGrpc"]) == (20, 0, 0)


def test_downsample_averages_buckets_and_keeps_gaps():
    points = [{"t": str(i), "inRate": float(i), "p95": None if i < 2 else 10.0} for i in range(6)]
    assert downsample(points, 3) == [
        {"t": "1", "inRate": 0.5, "p95": None},
        {"t": "3", "inRate": 2.5, "p95": 10.0},
        {"t": "5", "inRate": 4.5, "p95": 10.0},
    ]
    assert downsample(points, 10) is points
