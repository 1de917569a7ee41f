"""Traffic by direction on literal rows (``tests.topology.direction_traffic``): stored keys, and Kiali's options.

Workload graph with injected service nodes, readable ids: every number below is derived by hand from the rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.topology.bookinfo import CLUSTER, NS, labels
from tests.topology.direction_traffic import direction_rows
from topology.graph import GraphOptions, build_graph
from topology.graph.rate_options import apply_direction_options
from topology.telemetry.rows import build_graph_inputs

PP, DETAILS, RATINGS = (f"wl|{CLUSTER}|{NS}|{name}" for name in ("productpage-v1", "details-v1", "ratings-v1"))
REVIEWS_V1, REVIEWS_V2 = f"wl|{CLUSTER}|{NS}|reviews-v1", f"wl|{CLUSTER}|{NS}|reviews-v2"
GATEWAY = f"wl|{CLUSTER}|istio-system|istio-ingressgateway"


def svc(name: str) -> str:
    return f"svc|{CLUSTER}|{NS}|{name}"


def _graph() -> dict[str, Any]:
    options = GraphOptions(graph_type="workload", namespaces=frozenset({NS}), id_style="readable")
    return build_graph(build_graph_inputs(direction_rows()), options, 0, 60)


def _edges(graph: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(e["data"]["source"], e["data"]["target"], e["data"]["traffic"]["protocol"]): e["data"] for e in
            graph["elements"]["edges"]}  # fmt: skip


def _node_rates(graph: dict[str, Any], node_id: str) -> dict[str, dict[str, str]]:
    data = next(n["data"] for n in graph["elements"]["nodes"] if n["data"]["id"] == node_id)
    return {t["protocol"]: t["rates"] for t in data.get("traffic", [])}


def test_stored_edges_keep_each_direction_counted_once():
    edges = _edges(_graph())
    # gRPC to details: 2 requests/s; 6 messages/s sent, 4 received (the source reports' twins not added: not 12/8).
    for key in ((PP, svc("details"), "grpc"), (svc("details"), DETAILS, "grpc")):
        rates = edges[key]["traffic"]["rates"]
        assert (rates["grpc"], rates["grpcSent"], rates["grpcReceived"]) == ("2.00", "6.00", "4.00")
    to_ratings = edges[(PP, svc("ratings"), "grpc")]["traffic"]["rates"]
    # 1 OK + 1 status 14 = 2 requests/s, 1 an error (50 %); messages 2 sent, 8 received.
    assert to_ratings["grpc"] == "2.00" and to_ratings["grpcErr"] == "1.00" and to_ratings["grpcPercentErr"] == "50.0"
    assert (to_ratings["grpcSent"], to_ratings["grpcReceived"]) == ("2.00", "8.00")
    # TCP: the rate stays the total (1000 + 500), each direction kept apart; the service edge sums both callers.
    assert edges[(REVIEWS_V1, svc("ratings"), "tcp")]["traffic"]["rates"] == {
        "tcp": "1500.00",
        "tcpSent": "1000.00",
        "tcpReceived": "500.00",
    }
    assert edges[(svc("ratings"), RATINGS, "tcp")]["traffic"]["rates"] == {
        "tcp": "1900.00",
        "tcpSent": "1300.00",
        "tcpReceived": "600.00",
    }
    http = edges[(GATEWAY, svc("productpage"), "http")]
    assert http["traffic"]["rates"]["httpRequestBytes"] == "2000.00"
    assert http["traffic"]["rates"]["httpResponseBytes"] == "50000.00"
    assert "throughput" not in http  # http throughput only when asked (throughputType), as Kiali's appender


@pytest.mark.parametrize(
    ("rate_grpc", "to_details", "to_ratings", "shares"),
    [
        ("sent", "6.00", "2.00", ("75.0", "25.0")),  # 6 / (6 + 2)
        ("received", "4.00", "8.00", ("33.3", "66.7")),  # 4 / 12, 8 / 12
        ("total", "10.00", "10.00", ("50.0", "50.0")),  # 6 + 4, 2 + 8
    ],
)
def test_rate_grpc_messages(rate_grpc, to_details, to_ratings, shares):
    graph = apply_direction_options(_graph(), rate_grpc=rate_grpc)
    edges = _edges(graph)
    details, ratings = edges[(PP, svc("details"), "grpc")], edges[(PP, svc("ratings"), "grpc")]
    assert details["traffic"]["rates"]["grpc"] == to_details and ratings["traffic"]["rates"]["grpc"] == to_ratings
    assert (details["traffic"]["rates"]["grpcPercentReq"], ratings["traffic"]["rates"]["grpcPercentReq"]) == shares
    # Messages carry no status: no error rates, no response breakdown.
    assert "grpcErr" not in ratings["traffic"]["rates"] and "responses" not in ratings["traffic"]
    total = float(to_details) + float(to_ratings)
    assert _node_rates(graph, PP)["grpc"] == {"grpcOut": f"{total:.2f}"}
    assert _node_rates(graph, DETAILS)["grpc"] == {"grpcIn": to_details}
    # The other protocols are untouched: ratings-v1 still has its 1900 B/s of TCP in.
    assert _node_rates(graph, RATINGS)["tcp"] == {"tcpIn": "1900.00"}
    assert "warning" not in graph


@pytest.mark.parametrize(("rate_tcp", "v1", "into_ratings"), [("sent", "1000", "1300"), ("received", "500", "600")])
def test_rate_tcp_direction(rate_tcp, v1, into_ratings):
    graph = apply_direction_options(_graph(), rate_tcp=rate_tcp)
    edges = _edges(graph)
    from_v1 = edges[(REVIEWS_V1, svc("ratings"), "tcp")]
    assert from_v1["traffic"]["rates"]["tcp"] == f"{v1}.00" and from_v1["throughput"] == v1
    assert edges[(svc("ratings"), RATINGS, "tcp")]["traffic"]["rates"]["tcp"] == f"{into_ratings}.00"
    assert _node_rates(graph, RATINGS)["tcp"] == {"tcpIn": f"{into_ratings}.00"}
    assert _node_rates(graph, REVIEWS_V1)["tcp"] == {"tcpOut": f"{v1}.00"}
    # gRPC stays requests: productpage's 4 requests/s out.
    assert _node_rates(graph, PP)["grpc"]["grpcOut"] == "4.00"


def test_rate_tcp_total_and_grpc_requests_are_the_stored_graph():
    stored = _graph()
    assert apply_direction_options(stored, rate_tcp="total", rate_grpc="requests") == stored


@pytest.mark.parametrize(("kind", "expected"), [("request", "2000"), ("response", "50000")])
def test_throughput_type(kind, expected):
    edges = _edges(apply_direction_options(_graph(), throughput_type=kind))
    assert edges[(GATEWAY, svc("productpage"), "http")]["throughput"] == expected
    assert edges[(svc("productpage"), f"wl|{CLUSTER}|{NS}|productpage-v1", "http")]["throughput"] == expected
    assert edges[(REVIEWS_V1, svc("ratings"), "tcp")]["throughput"] == "1500"  # tcp edges keep theirs


def test_an_edge_without_direction_keys_keeps_its_rate_and_says_so():
    graph = _graph()
    for edge in graph["elements"]["edges"]:  # as a snapshot stored before directions were kept
        for key in ("tcpSent", "tcpReceived"):
            edge["data"]["traffic"].get("rates", {}).pop(key, None)
    answer = apply_direction_options(graph, rate_tcp="sent")
    assert _edges(answer)[(REVIEWS_V1, svc("ratings"), "tcp")]["traffic"]["rates"]["tcp"] == "1500.00"
    assert "tcp edge(s) without tcpSent or tcpReceived" in answer["warning"]
    # reviews-v1 → ratings, reviews-v2 → ratings, ratings → ratings-v1.
    assert answer["warning"].startswith("3 tcp edge(s)")


def test_direction_rows_create_no_edge_of_their_own():
    rows = direction_rows()
    # Messages of a gRPC call no request row reports (productpage → reviews): no edge appears for them.
    extra = [{"metric": dict(labels("productpage", "reviews-v1", "reviews", protocol="grpc")), "value": [0, "9"]}]
    rows = replace(rows, grpc_sent=rows.grpc_sent + extra)
    options = GraphOptions(graph_type="workload", namespaces=frozenset({NS}), id_style="readable")
    edges = _edges(build_graph(build_graph_inputs(rows), options, 0, 60))
    assert not [key for key in edges if key[1] in {svc("reviews"), REVIEWS_V1}]
    assert edges[(PP, svc("details"), "grpc")]["traffic"]["rates"]["grpcSent"] == "6.00"  # the others still add
