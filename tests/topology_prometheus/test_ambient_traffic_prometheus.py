"""Kiali's ``ambientTraffic`` (none, ztunnel, waypoint, total) on a real Prometheus, and through the stored-snapshot
API.

The rows of ``traffic_series`` (A1..A3, Z1..Z3, M1, M2, B1..B6 in its docstring) are backfilled with promtool; ztunnel's
series carry ``app="ztunnel"`` as Prometheus' relabelling of the ztunnel pod gives them.  Every expected number is
worked out by hand in the comments (rates are constant: ``increase / 300 s``).  What each option reads (Kiali's
``GetReporter`` / ``GetApp``): ``total`` everything, ``waypoint`` no ztunnel row, ``ztunnel`` no waypoint report,
``none`` neither; the reporter rule then applies to the rows read.  The sidecar rows (``fidelity_series``) are the
near-identical case the option does not touch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from clients.prometheus import GraphRows, PrometheusClient
from inventory.sync import sync_cluster
from tests.support.prometheus import backfilled_client
from tests.topology_prometheus import fidelity_series
from tests.topology_prometheus.fidelity_series import AT, WINDOW
from tests.topology_prometheus.test_traffic_rules_prometheus import (
    INGRESS,
    WAYPOINT,
    WEB,
    RowsSource,
    app,
    by_id,
    svc,
    wire,
)
from tests.topology_prometheus.traffic_series import HOME, NS, build_openmetrics
from topology.graph import MeshContext, build_graph_queries
from topology.graph.ambient_options import apply_ambient_traffic
from topology.snapshots import take_snapshot
from topology.telemetry.rows import build_graph_query_parts

pytestmark = pytest.mark.prometheus

OPTIONS = ("none", "ztunnel", "waypoint", "total")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusClient]:
    with backfilled_client(build_openmetrics(), tmp_path_factory.mktemp("ambient-tsdb")) as client:
        yield client


@pytest.fixture(scope="module")
def rows(prometheus: PrometheusClient) -> GraphRows:
    return prometheus.fetch_graph_rows(build_graph_query_parts(build_graph_queries([NS], WINDOW)), at=AT)


def rates_of(graph: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    _, edges = by_id(graph)
    return {key: data["traffic"]["rates"][key[2]] for key, data in edges.items()}


#: The edges no option changes (versionedApp, readable ids): M1 into west's payments, M2 into search (cluster
#: inferred), B2 to PassthroughCluster, B3/B4 through the egress gateway, B6 from the unknown caller.
UNTOUCHED = {
    (WEB, svc("payments", "west"), "http"): "1.00",
    (WEB, svc("search"), "http"): "0.50",
    (WEB, svc("PassthroughCluster", HOME, "unknown"), "http"): "0.25",
    ("unknown", svc("web"), "http"): "1.00",
}


@pytest.mark.parametrize("option", OPTIONS)
def test_each_option_draws_the_layers_it_reads(rows: GraphRows, option: str):
    graph = apply_ambient_traffic(wire(rows), option)
    nodes, edges = by_id(graph)
    rates = rates_of(graph)
    reads_waypoint, reads_ztunnel = option in ("waypoint", "total"), option in ("ztunnel", "total")
    # A1 ingress -> web 2/s: the waypoint's report (waypoint, total) or the gateway's own (none, ztunnel): 2.00 either
    # way, never 4.00; web then gets A1 2 + B6 1 = 3/s.
    assert rates[(INGRESS, svc("web"), "http")] == "2.00"
    assert rates[(svc("web"), app("web"), "http")] == "3.00"
    # A2 + A3 web -> cart, reported by the waypoint only: 3.5/s, 0.5 of it 503 (14.3 %) when waypoints are read.
    to_cart = edges.get((WEB, svc("cart"), "http"))
    if reads_waypoint:
        assert to_cart is not None
        assert (to_cart["traffic"]["rates"]["http5xx"], to_cart["traffic"]["rates"]["httpPercentErr"]) == (
            "0.50",
            "14.3",
        )
        assert rates[(svc("cart"), app("cart"), "http")] == "3.50"
    else:
        assert to_cart is None and (svc("cart"), app("cart"), "http") not in edges
    # Z1, Z2 through the waypoint (400 + 100 B/s each) and Z3 cart -> db (1000 + 3000 B/s once): ztunnel's rows only.
    tcp = {key: value for key, value in rates.items() if key[2] == "tcp"}
    if reads_ztunnel:
        assert tcp == {
            (WEB, WAYPOINT, "tcp"): "500.00",
            (WAYPOINT, app("cart"), "tcp"): "500.00",
            (app("cart"), svc("db"), "tcp"): "4000.00",
            (svc("db"), app("db"), "tcp"): "4000.00",
        }
        assert edges[(app("cart"), svc("db"), "tcp")]["throughput"] == "4000"
    else:
        assert tcp == {}
    for key, value in UNTOUCHED.items():
        assert rates[key] == value, key
    # web's http out: M1 1 + M2 0.5 + B2 0.25 = 1.75/s, plus A2 + A3 3.5 with waypoints = 5.25/s; M1's share 1/5.25 =
    # 19.0 %, or 1/1.75 = 57.1 %.
    web_out = next(t["rates"] for t in nodes[WEB]["traffic"] if t["protocol"] == "http")["httpOut"]
    share = edges[(WEB, svc("payments", "west"), "http")]["traffic"]["rates"]["httpPercentReq"]
    assert (web_out, share) == (("5.25", "19.0") if reads_waypoint else ("1.75", "57.1"))
    # Nodes left without an edge go: with neither layer, cart, db, their services and the waypoint; with waypoints
    # only, the waypoint and db (cart still gets its http); with ztunnel only, cart's service (cart keeps its tcp).
    gone = {
        "none": {WAYPOINT, app("cart"), app("db"), svc("cart"), svc("db")},
        "waypoint": {WAYPOINT, app("db"), svc("db")},
        "ztunnel": {svc("cart")},
        "total": set(),
    }[option]
    every = {WAYPOINT, app("cart"), app("db"), svc("cart"), svc("db"), WEB, INGRESS}
    assert every - set(nodes) == gone


def test_total_is_the_stored_graph(rows: GraphRows):
    stored = wire(rows)
    assert apply_ambient_traffic(stored, "total")["elements"] == stored["elements"]


def test_the_option_changes_nothing_in_a_sidecar_mesh(tmp_path_factory: pytest.TempPathFactory):
    # Near-identical: fidelity_series' sidecar rows (source and destination reports, no waypoint, no ztunnel marker):
    # every option reads all of them, so every option draws the stored graph, byte for byte.
    with backfilled_client(fidelity_series.build_openmetrics(), tmp_path_factory.mktemp("sidecar-tsdb")) as client:
        sidecar_rows = client.fetch_graph_rows(
            build_graph_query_parts(build_graph_queries([fidelity_series.NS], WINDOW)), at=AT
        )
    stored = wire(sidecar_rows, MeshContext())
    assert stored["elements"]["edges"] and not [e for e in stored["elements"]["edges"] if "ambientParts" in e["data"]]
    for option in OPTIONS:
        assert apply_ambient_traffic(stored, option) == stored, option


@pytest.mark.django_db
def test_the_stored_snapshot_api_answers_each_option(rows: GraphRows, cluster: Any, client: Any):
    # The simulator's inventory has no waypoint in `shop`: the waypoint is an ordinary app behind cart's service
    # there, so Z1 is web -> cart (service) -> waypoint and Z2 waypoint -> cart (service) -> cart, 500 B/s each hop.
    sync_cluster(cluster.pk)
    take_snapshot(cluster.pk, source=RowsSource(rows))

    def read(option: str | None, path: str = "/api/v1/graph", **extra: str) -> dict[tuple[str, str, str], str]:
        query = {"namespaces": NS, "graphType": "versionedApp", "duration": "5m", **extra}
        if option is not None:
            query["ambientTraffic"] = option
        response = client.get(path, query)
        assert response.status_code == 200, response.content
        graph = json.loads(response.content)
        names = {
            n["data"]["id"]: n["data"].get("service") or n["data"].get("app") or n["data"]["nodeType"]
            for n in graph["elements"]["nodes"]
        }
        return {
            (names[e["data"]["source"]], names[e["data"]["target"]], e["data"]["traffic"]["protocol"]): e["data"][
                "traffic"
            ]["rates"][e["data"]["traffic"]["protocol"]]
            for e in graph["elements"]["edges"]
        }

    default = read(None)
    assert default == read("total")
    # total: A1 2/s (the waypoint's), A2+A3 3.5/s, Z1/Z2 500 B/s per hop, Z3 4000 B/s.
    expected_total = {
        ("istio-ingressgateway", "web", "http"): "2.00",
        ("web", "cart", "http"): "3.50",
        ("cart", "db", "tcp"): "4000.00",
        ("waypoint", "cart", "tcp"): "500.00",
        ("web", "payments", "http"): "1.00",
    }
    for key, value in expected_total.items():
        assert default[key] == value, key
    # waypoint: no ztunnel row, so no tcp edge at all; the L7 edges stay.
    waypoint = read("waypoint")
    assert not [key for key in waypoint if key[2] == "tcp"]
    assert (waypoint[("istio-ingressgateway", "web", "http")], waypoint[("web", "cart", "http")]) == ("2.00", "3.50")
    # ztunnel: no waypoint report: A2/A3 go; A1 is the gateway's own report (2.00); the tcp edges stay.
    ztunnel = read("ztunnel")
    assert ("web", "cart", "http") not in ztunnel and ztunnel[("istio-ingressgateway", "web", "http")] == "2.00"
    assert (ztunnel[("cart", "db", "tcp")], ztunnel[("waypoint", "cart", "tcp")]) == ("4000.00", "500.00")
    # none: neither layer: what the sidecars and gateways reported alone; A1 still 2.00, M1 still 1.00.
    none = read("none")
    assert none == {key: value for key, value in ztunnel.items() if key[2] == "http"}
    assert (none[("istio-ingressgateway", "web", "http")], none[("web", "payments", "http")]) == ("2.00", "1.00")

    # The option applies to the graph stored without service nodes too (it is filtered before anything else): with
    # waypoints only, web -> cart 3.5/s straight and no tcp edge; with ztunnel only, cart -> db 4000 B/s straight and no
    # web -> cart request.
    flat_waypoint = read("waypoint", injectServiceNodes="false")
    assert flat_waypoint[("web", "cart", "http")] == "3.50" and not [k for k in flat_waypoint if k[2] == "tcp"]
    flat_ztunnel = read("ztunnel", injectServiceNodes="false")
    assert flat_ztunnel[("cart", "db", "tcp")] == "4000.00" and ("web", "cart", "http") not in flat_ztunnel
    assert read("total", injectServiceNodes="false")[("web", "cart", "http")] == "3.50"
    # And to node graphs (cart's: its callers and callees), before the focus: with waypoints only, web -> cart 3.5/s
    # and no tcp edge; with ztunnel only, cart -> db 4000 B/s and no request reaches cart.
    cart = f"/api/v1/namespaces/{NS}/applications/cart/graph"
    node_waypoint, node_ztunnel = read("waypoint", cart), read("ztunnel", cart)
    assert node_waypoint[("web", "cart", "http")] == "3.50" and not [k for k in node_waypoint if k[2] == "tcp"]
    assert node_ztunnel[("cart", "db", "tcp")] == "4000.00" and not [k for k in node_ztunnel if k[2] == "http"]


def test_the_api_refuses_an_unknown_option(client: Any, db: Any):
    response = client.get("/api/v1/graph", {"ambientTraffic": "sidecar"})
    assert response.status_code == 400 and b"ambientTraffic" in response.content
