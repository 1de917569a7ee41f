"""Pure tests of the graph a user with only some namespaces sees: hidden namespaces fold into one opaque node."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.topology.bookinfo import bookinfo_requests, both_reporters
from topology.graph import GraphInputs, GraphOptions, build_graph
from topology.graph.filtering import filter_graph
from topology.graph.model import GraphType
from topology.graph.restriction import merge_edges, restrict_graph, restricted_node_id

ALL_BOXES = frozenset({"cluster", "namespace", "app"})


def _graph(graph_type: GraphType = "versionedApp", samples: list[Any] | None = None) -> dict[str, Any]:
    options = GraphOptions(
        graph_type=graph_type,
        namespaces=frozenset({"bookinfo", "istio-system"}),
        include_idle=True,
        box_by=ALL_BOXES,
        id_style="readable",  # ids that hold names: a leak through an id would show in the text
    )
    return build_graph(GraphInputs(requests=samples or bookinfo_requests()), options, 1000, 60)


def _nodes(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["data"]["id"]: n["data"] for n in graph["elements"]["nodes"]}


def _opaque(graph: dict[str, Any]) -> dict[str, Any]:
    (node,) = [d for d in _nodes(graph).values() if d.get("isRestricted")]
    return node


@pytest.mark.parametrize("graph_type", ["app", "versionedApp", "workload", "service"])
def test_a_hidden_caller_becomes_one_opaque_node_without_its_names(graph_type: GraphType) -> None:
    restricted = restrict_graph(_graph(graph_type), {"bookinfo"})
    text = json.dumps(restricted)
    assert "istio-system" not in text and "ingressgateway" not in text
    opaque = _opaque(restricted)
    assert opaque["id"] == restricted_node_id("east") and opaque["nodeType"] == "unknown"
    assert set(opaque) == {"id", "nodeType", "cluster", "isRestricted", "traffic"}  # no namespace, no name, no box
    assert opaque["traffic"] == [{"protocol": "http", "rates": {"httpOut": "10.00"}}]
    nodes = _nodes(restricted)
    assert all(e["data"]["source"] in nodes and e["data"]["target"] in nodes for e in restricted["elements"]["edges"])
    # Bookinfo itself is untouched: its edges are the stored ones.
    kept = {e["data"]["id"] for e in _graph(graph_type)["elements"]["edges"]}
    inside = [
        e for e in restricted["elements"]["edges"] if opaque["id"] not in (e["data"]["source"], e["data"]["target"])
    ]
    assert inside and all(e["data"]["id"] in kept for e in inside)


def test_traffic_into_hidden_namespaces_merges_into_one_edge_per_protocol() -> None:
    restricted = restrict_graph(_graph("workload"), {"istio-system"})
    text = json.dumps(restricted)
    for name in ("bookinfo", "productpage", "reviews", "details", "ratings"):
        assert name not in text
    opaque = _opaque(restricted)
    (edge,) = [e["data"] for e in restricted["elements"]["edges"]]
    assert (edge["target"], edge["traffic"]["protocol"]) == (opaque["id"], "http")
    assert edge["traffic"]["rates"]["http"] == "10.00"
    assert "hosts" not in json.dumps(edge) and "sourcePrincipal" not in edge and "destPrincipal" not in edge
    assert opaque["traffic"] == [{"protocol": "http", "rates": {"httpIn": "10.00"}}]


def test_edges_between_hidden_namespaces_disappear() -> None:
    restricted = restrict_graph(_graph("workload"), {"nothing-here"})
    assert restricted["elements"] == {"nodes": [], "edges": []}


def test_merged_edges_sum_rates_and_recompute_percentages() -> None:
    edges: list[Mapping[str, Any]] = [
        {
            "id": "a.hidden-1.http",
            "source": "a",
            "target": "hidden-1",
            "traffic": {
                "protocol": "http",
                "rates": {"http": "3.00", "http5xx": "1.00", "httpPercentErr": "33.3", "httpPercentReq": "30.0"},
                "responses": {"200": {"flags": {"-": "66.7"}, "hosts": {"secret.hidden.svc": "100.0"}}},
            },
            "responseTimes": {"avg": "10.00", "p95": "20.00"},
            "isMTLS": "100",
            "sourcePrincipal": "spiffe://cluster.local/ns/hidden/sa/secret",
            "healthStatus": "Degraded",
            "healthReason": "secret-v1: 5xx 33%",
        },
        {
            "id": "a.hidden-2.http",
            "source": "a",
            "target": "hidden-2",
            "traffic": {"protocol": "http", "rates": {"http": "1.00", "httpPercentReq": "10.0"}},
            "responseTimes": {"avg": "30.00", "p95": "90.00"},
            "healthStatus": "Healthy",
        },
    ]
    merged = merge_edges("a", "restricted-east", "http", edges)
    assert merged["traffic"]["rates"] == {
        "http": "4.00",
        "http5xx": "1.00",
        "httpPercentErr": "25.0",
        "httpPercentReq": "40.0",
    }
    assert merged["responseTimes"] == {"avg": "15.00", "p95": "90.00"}  # avg weighted by rate, p95 the maximum
    assert merged["isMTLS"] == "75" and merged["healthStatus"] == "Degraded"
    text = json.dumps(merged)
    assert "secret" not in text and "hidden" not in text
    assert len(merged["id"]) == 32


def test_a_merged_source_has_no_share_of_requests() -> None:
    edge = {
        "source": "h",
        "target": "a",
        "traffic": {"protocol": "grpc", "rates": {"grpc": "2", "grpcPercentReq": "50"}},
    }
    merged = merge_edges("restricted-east", "a", "grpc", [edge])
    assert "grpcPercentReq" not in merged["traffic"]["rates"]


def test_the_unknown_caller_stays_when_it_calls_a_granted_node() -> None:
    samples = [*bookinfo_requests(), *both_reporters("unknown", "productpage", "productpage", 2.0)]
    restricted = restrict_graph(_graph("workload", samples), {"bookinfo"})
    unknown = [d for d in _nodes(restricted).values() if d.get("nodeType") == "unknown" and not d.get("isRestricted")]
    assert len(unknown) == 1


def test_services_of_hidden_namespaces_leave_dest_services() -> None:
    graph = {
        "elements": {
            "nodes": [
                {
                    "data": {
                        "id": "w",
                        "nodeType": "workload",
                        "namespace": "mine",
                        "destServices": [
                            {"cluster": "east", "namespace": "mine", "name": "front"},
                            {"cluster": "east", "namespace": "theirs", "name": "secret"},
                        ],
                    }
                }
            ],
            "edges": [],
        }
    }
    (node,) = restrict_graph(graph, {"mine"})["elements"]["nodes"]
    assert node["data"]["destServices"] == [{"cluster": "east", "namespace": "mine", "name": "front"}]


def test_the_opaque_node_is_outside_when_namespaces_are_requested() -> None:
    restricted = restrict_graph(_graph("workload"), {"bookinfo"})
    narrowed = filter_graph(restricted, ["bookinfo"], include_idle=False, box_by=ALL_BOXES)
    opaque = _opaque(narrowed)
    assert opaque["isOutside"] is True and "parent" not in opaque
    boxes = [d for d in _nodes(narrowed).values() if d.get("isBox")]
    assert all(d.get("namespace") in ("bookinfo", "") for d in boxes)


def test_a_kept_edges_ambient_parts_name_no_hidden_host() -> None:
    # web -> cart, both granted: routing sent part of it to a host of a hidden namespace, and the waypoint's report of
    # that part (ambientParts, what ambientTraffic subtracts) names the same host: neither may reach the reader.
    secret = "secret.hidden.svc.cluster.local"
    responses = {"200": {"flags": {"-": "100.0"}, "hosts": {"cart.shop.svc.cluster.local": "50.0", secret: "50.0"}}}
    edge = {
        "id": "web.cart.http",
        "source": "web",
        "target": "cart",
        "traffic": {"protocol": "http", "rates": {"http": "2.00"}, "responses": responses},
        "ambientParts": {
            "waypoint,total": {
                "rates": {"http": "1.00"},
                "responses": {"200": {"flags": {"-": "1.00"}, "hosts": {secret: "1.00"}}},
            }
        },
    }
    nodes = [
        {"data": {"id": name, "nodeType": "workload", "cluster": "east", "namespace": "shop", "workload": name}}
        for name in ("web", "cart")
    ]
    graph = {"elements": {"nodes": nodes, "edges": [{"data": edge}]}}
    [kept] = restrict_graph(graph, {"shop"})["elements"]["edges"]
    assert "hidden" not in json.dumps(kept)
    assert kept["data"]["ambientParts"]["waypoint,total"]["rates"] == {"http": "1.00"}  # the amounts stay
