"""Answers derived from a stored graph (``topology.graph.derive``), against hand-derived expected graphs.

The stored graph below is a workload graph with injected service nodes (ids readable):

    gw ─10─▶ svc:productpage ─10─▶ productpage ─6─▶ svc:reviews ─6─▶ reviews-v1
                                        │    tester ─2─▶ svc:reviews ─2 (0.5 5xx)─▶ reviews-v2
                                        └─4─▶ svc:details ─3.8─▶ details   (0.2/s reached no workload)
"""

from __future__ import annotations

from typing import Any

import pytest

from topology.graph.derive import NodeRef, collapse_service_nodes, focus_graph
from topology.graph.rate_options import apply_rate_options, pick_response_time


def _node(node_id: str, node_type: str, namespace: str = "bookinfo", **data: Any) -> dict[str, Any]:
    return {"data": {"id": node_id, "nodeType": node_type, "cluster": "c1", "namespace": namespace, **data}}


def _edge(source: str, target: str, rate: str, **rates: str) -> dict[str, Any]:
    return {
        "data": {
            "id": f"{source}>{target}",
            "source": source,
            "target": target,
            "traffic": {"protocol": "http", "rates": {"http": rate, **rates}},
        }
    }


def stored_graph() -> dict[str, Any]:
    return {
        "timestamp": 1700000000,
        "duration": 300,
        "graphType": "workload",
        "elements": {
            "nodes": [
                _node("gw", "workload", "istio-system", workload="istio-ingressgateway"),
                _node("svc-pp", "service", service="productpage"),
                _node("pp", "workload", workload="productpage-v1", app="productpage", version="v1"),
                _node("tester", "workload", workload="tester"),
                _node(
                    "svc-rev", "service", service="reviews", hasVS={"hostnames": ["reviews"]}, hasTrafficShifting=True
                ),
                _node("rv1", "workload", workload="reviews-v1", app="reviews", version="v1"),
                _node("rv2", "workload", workload="reviews-v2", app="reviews", version="v2"),
                _node("svc-det", "service", service="details"),
                _node("det", "workload", workload="details-v1", app="details", version="v1"),
                _node("svc-idle", "service", service="ratings", isIdle=True),
            ],
            "edges": [
                _edge("gw", "svc-pp", "10.00"),
                _edge("svc-pp", "pp", "10.00"),
                _edge("pp", "svc-rev", "6.00"),
                _edge("tester", "svc-rev", "2.00"),
                _edge("svc-rev", "rv1", "6.00"),
                _edge("svc-rev", "rv2", "2.00", http5xx="0.50", httpPercentErr="25.0"),
                _edge("pp", "svc-det", "4.00"),
                _edge("svc-det", "det", "3.80"),
            ],
        },
    }


def _edges(graph: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (e["data"]["source"], e["data"]["target"]): e["data"]["traffic"]["rates"] for e in graph["elements"]["edges"]
    }


def _node_ids(graph: dict[str, Any]) -> set[str]:
    return {n["data"]["id"] for n in graph["elements"]["nodes"]}


def test_collapse_service_nodes_draws_callers_to_workloads() -> None:
    graph = collapse_service_nodes(stored_graph())
    edges = _edges(graph)
    # productpage: one caller, one backend that got all 10/s: the caller's edge re-targeted.
    assert edges[("gw", "pp")]["http"] == "10.00"
    # reviews: two callers (6 and 2 of 8/s), two backends: each backend's edge scaled by the caller's share.
    assert edges[("pp", "rv1")]["http"] == "4.50"  # 6 x 6/8
    assert edges[("pp", "rv2")]["http"] == "1.50"  # 2 x 6/8
    assert edges[("pp", "rv2")]["http5xx"] == "0.38"  # 0.5 x 6/8 = 0.375
    assert edges[("pp", "rv2")]["httpPercentErr"] == "25.0"  # the backend's error mix stays
    assert edges[("tester", "rv1")]["http"] == "1.50"  # 6 x 2/8
    assert edges[("tester", "rv2")]["http"] == "0.50"
    # details: one caller: the backend's 3.8/s, and the 0.2/s that reached no workload stays on the service.
    assert edges[("pp", "det")]["http"] == "3.80"
    assert edges[("pp", "svc-det")]["http"] == "0.20"
    # Request shares over productpage's 10/s out: 4.5, 1.5, 3.8 and 0.2.
    assert [edges[("pp", t)]["httpPercentReq"] for t in ("rv1", "rv2", "det", "svc-det")] == [
        "45.0",
        "15.0",
        "38.0",
        "2.0",
    ]
    assert _node_ids(graph) == {"gw", "pp", "tester", "rv1", "rv2", "det", "svc-det"}
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    # The service's flags and name move to the workloads behind it.
    assert nodes["rv1"]["hasVS"] == {"hostnames": ["reviews"]} and nodes["rv1"]["hasTrafficShifting"] is True
    assert nodes["rv2"]["destServices"] == [{"cluster": "c1", "namespace": "bookinfo", "name": "reviews"}]


def test_collapse_keeps_a_service_without_backends_and_the_service_graph() -> None:
    graph = stored_graph()
    graph["elements"]["edges"] = [_edge("pp", "svc-det", "4.00")]
    collapsed = collapse_service_nodes(graph)
    assert _edges(collapsed) == {("pp", "svc-det"): {"http": "4.00", "httpPercentReq": "100.0"}}
    graph["graphType"] = "service"
    assert collapse_service_nodes(graph) == graph


def test_collapse_leaves_the_stored_graph_unchanged() -> None:
    graph = stored_graph()
    before = repr(graph)
    collapse_service_nodes(graph)
    focus_graph(graph, NodeRef("workload", "bookinfo", "reviews-v2"))
    assert repr(graph) == before


def test_workload_node_graph_keeps_callers_through_its_service() -> None:
    graph = focus_graph(stored_graph(), NodeRef("workload", "bookinfo", "reviews-v2"))
    edges = _edges(graph)
    # reviews-v2 got 2 of the service's 8/s: each caller's edge to the service scaled by 1/4.
    assert set(edges) == {("svc-rev", "rv2"), ("pp", "svc-rev"), ("tester", "svc-rev")}
    assert edges[("pp", "svc-rev")]["http"] == "1.50"
    assert edges[("tester", "svc-rev")]["http"] == "0.50"
    nodes = {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}
    assert nodes["rv2"]["isFocus"] is True and "isFocus" not in nodes["pp"]
    # Node rates are the sums of the edges drawn.
    assert nodes["rv2"]["traffic"] == [{"protocol": "http", "rates": {"httpIn": "2.00", "httpIn5xx": "0.50"}}]
    assert nodes["pp"]["traffic"] == [{"protocol": "http", "rates": {"httpOut": "1.50"}}]


def test_workload_node_graph_keeps_callees_through_their_service() -> None:
    graph = focus_graph(stored_graph(), NodeRef("workload", "bookinfo", "productpage-v1"))
    edges = _edges(graph)
    # In: gw → productpage service → productpage (the service has one backend: factor 1).
    # Out: productpage sent 6 of reviews' 8/s, so 3/4 of each reviews backend edge; all of details'.
    assert edges[("gw", "svc-pp")]["http"] == "10.00"
    assert edges[("svc-rev", "rv1")]["http"] == "4.50"
    assert edges[("svc-rev", "rv2")]["http"] == "1.50"
    assert edges[("svc-det", "det")]["http"] == "3.80"
    assert ("tester", "svc-rev") not in edges
    assert "tester" not in _node_ids(graph)


def pairs_graph() -> dict[str, Any]:
    """The stored graph's twin without service nodes: what each caller sent each workload (not the service's split:
    productpage sent reviews-v2 0.5 of its 6/s, tester 1.5 of its 2/s, with all of v2's 503s)."""
    graph = stored_graph()
    nodes = [n for n in graph["elements"]["nodes"] if n["data"]["nodeType"] != "service"]
    edges = [
        _edge("gw", "pp", "10.00"),
        _edge("pp", "rv1", "5.50"),
        _edge("pp", "rv2", "0.50"),
        _edge("tester", "rv1", "0.50"),
        _edge("tester", "rv2", "1.50", http5xx="0.50"),
        _edge("pp", "det", "3.80"),
    ]
    return {**graph, "elements": {"nodes": nodes, "edges": edges}}


def test_node_graphs_take_each_pairs_own_traffic_through_a_service() -> None:
    behind = _edges(focus_graph(stored_graph(), NodeRef("workload", "bookinfo", "reviews-v2"), pairs_graph()))
    # Proportionally (above) 1.50 and 0.50; the pairs say 0.50 and 1.50, the 503s all tester's.
    assert behind[("pp", "svc-rev")]["http"] == "0.50" and "http5xx" not in behind[("pp", "svc-rev")]
    assert behind[("tester", "svc-rev")] == {"http": "1.50", "http5xx": "0.50", "httpPercentReq": "100.0"}
    assert behind[("svc-rev", "rv2")]["http"] == "2.00"
    caller = _edges(focus_graph(stored_graph(), NodeRef("workload", "bookinfo", "productpage-v1"), pairs_graph()))
    # Proportionally 4.50 and 1.50; details' 0.2/s that reached no workload is not productpage's traffic to details-v1.
    assert caller[("svc-rev", "rv1")]["http"] == "5.50" and caller[("svc-rev", "rv2")]["http"] == "0.50"
    assert caller[("gw", "svc-pp")]["http"] == "10.00" and caller[("svc-det", "det")]["http"] == "3.80"


def test_node_graphs_stay_proportional_where_a_pair_used_several_services() -> None:
    graph, pairs = stored_graph(), pairs_graph()
    # reviews-v2 also behind a second service that tester calls: tester → reviews-v2 no longer says which service.
    graph["elements"]["nodes"].append(_node("svc-canary", "service", service="reviews-canary"))
    graph["elements"]["edges"] += [_edge("tester", "svc-canary", "1.00"), _edge("svc-canary", "rv2", "1.00")]
    pairs["elements"]["edges"][4] = _edge("tester", "rv2", "2.50", http5xx="0.50")
    edges = _edges(focus_graph(graph, NodeRef("workload", "bookinfo", "reviews-v2"), pairs))
    # reviews-v2 got 2 of reviews' 8/s: each caller's edge to it scaled by 1/4, as without the pairs.
    assert edges[("pp", "svc-rev")]["http"] == "1.50" and edges[("tester", "svc-rev")]["http"] == "0.50"
    assert edges[("tester", "svc-canary")]["http"] == "1.00"  # the canary service's only backend: all of it


def test_service_and_app_node_graphs() -> None:
    service = focus_graph(stored_graph(), NodeRef("service", "bookinfo", "reviews"))
    assert set(_edges(service)) == {("pp", "svc-rev"), ("tester", "svc-rev"), ("svc-rev", "rv1"), ("svc-rev", "rv2")}
    assert _edges(service)[("pp", "svc-rev")]["http"] == "6.00"  # a service's edges are exact
    app = focus_graph(stored_graph(), NodeRef("app", "bookinfo", "reviews"))
    assert {n["data"]["id"] for n in app["elements"]["nodes"] if n["data"].get("isFocus")} == {"rv1", "rv2"}
    version = focus_graph(stored_graph(), NodeRef("app", "bookinfo", "reviews", version="v1"))
    assert {n["data"]["id"] for n in version["elements"]["nodes"] if n["data"].get("isFocus")} == {"rv1"}
    assert _edges(version)[("pp", "svc-rev")]["http"] == "4.50"  # 6 of 8/s went to v1: 6 x 6/8
    missing = focus_graph(stored_graph(), NodeRef("workload", "other", "reviews-v1"))
    assert missing["elements"] == {"nodes": [], "edges": []}


def test_rate_http_none_leaves_http_out() -> None:
    graph = stored_graph()
    graph["elements"]["edges"].append(
        {"data": {"id": "t", "source": "pp", "target": "det", "traffic": {"protocol": "tcp", "rates": {"tcp": "90"}}}}
    )
    for node in graph["elements"]["nodes"]:
        node["data"]["traffic"] = [{"protocol": "http", "rates": {"httpIn": "1.00"}}]
    shown = apply_rate_options(graph, rate_http="none")
    assert list(_edges(shown)) == [("pp", "det")]
    assert _node_ids(shown) == {"pp", "det"}
    assert apply_rate_options(graph) == graph


@pytest.mark.parametrize(("stat", "expected"), [("avg", "12"), ("p99", "80"), ("p50", None)])
def test_response_time_statistic(stat: str, expected: str | None) -> None:
    graph = stored_graph()
    graph["elements"]["edges"][0]["data"].update(
        responseTime="40", responseTimes={"avg": "12.40", "p95": "40.00", "p99": "80.00"}
    )
    edge = pick_response_time(graph, stat)["elements"]["edges"][0]["data"]
    assert edge.get("responseTime") == expected
