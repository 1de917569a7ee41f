"""Kiali's graph options through the API, on stored snapshots of Bookinfo traffic (``tests.topology.bookinfo``).

The traffic, per second, counted once (the destination reports):

    gateway → productpage 10; productpage → details 10; productpage → reviews: v1 3, v2 3 (0.5 are 503), v3 4;
    reviews-v2 → ratings 3; reviews-v3 → ratings 4.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache

import topology.api
from inventory.sync import sync_cluster
from tests.topology.direction_traffic import direction_rows
from tests.topology_snapshots.test_snapshots_api import ScriptedSource
from topology.graph.derive import focus_graph
from topology.models import SnapshotGraph
from topology.snapshots import take_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(cluster):
    sync_cluster(cluster.pk)
    return take_snapshot(cluster.pk, source=ScriptedSource())


def _get(client, path: str = "/api/v1/graph", **params: Any) -> dict[str, Any]:
    response = client.get(path, {"graphType": "workload", "duration": "5m", **params})
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _name(data: dict[str, Any]) -> str:
    return data.get("workload") or f"svc:{data.get('service')}"


def _edges(graph: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``(source name, target name) -> rate`` (workloads by name, services as ``svc:<name>``)."""
    names = {n["data"]["id"]: _name(n["data"]) for n in graph["elements"]["nodes"] if not n["data"].get("isBox")}
    return {
        (names[e["data"]["source"]], names[e["data"]["target"]]): e["data"]["traffic"]["rates"]["http"]
        for e in graph["elements"]["edges"]
    }


def test_without_injected_service_nodes_callers_point_at_workloads(snapshot, client):
    graph = _get(client, injectServiceNodes="false")
    assert _edges(graph) == {
        ("istio-ingressgateway", "productpage-v1"): "10.00",
        ("productpage-v1", "details-v1"): "10.00",
        # one caller of reviews: each backend's edge is productpage's
        ("productpage-v1", "reviews-v1"): "3.00",
        ("productpage-v1", "reviews-v2"): "3.00",
        ("productpage-v1", "reviews-v3"): "4.00",
        # one backend of ratings that got all 7/s: each caller's edge re-targeted
        ("reviews-v2", "ratings-v1"): "3.00",
        ("reviews-v3", "ratings-v1"): "4.00",
    }
    assert not [n for n in graph["elements"]["nodes"] if n["data"]["nodeType"] == "service"]
    reviews_v2 = next(n["data"] for n in graph["elements"]["nodes"] if n["data"].get("workload") == "reviews-v2")
    assert {"cluster": reviews_v2["cluster"], "namespace": "bookinfo", "name": "reviews"} in reviews_v2["destServices"]
    # The default still injects them, and the stored answer is unchanged.
    assert ("productpage-v1", "svc:reviews") in _edges(_get(client))
    # A snapshot stored before the graphs without service nodes were: the same answer, derived from the stored graph
    # (exact here: each service has one caller or one backend).
    SnapshotGraph.objects.filter(inject_service_nodes=False).delete()
    cache.clear()
    derived = _get(client, injectServiceNodes="false")
    assert _edges(derived) == _edges(graph)
    assert not [n for n in derived["elements"]["nodes"] if n["data"]["nodeType"] == "service"]


def test_derived_answers_are_cached_per_snapshot(snapshot, client, monkeypatch):
    calls = []

    def counting(graph, node, pairs=None):
        calls.append(pairs is not None)
        return focus_graph(graph, node, pairs)

    monkeypatch.setattr(topology.api, "focus_graph", counting)
    path = "/api/v1/namespaces/bookinfo/workloads/reviews-v2/graph"
    first = _get(client, path)
    second = _get(client, path)
    # Derived once, with the graph stored without service nodes beside it.
    assert first["elements"] == second["elements"] and calls == [True]
    _get(client, path, graphType="app")  # another graph: derived anew
    assert len(calls) == 2
    cache.clear()
    _get(client, path)
    assert len(calls) == 3


def test_workload_node_graph_holds_the_node_its_callers_and_callees(snapshot, client):
    graph = _get(client, "/api/v1/namespaces/bookinfo/workloads/reviews-v2/graph")
    # In: productpage sent reviews-v2 3/s (through reviews, its only service). Out: reviews-v2 sent ratings-v1 3/s
    # (through ratings, its only service).
    assert _edges(graph) == {
        ("productpage-v1", "svc:reviews"): "3.00",
        ("svc:reviews", "reviews-v2"): "3.00",
        ("reviews-v2", "svc:ratings"): "3.00",
        ("svc:ratings", "ratings-v1"): "3.00",
    }
    focus = [n["data"] for n in graph["elements"]["nodes"] if n["data"].get("isFocus")]
    assert [d["workload"] for d in focus] == ["reviews-v2"]
    assert focus[0]["traffic"] == [
        {"protocol": "http", "rates": {"httpIn": "3.00", "httpIn5xx": "0.50", "httpOut": "3.00"}}
    ]


def test_service_app_and_versioned_app_node_graphs(snapshot, client):
    service = _get(client, "/api/v1/namespaces/bookinfo/services/reviews/graph")
    assert _edges(service) == {
        ("productpage-v1", "svc:reviews"): "10.00",
        ("svc:reviews", "reviews-v1"): "3.00",
        ("svc:reviews", "reviews-v2"): "3.00",
        ("svc:reviews", "reviews-v3"): "4.00",
    }
    app = _get(client, "/api/v1/namespaces/bookinfo/applications/reviews/graph", graphType="versionedApp")
    assert {n["data"].get("version") for n in app["elements"]["nodes"] if n["data"].get("isFocus")} == {
        "v1",
        "v2",
        "v3",
    }
    version = _get(
        client, "/api/v1/namespaces/bookinfo/applications/reviews/versions/v3/graph", graphType="versionedApp"
    )
    focus = [n["data"] for n in version["elements"]["nodes"] if n["data"].get("isFocus")]
    assert [(d["app"], d["version"]) for d in focus] == [("reviews", "v3")]
    # reviews-v3: 4 of reviews' 10/s in, all of its 4/s out to ratings (4 of ratings' 7/s).
    rates = sorted(e["data"]["traffic"]["rates"]["http"] for e in version["elements"]["edges"])
    assert rates == ["4.00", "4.00", "4.00", "4.00"]
    # Without service nodes: productpage → reviews-v3 → ratings.
    direct = _get(
        client,
        "/api/v1/namespaces/bookinfo/applications/reviews/versions/v3/graph",
        graphType="versionedApp",
        injectServiceNodes="false",
    )
    assert sorted(e["data"]["traffic"]["rates"]["http"] for e in direct["elements"]["edges"]) == ["4.00", "4.00"]


def test_node_graph_of_an_unknown_node_is_empty(snapshot, client):
    graph = _get(client, "/api/v1/namespaces/bookinfo/workloads/nothing-here/graph")
    assert graph["elements"]["edges"] == [] and graph["snapshot"]["id"] == snapshot.snapshot_id


def test_rate_options_and_response_time_statistic(snapshot, client):
    assert _get(client, rateHttp="none")["elements"]["edges"] == []
    for bad in ({"rateGrpc": "bytes"}, {"rateTcp": "requests"}, {"rateHttp": "bytes"}, {"responseTime": "p42"}):
        response = client.get("/api/v1/graph", bad)
        assert response.status_code == 400, bad
        assert next(iter(bad)) in response.json()["message"]
    # Without the direction options the stored graph is the answer, and nothing needs a warning.
    assert "warning" not in _get(client)
    plain = _get(client)["elements"]
    for params in ({"rateTcp": "total"}, {"rateGrpc": "requests"}):
        assert _get(client, **params)["elements"] == plain


@dataclass
class DirectionSource(ScriptedSource):
    """The rows of ``tests.topology.direction_traffic`` (gRPC messages, TCP and HTTP bytes by direction)."""

    def fetch_rows(self, namespaces, window, at):
        self.calls += 1
        return direction_rows()


@pytest.fixture
def direction_snapshot(cluster):
    sync_cluster(cluster.pk)
    return take_snapshot(cluster.pk, source=DirectionSource())


def _by_names(graph: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    names = {n["data"]["id"]: _name(n["data"]) for n in graph["elements"]["nodes"] if not n["data"].get("isBox")}
    return {
        (names[e["data"]["source"]], names[e["data"]["target"]], e["data"]["traffic"]["protocol"]): e["data"]
        for e in graph["elements"]["edges"]
    }


def _rate(edge: dict[str, Any]) -> str:
    traffic = edge["traffic"]
    return traffic["rates"][traffic["protocol"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # stored: gRPC requests/s, TCP bytes sent + received (what the page shows)
        ({}, {"grpc-details": "2.00", "grpc-ratings": "2.00", "tcp-v1": "1500.00", "tcp-in": "1900.00"}),
        ({"rateGrpc": "sent"}, {"grpc-details": "6.00", "grpc-ratings": "2.00"}),
        ({"rateGrpc": "received"}, {"grpc-details": "4.00", "grpc-ratings": "8.00"}),
        ({"rateGrpc": "total"}, {"grpc-details": "10.00", "grpc-ratings": "10.00"}),
        ({"rateTcp": "sent"}, {"tcp-v1": "1000.00", "tcp-in": "1300.00"}),  # 1000 + 300 into ratings
        ({"rateTcp": "received"}, {"tcp-v1": "500.00", "tcp-in": "600.00"}),  # 500 + 100
        ({"rateTcp": "total"}, {"tcp-v1": "1500.00", "tcp-in": "1900.00"}),
    ],
)
def test_direction_rate_options_through_the_api(direction_snapshot, client, params, expected):
    graph = _get(client, **params)
    edges = _by_names(graph)
    got = {
        "grpc-details": _rate(edges[("productpage-v1", "svc:details", "grpc")]),
        "grpc-ratings": _rate(edges[("productpage-v1", "svc:ratings", "grpc")]),
        "tcp-v1": _rate(edges[("reviews-v1", "svc:ratings", "tcp")]),
        "tcp-in": _rate(edges[("svc:ratings", "ratings-v1", "tcp")]),
    }
    assert {key: got[key] for key in expected} == expected
    assert "warning" not in graph


@pytest.mark.parametrize(("kind", "expected"), [("request", "2000"), ("response", "50000")])
def test_throughput_type_through_the_api(direction_snapshot, client, kind, expected):
    edge = _by_names(_get(client, throughputType=kind))[("istio-ingressgateway", "svc:productpage", "http")]
    assert edge["throughput"] == expected
    assert "throughput" not in _by_names(_get(client))[("istio-ingressgateway", "svc:productpage", "http")]
    assert client.get("/api/v1/graph", {"throughputType": "both"}).status_code == 400


def test_istio_config_flags_from_the_inventory(cluster, client):
    """Bookinfo's gateway VirtualService routes to productpage (hosts ``*``): Kiali matches it by its route."""
    from inventory.models import IstioObject

    sync_cluster(cluster.pk)
    common = {"cluster": cluster, "namespace": "bookinfo", "group": "networking.istio.io", "version": "v1"}
    IstioObject.objects.create(
        **common,
        kind="VirtualService",
        name="reviews",
        spec={"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]},
    )
    IstioObject.objects.create(
        **common,
        kind="DestinationRule",
        name="reviews",
        spec={
            "host": "reviews",
            "subsets": [
                {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"connectionPool": {"tcp": {}}}},
                {"name": "v3", "labels": {"version": "v3"}},
            ],
        },
    )
    take_snapshot(cluster.pk, source=ScriptedSource())
    graph = _get(client, graphType="versionedApp")
    nodes = [n["data"] for n in graph["elements"]["nodes"] if not n["data"].get("isBox")]
    service = {d["service"]: d for d in nodes if d["nodeType"] == "service"}
    assert service["reviews"]["hasVS"] and service["reviews"]["hasRequestRouting"] is True
    assert "hasTrafficShifting" not in service["reviews"]  # one destination per route
    assert service["reviews"]["hasCB"] is True  # the service node: any subset's breaker
    assert service["productpage"]["hasRequestRouting"] is True  # routed to by the gateway's VirtualService
    assert "hasCB" not in service["details"] and "hasVS" not in service["details"]
    versions = {d["version"]: d for d in nodes if d.get("app") == "reviews" and d["nodeType"] == "app"}
    assert versions["v2"].get("hasCB") is True
    assert "hasCB" not in versions["v1"] and "hasCB" not in versions["v3"]


def test_a_restricted_reader_gets_node_graphs_without_what_it_may_not_read(snapshot, django_user_model):
    """Granted bookinfo only: the gateway calling productpage is folded into the opaque restricted node."""
    from django.test import Client

    from accounts.models import RoleGrant

    user = django_user_model.objects.create_user("bob", "bob@example.com", "x")
    RoleGrant.objects.create(user=user, role="viewer", namespace="bookinfo")
    bob = Client()
    bob.force_login(user)
    graph = _get(bob, "/api/v1/namespaces/bookinfo/workloads/productpage-v1/graph")
    nodes = [n["data"] for n in graph["elements"]["nodes"] if not n["data"].get("isBox")]
    assert "istio-system" not in json.dumps(graph)
    assert [d for d in nodes if d.get("isRestricted")]  # the gateway's side, opaque
    assert {d.get("workload") for d in nodes if d["nodeType"] == "workload"} >= {"productpage-v1", "reviews-v1"}
    assert bob.get("/api/v1/namespaces/istio-system/workloads/istio-ingressgateway/graph").status_code == 403
